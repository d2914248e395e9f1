"""create and run's flags, and the ContainerConfig they ask for.

Flag values are checked before the engine is asked anything: a bad flag exits
125 without side effects (``check_create_flags`` runs as the commands'
precheck), then the engine's own rules for names and settings apply.
"""

from __future__ import annotations

import argparse
import os
from typing import Any, TextIO

from app.cli.command import Context
from app.cli.healthflags import add_health_flags, health_flags
from app.cli.hostflags import add_host_flags, host_flags
from app.cli.options import (
    UsageError,
    exposed_ports,
    parse_cpus,
    parse_env,
    parse_env_file,
    parse_labels,
    parse_memory,
    parse_mount,
    parse_publish,
    parse_restart,
    parse_security_opts,
    parse_signal,
    parse_tmpfs,
    parse_userns,
    parse_volume,
)
from engine import ContainerConfig, Resources, check_config, check_container_name


def add_create_flags(p: argparse.ArgumentParser, run: bool) -> None:
    if run:
        p.add_argument("-d", "--detach", action="store_true",
                       help="Run container in background and print container ID")
    p.add_argument("-i", "--interactive", action="store_true",
                   help="Keep STDIN open even if not attached")
    p.add_argument("-t", "--tty", action="store_true", help="Allocate a pseudo-TTY")
    p.add_argument("--rm", action="store_true",
                   help="Automatically remove the container when it exits")
    p.add_argument("--name", default="", help="Assign a name to the container")
    p.add_argument("-e", "--env", action="append", default=[], metavar="KEY=VALUE",
                   help="Set environment variables")
    p.add_argument("--env-file", action="append", default=[], metavar="FILE",
                   help="Read in a file of environment variables")
    p.add_argument("-w", "--workdir", default="", help="Working directory inside the container")
    p.add_argument("-u", "--user", default="",
                   help="Username or UID (format: <name|uid>[:<group|gid>])")
    p.add_argument("--entrypoint", default=None,
                   help="Overwrite the default ENTRYPOINT of the image")
    p.add_argument("-h", "--hostname", default="", help="Container host name")
    p.add_argument("-m", "--memory", default=None, help="Memory limit (units b, k, m, g)")
    p.add_argument("--cpus", default=None, help="Number of CPUs")
    p.add_argument("--pids-limit", default=None,
                   help="Tune container pids limit (-1 for unlimited)")
    p.add_argument("--restart", default="no",
                   help="Restart policy: no, on-failure[:max-retries], always, unless-stopped")
    p.add_argument("-p", "--publish", action="append", default=[],
                   metavar="[IP:][HOSTPORT:]CONTAINERPORT[/PROTO]",
                   help="Publish a container's port(s) to the host")
    p.add_argument("--expose", action="append", default=[], metavar="PORT[/PROTO]",
                   help="Expose a port or a range of ports")
    p.add_argument("-P", "--publish-all", action="store_true",
                   help="Publish all exposed ports to random ports")
    p.add_argument("-v", "--volume", action="append", default=[], help="Bind mount a volume")
    p.add_argument("--mount", action="append", default=[],
                   help="Attach a filesystem mount to the container")
    p.add_argument("--tmpfs", action="append", default=[], metavar="PATH[:OPTIONS]",
                   help="Mount a tmpfs directory")
    p.add_argument("--network", "--net", default="", help="Connect a container to a network")
    p.add_argument("--network-alias", "--net-alias", action="append", default=[],
                   help="Add network-scoped alias for the container")
    p.add_argument("--ip", default="", help="IPv4 address (e.g., 172.30.100.104)")
    p.add_argument("--ip6", default="", help="IPv6 address (e.g., 2001:db8::33)")
    p.add_argument("--link", action="append", default=[],
                   help="Add link to another container")
    p.add_argument("-l", "--label", action="append", default=[],
                   help="Set meta data on a container")
    p.add_argument("--userns", default="",
                   help="User namespace: host (root only) or remap (container root is a "
                        "subordinate id; always so for a user's containers)")
    p.add_argument("--stop-signal", default="", help="Signal to stop the container")
    p.add_argument("--security-opt", action="append", default=[],
                   help="Security options: seccomp=unconfined or seccomp=PROFILE.json")
    p.add_argument("--log-driver", default="",
                   help="Logging driver for the container (json-file, local or none)")
    p.add_argument("--log-opt", action="append", default=[],
                   help="Log driver options (max-size, max-file)")
    p.add_argument("--stop-timeout", default=None, type=int,
                   help="Timeout (in seconds) to stop a container")
    p.add_argument("--platform", default=None,
                   help="Set platform if server is multi-platform capable")
    p.add_argument("--pull", default="missing", choices=("missing", "always", "never"),
                   help='Pull image before running ("always", "missing", "never")')
    add_health_flags(p)
    add_host_flags(p)
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="COMMAND [ARG...]")


