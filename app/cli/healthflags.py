"""docker's healthcheck flags for create and run: --health-* and --no-healthcheck."""

from __future__ import annotations

import argparse

from app.cli.options import UsageError
from engine import Healthcheck, InvalidArgument, parse_duration

__all__ = ["add_health_flags", "health_flags"]


def add_health_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--health-cmd", default="", help="Command to run to check health")
    for flag, what in (("interval", "Time between running the check (ms|s|m|h)"),
                       ("timeout", "Maximum time to allow one check to run (ms|s|m|h)"),
                       ("start-period", "Start period for the container to initialize before "
                                        "starting health-retries countdown (ms|s|m|h)"),
                       ("start-interval", "Time between running the check during the start "
                                          "period (ms|s|m|h)")):
        p.add_argument(f"--health-{flag}", default="0s", help=what)
    p.add_argument("--health-retries", type=int, default=0,
                   help="Consecutive failures needed to report unhealthy")
    p.add_argument("--no-healthcheck", action="store_true",
                   help="Disable any container-specified HEALTHCHECK")


def health_flags(args: argparse.Namespace) -> Healthcheck | None:
    """docker's --health-* and --no-healthcheck flags (None: the image's healthcheck)."""
    durations: dict[str, int] = {}
    for name in ("interval", "timeout", "start_period", "start_interval"):
        text = getattr(args, f"health_{name}", "0s")
        ns = parse_duration(text) if text else 0
        if ns is None:
            raise UsageError(f'invalid argument "{text}" for "--health-{name.replace("_", "-")}"'
                             f' flag: time: invalid duration "{text}"')
        durations[name] = ns
    retries = getattr(args, "health_retries", 0)
    given = bool(getattr(args, "health_cmd", "")) or retries != 0 or any(durations.values())
    if getattr(args, "no_healthcheck", False):
        if given:
            raise UsageError("--no-healthcheck conflicts with --health-* options")
        return Healthcheck(["NONE"])
    if not given:
        return None
    for name, value in durations.items():
        if value < 0:
            raise UsageError(f"--health-{name.replace('_', '-')} cannot be negative")
    if retries < 0:
        raise UsageError("--health-retries cannot be negative")
    try:
        return Healthcheck(["CMD-SHELL", args.health_cmd] if args.health_cmd else [],
                           retries=retries, **durations)
    except InvalidArgument as exc:
        raise UsageError(str(exc)) from None
