"""``update``: change the memory, CPU and pids limits or the restart policy of containers.

A running container gets the new limits at once (the helper writes its
cgroup), a stopped one at its next start; a new restart policy holds from its
next exit. Only the flags given change anything. Like docker, each container
is echoed as it was named, and a failure is reported without stopping the rest.
"""

from __future__ import annotations

import argparse
from typing import Any

from app.cli.command import Command, Context
from app.cli.options import UsageError, parse_cpus, parse_memory, parse_restart
from engine import Resources, SkiffError, check_resources

__all__ = ["UPDATE", "update_changes"]


def _pids(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise UsageError(f'invalid argument "{text}" for "--pids-limit" flag: strconv.ParseInt: '
                         f'parsing "{text}": invalid syntax') from None


def update_changes(args: argparse.Namespace) -> dict[str, Any]:
    """The engine's update arguments for the flags given (UsageError if one is bad)."""
    changes: dict[str, Any] = {}
    # As in docker, 0 memory or CPUs is "leave as it is"; 0 or -1 pids is "no limit".
    if args.memory is not None and parse_memory(args.memory):
        changes["memory"] = parse_memory(args.memory)
    if args.cpus is not None and parse_cpus(args.cpus):
        changes["nano_cpus"] = parse_cpus(args.cpus)
    if args.pids_limit is not None:
        changes["pids_limit"] = _pids(args.pids_limit)
    if args.cpu_shares is not None:
        try:
            changes["cpu_shares"] = int(args.cpu_shares)
        except ValueError:
            raise UsageError(f'invalid argument "{args.cpu_shares}" for "-c, --cpu-shares" '
                             f'flag: strconv.ParseInt: parsing "{args.cpu_shares}": invalid '
                             "syntax") from None
    if args.restart is not None:
        changes["restart_policy"] = parse_restart(args.restart)
    return changes


def _check(ctx: Context) -> None:
    args = ctx.args
    changes = update_changes(args)
    if all(flag is None for flag in (args.memory, args.cpus, args.pids_limit, args.restart,
                                     args.cpu_shares)):
        raise UsageError("you must provide one or more flags when using this command", 1)
    pids = changes.get("pids_limit")
    check_resources(Resources(memory=changes.get("memory") or None,
                              nano_cpus=changes.get("nano_cpus") or None,
                              pids_limit=pids if pids and pids > 0 else None))


async def cmd_update(ctx: Context) -> int:
    changes = update_changes(ctx.args)
    for ref in ctx.args.containers:
        try:
            await ctx.engine.containers.update(ref, **changes)
        except SkiffError as exc:
            ctx.daemon_error(exc)
            continue
        ctx.out.write(ref + "\n")
        ctx.out.flush()
    return ctx.status


def _b_update(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cpus", default=None, help="Number of CPUs")
    p.add_argument("-c", "--cpu-shares", default=None, help="CPU shares (relative weight)")
    p.add_argument("-m", "--memory", default=None, help="Memory limit")
    p.add_argument("--pids-limit", default=None,
                   help="Tune container pids limit (set -1 for unlimited)")
    p.add_argument("--restart", default=None,
                   help="Restart policy to apply when a container exits")
    p.add_argument("containers", nargs="+", metavar="CONTAINER")


UPDATE = Command("update", "Update configuration of one or more containers", _b_update,
                 cmd_update, "CONTAINER [CONTAINER...]", precheck=_check)