def _int_flag(text: str | None, flag: str) -> int | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise UsageError(f'invalid argument "{text}" for "{flag}" flag: '
                         f'strconv.ParseInt: parsing "{text}": invalid syntax') from None


def console_size(out: TextIO) -> tuple[int, int]:
    """Docker's ConsoleSize: the (rows, columns) of the terminal our output goes to, sent at
    every create as the docker CLI does, so a TTY has its size before its process starts;
    (0, 0) when our output is no terminal."""
    try:
        size = os.get_terminal_size(out.fileno())
    except (OSError, ValueError):  # no terminal, or no descriptor (io.UnsupportedOperation)
        return 0, 0
    return size.lines, size.columns


def build_config(args: argparse.Namespace, image_id: str, environ: dict[str, str],
                 auto_remove: bool | None = None,
                 console: tuple[int, int] = (0, 0)) -> ContainerConfig:
    """The ContainerConfig that docker's create/run flags ask for (UsageError if bad).

    ``auto_remove`` overrides ``--rm`` (an attached run removes the container itself);
    ``console`` is our terminal's size (:func:`console_size`).
    """
    restart = parse_restart(args.restart)
    if args.rm and restart.name != "no":
        raise UsageError("conflicting options: cannot specify both --restart and --rm")
    env: list[str] = []
    for path in args.env_file:
        env.extend(parse_env_file(path, environ))
    env.extend(parse_env(args.env, environ))
    memory = parse_memory(args.memory) if args.memory is not None else None
    pids = _int_flag(args.pids_limit, "--pids-limit")
    ports = [binding for text in args.publish for binding in parse_publish(text)]
    mounts = [parse_volume(v) for v in args.volume] + [parse_mount(m) for m in args.mount] \
        + [parse_tmpfs(t) for t in args.tmpfs]
    entrypoint: list[str] | None = None
    if args.entrypoint is not None:
        entrypoint = [args.entrypoint] if args.entrypoint else []
    if args.stop_timeout is not None and args.stop_timeout < -1:
        raise UsageError(f"invalid --stop-timeout {args.stop_timeout}: use seconds, or -1 to "
                         "wait forever")
    extra: dict[str, Any] = host_flags(args)
    cpu_shares = extra.pop("cpu_shares")
    if args.network:
        extra["network"] = args.network
    return ContainerConfig(
        image=args.image,
        image_id=image_id,
        cmd=list(args.command) if args.command else None,
        entrypoint=entrypoint,
        env=env,
        working_dir=args.workdir,
        user=args.user,
        hostname=args.hostname,
        tty=args.tty,
        open_stdin=args.interactive,
        console_size=console,
        labels=parse_labels(args.label),
        restart_policy=restart,
        resources=Resources(
            memory=memory or None,
            nano_cpus=parse_cpus(args.cpus) or None if args.cpus is not None else None,
            pids_limit=pids if pids is not None and pids > 0 else None,
            cpu_shares=cpu_shares,
        ),
        ports=ports,
        publish_all=args.publish_all,
        exposed_ports=exposed_ports(args.expose),
        mounts=mounts,
        network_aliases=list(args.network_alias),
        ipv4_address=args.ip,
        ipv6_address=args.ip6,
        links=list(args.link),
        stop_signal=parse_signal(args.stop_signal, "--stop-signal") if args.stop_signal else "",
        stop_timeout=args.stop_timeout,
        auto_remove=args.rm if auto_remove is None else auto_remove,
        security_opt=parse_security_opts(args.security_opt),
        userns=parse_userns(args.userns),
        log_driver=args.log_driver,
        log_options=_log_options(args.log_driver, args.log_opt),
        healthcheck=health_flags(args),
        **extra,
    )


def _log_options(driver: str, values: list[str]) -> dict[str, str]:
    from engine import InvalidArgument, parse_log_options

    try:
        return parse_log_options(driver, values)
    except InvalidArgument as exc:
        raise UsageError(str(exc)) from None


def check_create_flags(ctx: Context) -> None:
    """Every create/run flag error, before the engine is opened or an image pulled:
    flag syntax (125, usage), then the engine's own rules for names and settings."""
    config = build_config(ctx.args, "sha256:" + "0" * 64, ctx.environ)
    if ctx.args.name:
        check_container_name(ctx.args.name)
    check_config(config)



def build_create(p: argparse.ArgumentParser) -> None:
    add_create_flags(p, run=False)


def build_run(p: argparse.ArgumentParser) -> None:
    add_create_flags(p, run=True)
