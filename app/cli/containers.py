"""Container commands: create, run, start, stop, ps, logs, inspect and the rest.

Each one mirrors the docker command of the same name: its flags, what it
prints and its exit status. Flag values are checked before the engine is
asked anything (a bad flag exits 125 without side effects); commands that take
several containers go through all of them, report each failure on stderr,
and exit 1 at the end if any failed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from app.cli.attach import ATTACH, EXEC, interact
from app.cli.build import COMMIT
from app.cli.command import Command, Context
from app.cli.copy import CP
from app.cli.healthflags import add_health_flags, health_flags
from app.cli.logstream import LogWriter, follow_until_exit, print_logs
from app.cli.options import (
    UsageError,
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
    parse_time,
    parse_userns,
    parse_volume,
)
from app.cli.output import (
    Formatter,
    created_at,
    ellipsis,
    format_ports,
    since,
    tabulate,
    to_json,
)
from app.cli.prune import CONTAINER_PRUNE
from app.cli.tarballs import EXPORT
from app.cli.update import UPDATE
from engine import (
    ContainerConfig,
    ContainerNotFound,
    NotFound,
    Resources,
    SkiffError,
    bytes_size,
    check_config,
    check_container_name,
    human_size,
    merge_config,
    status_text,
)

__all__ = [
    "COMMANDS",
    "MANAGEMENT",
    "PS_HEADERS",
    "STATS_HEADERS",
    "build_config",
    "container_row",
    "effective_command",
    "parse_ps_filters",
    "stats_row",
]

PS_FORMAT = ("table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t"
             "{{.Ports}}\t{{.Names}}")
PS_HEADERS = {
    "ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "CreatedAt": "CREATED AT",
    "RunningFor": "CREATED", "Ports": "PORTS", "State": "STATE", "Status": "STATUS",
    "Size": "SIZE", "Names": "NAMES", "Labels": "LABELS", "Mounts": "MOUNTS",
    "Networks": "NETWORKS", "LocalVolumes": "LOCAL VOLUMES",
}
STATS_FORMAT = ("table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t"
                "{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}")
STATS_HEADERS = {
    "Container": "CONTAINER", "ID": "CONTAINER ID", "Name": "NAME", "CPUPerc": "CPU %",
    "MemUsage": "MEM USAGE / LIMIT", "MemPerc": "MEM %", "NetIO": "NET I/O",
    "BlockIO": "BLOCK I/O", "PIDs": "PIDS",
}
PS_FILTERS = ("id", "name", "status", "label", "exited", "ancestor", "health")
STATUSES = ("created", "restarting", "running", "removing", "paused", "exited", "dead")


# -- create / run: flags → ContainerConfig ------------------------------------------

def _add_create_flags(p: argparse.ArgumentParser, run: bool) -> None:
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
    p.add_argument("-P", "--publish-all", action="store_true",
                   help="Publish all exposed ports to random ports")
    p.add_argument("-v", "--volume", action="append", default=[], help="Bind mount a volume")
    p.add_argument("--mount", action="append", default=[],
                   help="Attach a filesystem mount to the container")
    p.add_argument("--network", "--net", default="", help="Connect a container to a network")
    p.add_argument("--network-alias", "--net-alias", action="append", default=[],
                   help="Add network-scoped alias for the container")
    p.add_argument("-l", "--label", action="append", default=[],
                   help="Set meta data on a container")
    p.add_argument("--userns", default="",
                   help="User namespace: host (root only) or remap (container root is a "
                        "subordinate id; always so for a user's containers)")
    p.add_argument("--stop-signal", default="", help="Signal to stop the container")
    p.add_argument("--security-opt", action="append", default=[],
                   help="Security options: seccomp=unconfined or seccomp=PROFILE.json")
    p.add_argument("--log-driver", default="",
                   help="Logging driver for the container (json-file or local)")
    p.add_argument("--log-opt", action="append", default=[],
                   help="Log driver options (max-size, max-file)")
    p.add_argument("--stop-timeout", default=None, type=int,
                   help="Timeout (in seconds) to stop a container")
    p.add_argument("--platform", default=None,
                   help="Set platform if server is multi-platform capable")
    p.add_argument("--pull", default="missing", choices=("missing", "always", "never"),
                   help='Pull image before running ("always", "missing", "never")')
    add_health_flags(p)
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


def build_config(args: argparse.Namespace, image_id: str, environ: dict[str, str],
                 auto_remove: bool | None = None) -> ContainerConfig:
    """The ContainerConfig that docker's create/run flags ask for (UsageError if bad).

    ``auto_remove`` overrides ``--rm`` (an attached run removes the container itself).
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
    mounts = [parse_volume(v) for v in args.volume] + [parse_mount(m) for m in args.mount]
    entrypoint: list[str] | None = None
    if args.entrypoint is not None:
        entrypoint = [args.entrypoint] if args.entrypoint else []
    if args.stop_timeout is not None and args.stop_timeout < -1:
        raise UsageError(f"invalid --stop-timeout {args.stop_timeout}: use seconds, or -1 to "
                         "wait forever")
    extra: dict[str, Any] = {}
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
        labels=parse_labels(args.label),
        restart_policy=restart,
        resources=Resources(
            memory=memory or None,
            nano_cpus=parse_cpus(args.cpus) or None if args.cpus is not None else None,
            pids_limit=pids if pids is not None and pids > 0 else None,
        ),
        ports=ports,
        publish_all=args.publish_all,
        mounts=mounts,
        network_aliases=list(args.network_alias),
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


async def _create(ctx: Context, auto_remove: bool | None = None) -> Any:
    from app.cli.registry import ensure_image

    args = ctx.args
    image = await ensure_image(ctx, args.image, args.pull, args.platform)
    config = build_config(args, image.id, ctx.environ, auto_remove)
    return await ctx.engine.containers.create(config, name=args.name)


async def cmd_create(ctx: Context) -> int:
    container = await _create(ctx)
    ctx.out.write(container.id + "\n")
    return 0


async def _remove_quietly(ctx: Context, ref: str) -> None:
    with contextlib.suppress(NotFound):
        await ctx.engine.containers.remove(ref, force=True)


def _forget(pending: set[asyncio.Task[Any]]) -> Callable[[asyncio.Task[Any]], None]:
    def done(job: asyncio.Task[Any]) -> None:
        pending.discard(job)
        if not job.cancelled():
            job.exception()  # retrieved: a failed forward (container gone) is not an error
    return done


@contextlib.contextmanager
def _signal_proxy(ctx: Context, ref: str) -> Iterator[None]:
    """docker's --sig-proxy: our SIGINT/SIGTERM/SIGHUP go to the container.

    A second Ctrl-C stops waiting (the container keeps running), so a container
    that ignores SIGINT never traps the user.
    """
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    interrupts = 0
    pending: set[asyncio.Task[Any]] = set()

    def forward(sig: signal.Signals) -> None:
        nonlocal interrupts
        if sig is signal.SIGINT:
            interrupts += 1
            if interrupts > 1 and task is not None:
                task.cancel()
                return
        job = asyncio.ensure_future(ctx.engine.containers.kill(ref, sig.name))
        pending.add(job)
        job.add_done_callback(_forget(pending))

    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        try:
            loop.add_signal_handler(sig, forward, sig)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):
            pass
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


async def _attach(ctx: Context, ref: str, *, since_ns: int | None = None) -> int:
    """Stream the container's output until it exits; return its exit code."""
    writer = LogWriter(ctx.out_bytes, ctx.err_bytes)
    try:
        async with writer:
            with _signal_proxy(ctx, ref):
                return await follow_until_exit(
                    writer,
                    lambda follow, tail: ctx.engine.containers.logs(ref, follow=follow, tail=tail),
                    lambda: ctx.engine.containers.wait(ref),
                    since_ns=since_ns)
    except asyncio.CancelledError:
        return 130


async def _run_interactive(ctx: Context, ref: str, *, remove: bool | None = None) -> int:
    """run -i/-t, start -ai: attached from the container's first byte, stdin ours."""
    args = ctx.args
    try:
        session = await ctx.engine.containers.start_attached(ref)
    except SkiffError:
        if remove if remove is not None else args.rm:
            await _remove_quietly(ctx, ref)
        raise
    code = await interact(ctx, session, interactive=args.interactive,
                          tty=getattr(args, "tty", False))
    if code is None:
        code = await ctx.engine.containers.wait(ref)
    if remove if remove is not None else args.rm:
        await _remove_quietly(ctx, ref)
    return code


async def cmd_run(ctx: Context) -> int:
    args = ctx.args
    # --rm is the engine's AutoRemove, as in docker: a client killed midway leaves no
    # container behind. Attached, we also remove it ourselves once its exit code is in
    # (the engine leaves an exited --rm container to its client for a few seconds).
    container = await _create(ctx, auto_remove=args.rm)
    if not args.detach and (args.interactive or args.tty):
        return await _run_interactive(ctx, container.id)
    try:
        await ctx.engine.containers.start(container.id)
    except SkiffError:
        if args.rm:
            await _remove_quietly(ctx, container.id)
        raise
    if args.detach:
        ctx.out.write(container.id + "\n")
        return 0
    code = await _attach(ctx, container.id)
    if args.rm:
        await _remove_quietly(ctx, container.id)
    return code


# -- lifecycle verbs over several containers --------------------------------------------

async def _each(ctx: Context, refs: Sequence[str], act: Callable[[str], Any],
                echo: bool = True) -> int:
    for ref in refs:
        try:
            await act(ref)
        except SkiffError as exc:
            ctx.daemon_error(exc)
            continue
        if echo:
            ctx.out.write(ref + "\n")
            ctx.out.flush()
    return ctx.status


async def cmd_start(ctx: Context) -> int:
    args = ctx.args
    if args.attach:
        if len(args.containers) > 1:
            raise UsageError("you cannot start and attach multiple containers at once", 1)
        ref = args.containers[0]
        if args.interactive:
            container = await ctx.engine.containers.get(ref)
            args.tty = container.config.tty
            return await _run_interactive(ctx, ref, remove=False)
        since_ns = time.time_ns()
        await ctx.engine.containers.start(ref)
        return await _attach(ctx, ref, since_ns=since_ns)
    return await _each(ctx, args.containers, ctx.engine.containers.start)


async def cmd_stop(ctx: Context) -> int:
    args = ctx.args
    sig = parse_signal(args.signal) if args.signal else None

    async def stop(ref: str) -> None:
        if sig is None:
            await ctx.engine.containers.stop(ref, timeout=args.time)
        else:
            await ctx.engine.containers.stop(ref, timeout=args.time, signal=sig)
    return await _each(ctx, args.containers, stop)


async def cmd_restart(ctx: Context) -> int:
    return await _each(ctx, ctx.args.containers,
                       lambda ref: ctx.engine.containers.restart(ref, timeout=ctx.args.time))


async def cmd_kill(ctx: Context) -> int:
    sig = parse_signal(ctx.args.signal)
    return await _each(ctx, ctx.args.containers, lambda ref: ctx.engine.containers.kill(ref, sig))


async def cmd_pause(ctx: Context) -> int:
    return await _each(ctx, ctx.args.containers, ctx.engine.containers.pause)


async def cmd_unpause(ctx: Context) -> int:
    return await _each(ctx, ctx.args.containers, ctx.engine.containers.unpause)


async def cmd_rm(ctx: Context) -> int:
    args = ctx.args

    async def remove(ref: str) -> None:
        if args.volumes:
            await ctx.engine.containers.remove(ref, force=args.force, volumes=True)
        else:
            await ctx.engine.containers.remove(ref, force=args.force)
    return await _each(ctx, args.containers, remove)


async def cmd_wait(ctx: Context) -> int:
    async def wait(ref: str) -> None:
        code = await ctx.engine.containers.wait(ref)
        ctx.out.write(f"{code}\n")
        ctx.out.flush()
    return await _each(ctx, ctx.args.containers, wait, echo=False)


async def cmd_rename(ctx: Context) -> int:
    await ctx.engine.containers.rename(ctx.args.container, ctx.args.new_name)
    return 0


async def cmd_diff(ctx: Context) -> int:
    for change in await ctx.engine.containers.changes(ctx.args.container):
        ctx.out.write(f"{change.kind} {change.path}\n")
    return 0


# -- ps -------------------------------------------------------------------------------

def effective_command(config: ContainerConfig, run_config: dict[str, Any]) -> list[str]:
    """Entrypoint + Cmd as docker combines the image's with the overrides (the engine's merge)."""
    return merge_config(config, run_config).args


def _config_ports(config: ContainerConfig) -> dict[str, Any]:
    ports: dict[str, Any] = {}
    for binding in config.ports:
        key = f"{binding.container_port}/{binding.protocol}"
        if binding.host_port:
            ports.setdefault(key, []).append(
                {"HostIp": binding.host_ip or "0.0.0.0", "HostPort": str(binding.host_port)})
    return ports


def container_row(container: Any, run_config: dict[str, Any], ports: dict[str, Any] | None,
                  *, trunc: bool = True, now: float | None = None) -> dict[str, Any]:
    """One container as docker's ps formatter sees it (every field a string)."""
    config = container.config
    command = " ".join(effective_command(config, run_config))
    if trunc:
        command = ellipsis(command, 20)
    labels = ",".join(f"{k}={v}" for k, v in sorted(config.labels.items()))
    mounts = ",".join(ellipsis(m.source or m.target, 15) if trunc else (m.source or m.target)
                      for m in config.mounts)
    local_volumes = sum(1 for m in config.mounts if m.type == "volume")
    network = config.network if config.network != "default" else "bridge"
    return {
        "Command": f'"{command}"',
        "CreatedAt": created_at(container.created),
        "ID": container.id[:12] if trunc else container.id,
        "Image": config.image,
        "Labels": labels,
        "LocalVolumes": str(local_volumes),
        "Mounts": mounts,
        "Names": container.name,
        "Networks": network,
        "Ports": format_ports(ports),
        "RunningFor": since(container.created, now),
        "Size": "0B",
        "State": str(container.state.status.value),
        "Status": status_text(container.state, now),
    }


def parse_ps_filters(items: Sequence[str]) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq:
            raise UsageError(f"bad format of filter (expected name=value): {item!r}")
        key = key.strip().lower()
        if key not in PS_FILTERS:
            raise UsageError(f"invalid filter '{key}': use one of {', '.join(PS_FILTERS)}")
        if key == "status" and value not in STATUSES:
            raise UsageError(f"invalid filter 'status={value}': use one of "
                             f"{', '.join(STATUSES)}")
        if key == "health" and value not in ("starting", "healthy", "unhealthy", "none"):
            raise UsageError(f"Unrecognised filter value for health: {value}")
        if key == "exited" and not value.lstrip("-").isdigit():
            raise UsageError(f"invalid filter 'exited={value}': the value must be a number")
        filters.setdefault(key, []).append(value)
    return filters


def _matches(container: Any, filters: dict[str, list[str]]) -> bool:
    import re

    def any_of(key: str, test: Callable[[str], bool]) -> bool:
        return key not in filters or any(test(v) for v in filters[key])

    def name_match(pattern: str) -> bool:
        try:
            regex = re.compile(pattern)
        except re.error:
            return pattern in container.name
        return bool(regex.search(container.name) or regex.search("/" + container.name))

    def label_match(spec: str) -> bool:
        key, eq, value = spec.partition("=")
        labels = container.config.labels
        return key in labels and (not eq or labels[key] == value)

    state = container.state
    config = container.config
    return (any_of("id", lambda v: container.id.startswith(v))
            and any_of("name", name_match)
            and any_of("status", lambda v: state.status.value == v)
            and any_of("label", label_match)
            and any_of("health", lambda v: (state.health.status if state.health and
                                            state.status.value == "running" else "none") == v)
            and any_of("exited", lambda v: state.status.value == "exited"
                       and state.exit_code == int(v))
            and any_of("ancestor", lambda v: v in (config.image, config.image_id)
                       or config.image_id.removeprefix("sha256:").startswith(
                           v.removeprefix("sha256:"))))


async def _run_config(ctx: Context, cache: dict[str, dict[str, Any]], image_id: str
                      ) -> dict[str, Any]:
    if image_id not in cache:
        try:
            cache[image_id] = (await ctx.engine.images.get(image_id)).run_config
        except NotFound:
            cache[image_id] = {}
    return cache[image_id]


async def _ports(ctx: Context, container: Any) -> dict[str, Any]:
    if not container.state.running:
        return {}
    if not (container.config.ports or container.config.publish_all):
        return {}
    try:
        ports = await ctx.engine.containers.port(container.id)
    except NotFound:
        return {}
    return ports if isinstance(ports, dict) else _config_ports(container.config)


async def cmd_ps(ctx: Context) -> int:
    args = ctx.args
    filters = parse_ps_filters(args.filter)
    last = 1 if args.latest else args.last
    show_all = args.all or last > 0 or "status" in filters or "exited" in filters
    fmt = "{{.ID}}" if args.quiet else (args.format or PS_FORMAT)
    formatter = Formatter(fmt, PS_HEADERS)
    containers = [c for c in await ctx.engine.containers.list(all=show_all) if _matches(c, filters)]
    containers.sort(key=lambda c: c.created, reverse=True)
    if last > 0:
        containers = containers[:last]
    cache: dict[str, dict[str, Any]] = {}
    now = time.time()
    rows = []
    for container in containers:
        run_config = await _run_config(ctx, cache, container.config.image_id)
        ports = await _ports(ctx, container) if not args.quiet else {}
        rows.append(container_row(container, run_config, ports, trunc=not args.no_trunc,
                                  now=now))
    formatter.write(rows, ctx.out)
    return 0


# -- logs -----------------------------------------------------------------------------

def _tail(text: str) -> int | None:
    if text == "all":
        return None
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f'invalid argument "{text}" for "-n, --tail" flag: use a number '
                         'or "all"') from None
    return None if value < 0 else value


async def cmd_logs(ctx: Context) -> int:
    args = ctx.args
    tail = _tail(args.tail)
    now = time.time()
    since_ns = parse_time(args.since, "--since", now) if args.since else None
    until_ns = parse_time(args.until, "--until", now) if args.until else None
    await ctx.engine.containers.get(args.container)  # a clear error before any output
    follow = args.follow and (until_ns is None or until_ns > time.time_ns())
    writer = LogWriter(ctx.out_bytes, ctx.err_bytes, timestamps=args.timestamps)
    async with writer:
        # The engine filters too (cheaper on long logs); a microsecond of margin covers
        # its float parsing, and print_logs applies the exact bounds.
        window: dict[str, str] = {}
        if since_ns is not None:
            window["since"] = f"{max(0, since_ns - 1000) / 1e9:.6f}"
        if until_ns is not None:
            window["until"] = f"{(until_ns + 1000) / 1e9:.6f}"
        lines = ctx.engine.containers.logs(args.container, follow=follow, tail=tail, **window)
        if follow and until_ns is not None:
            # Stop following at --until even if no line arrives after it.
            remaining = max(0.0, until_ns / 1e9 - time.time())
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await print_logs(writer, lines, since_ns=since_ns, until_ns=until_ns)
        else:
            await print_logs(writer, lines, since_ns=since_ns, until_ns=until_ns)
    return 0


# -- inspect --------------------------------------------------------------------------

async def _inspect_one(ctx: Context, ref: str, kind: str) -> dict[str, Any]:
    if kind in ("", "container"):
        try:
            return await ctx.engine.containers.inspect(ref)
        except ContainerNotFound:
            if kind == "container":
                raise
    return await ctx.engine.images.inspect(ref)


async def inspect_objects(ctx: Context, refs: Sequence[str], kind: str, fmt: str | None) -> int:
    """docker inspect: the JSON list (or one formatted line each); "No such ..." at the end."""
    from app.cli.template import Template

    template = Template(fmt.replace("\\t", "\t").replace("\\n", "\n")) if fmt else None
    found: list[dict[str, Any]] = []
    missing: list[str] = []
    for ref in refs:
        try:
            found.append(await _inspect_one(ctx, ref, kind))
        except NotFound:
            missing.append(ref)
    if template is None:
        ctx.out.write(to_json(found, indent=4) + "\n")
    else:
        for data in found:
            ctx.out.write(template.render(data) + "\n")
    what = {"container": "container", "image": "image"}.get(kind, "object")
    for ref in missing:
        ctx.error(f"Error: No such {what}: {ref}")
    return 1 if missing else 0


async def cmd_inspect(ctx: Context) -> int:
    args = ctx.args
    kind = args.type or ""
    if kind not in ("", "container", "image"):
        raise UsageError(f'"{kind}" is not a valid value for --type: use container or image')
    return await inspect_objects(ctx, args.objects, kind, args.format)


async def cmd_container_inspect(ctx: Context) -> int:
    return await inspect_objects(ctx, ctx.args.objects, "container", ctx.args.format)


# -- top, port, stats -------------------------------------------------------------------

async def cmd_top(ctx: Context) -> int:
    processes = await ctx.engine.containers.top(ctx.args.container)
    lines = ["UID\tPID\t%CPU\tRSS\tCMD"]
    for proc in processes:
        lines.append(f"{proc.user}\t{proc.pid}\t{proc.cpu_percent:.1f}\t"
                     f"{proc.memory_rss // 1024}\t{proc.command}")
    for line in tabulate(lines, min_width=20):
        ctx.out.write(line + "\n")
    return 0


def _host_address(binding: dict[str, Any]) -> str:
    host_ip = binding.get("HostIp") or "0.0.0.0"
    if ":" in host_ip:
        host_ip = f"[{host_ip}]"
    return f"{host_ip}:{binding.get('HostPort', '')}"


async def cmd_port(ctx: Context) -> int:
    args = ctx.args
    await ctx.engine.containers.get(args.container)  # "No such container" before anything else
    ports: dict[str, Any] = await ctx.engine.containers.port(args.container) or {}
    if args.private:
        key = args.private if "/" in args.private else f"{args.private}/tcp"
        bindings = ports.get(key)
        if not bindings:
            ctx.error(f"Error: No public port '{key}' published for {args.container}")
            return 1
        for binding in bindings:
            ctx.out.write(_host_address(binding) + "\n")
        return 0

    def order(key: str) -> tuple[int, str]:
        number, _, proto = key.partition("/")
        return (int(number) if number.isdigit() else 0, proto)

    for key in sorted(ports, key=order):
        for binding in ports[key] or []:
            ctx.out.write(f"{key} -> {_host_address(binding)}\n")
    return 0


def stats_row(stats: Any, label: str = "", trunc: bool = True) -> dict[str, str]:
    limit = stats.memory_limit or 0
    mem_percent = stats.memory_usage / limit * 100 if limit else 0.0
    return {
        "Container": label or stats.id[:12],
        "ID": stats.id[:12] if trunc else stats.id,
        "Name": stats.name,
        "CPUPerc": f"{stats.cpu_percent:.2f}%",
        "MemUsage": f"{bytes_size(stats.memory_usage)} / {bytes_size(limit)}",
        "MemPerc": f"{mem_percent:.2f}%",
        "NetIO": f"{human_size(stats.net_rx)} / {human_size(stats.net_tx)}",
        "BlockIO": f"{human_size(stats.block_read)} / {human_size(stats.block_write)}",
        "PIDs": str(stats.pids),
    }


async def cmd_stats(ctx: Context) -> int:
    args = ctx.args
    formatter = Formatter(args.format or STATS_FORMAT, STATS_HEADERS)
    refs: list[str] | None = list(args.containers) or None
    if refs:
        for ref in refs:
            await ctx.engine.containers.get(ref)  # one clear error for a wrong name, first
    elif args.all:
        refs = [c.id for c in await ctx.engine.containers.list(all=True)]
    tty = ctx.out.isatty()
    samples = 0
    stream = ctx.engine.stats.stream(refs, interval=1.0)
    try:
        async for batch in stream:
            samples += 1
            if args.no_stream and samples < 2:
                continue  # the first sample has no CPU figure yet: docker shows the second
            labels = dict(zip([s.id for s in batch], args.containers or [], strict=False))
            lines = formatter.render(stats_row(s, labels.get(s.id, ""), not args.no_trunc)
                                     for s in batch)
            if tty and not args.no_stream:
                ctx.out.write("\x1b[2J\x1b[H")
            ctx.out.write("".join(line + "\n" for line in lines))
            ctx.out.flush()
            if args.no_stream:
                break
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()
    return 0


# -- the command table ----------------------------------------------------------------

def _containers_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("containers", nargs="+", metavar="CONTAINER")


def _b_create(p: argparse.ArgumentParser) -> None:
    _add_create_flags(p, run=False)


def _b_run(p: argparse.ArgumentParser) -> None:
    _add_create_flags(p, run=True)


def _b_start(p: argparse.ArgumentParser) -> None:
    p.add_argument("-a", "--attach", action="store_true",
                   help="Attach STDOUT/STDERR and forward signals")
    p.add_argument("-i", "--interactive", action="store_true",
                   help="Attach container's STDIN")
    _containers_arg(p)


def _b_stop(p: argparse.ArgumentParser) -> None:
    p.add_argument("-t", "--time", type=int, default=None,
                   help="Seconds to wait before killing the container")
    p.add_argument("-s", "--signal", default="", help="Signal to send to the container")
    _containers_arg(p)


def _b_restart(p: argparse.ArgumentParser) -> None:
    p.add_argument("-t", "--time", type=int, default=None,
                   help="Seconds to wait before killing the container")
    _containers_arg(p)


def _b_kill(p: argparse.ArgumentParser) -> None:
    p.add_argument("-s", "--signal", default="KILL", help="Signal to send to the container")
    _containers_arg(p)


def _b_rm(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--force", action="store_true",
                   help="Force the removal of a running container (uses SIGKILL)")
    p.add_argument("-v", "--volumes", action="store_true",
                   help="Remove anonymous volumes associated with the container")
    _containers_arg(p)


def _b_ps(p: argparse.ArgumentParser) -> None:
    p.add_argument("-a", "--all", action="store_true",
                   help="Show all containers (default shows just running)")
    p.add_argument("-q", "--quiet", action="store_true", help="Only display container IDs")
    p.add_argument("--no-trunc", action="store_true", help="Don't truncate output")
    p.add_argument("-n", "--last", type=int, default=-1,
                   help="Show n last created containers (includes all states)")
    p.add_argument("-l", "--latest", action="store_true",
                   help="Show the latest created container (includes all states)")
    p.add_argument("-f", "--filter", action="append", default=[],
                   help="Filter output based on conditions provided")
    p.add_argument("--format", default=None, help="Format output using a custom template")
    p.add_argument("-s", "--size", action="store_true", help="Display total file sizes")


def _b_logs(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--follow", action="store_true", help="Follow log output")
    p.add_argument("-t", "--timestamps", action="store_true", help="Show timestamps")
    p.add_argument("-n", "--tail", default="all",
                   help='Number of lines to show from the end of the logs (default "all")')
    p.add_argument("--since", default="",
                   help="Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative "
                   "(e.g. 42m for 42 minutes)")
    p.add_argument("--until", default="",
                   help="Show logs before a timestamp or relative time")
    p.add_argument("--details", action="store_true", help="Show extra details")
    p.add_argument("container", metavar="CONTAINER")


def _b_inspect(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--format", default=None, help="Format output using a custom template")
    p.add_argument("--type", default=None, help="Return JSON for specified type")
    p.add_argument("-s", "--size", action="store_true", help="Display total file sizes")
    p.add_argument("objects", nargs="+", metavar="NAME|ID")


def _b_container_inspect(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--format", default=None, help="Format output using a custom template")
    p.add_argument("-s", "--size", action="store_true", help="Display total file sizes")
    p.add_argument("objects", nargs="+", metavar="CONTAINER")


def _b_one(p: argparse.ArgumentParser) -> None:
    p.add_argument("container", metavar="CONTAINER")


def _b_rename(p: argparse.ArgumentParser) -> None:
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("new_name", metavar="NEW_NAME")


def _b_wait(p: argparse.ArgumentParser) -> None:
    _containers_arg(p)


def _b_port(p: argparse.ArgumentParser) -> None:
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("private", nargs="?", metavar="PRIVATE_PORT[/PROTO]")


def _b_stats(p: argparse.ArgumentParser) -> None:
    p.add_argument("-a", "--all", action="store_true",
                   help="Show all containers (default shows just running)")
    p.add_argument("--no-stream", action="store_true",
                   help="Disable streaming stats and only pull the first result")
    p.add_argument("--no-trunc", action="store_true", help="Do not truncate output")
    p.add_argument("--format", default=None, help="Format output using a custom template")
    p.add_argument("containers", nargs="*", metavar="CONTAINER")


_RUN = Command("run", "Create and run a new container from an image", _b_run, cmd_run,
               "IMAGE [COMMAND] [ARG...]", engine_status=125, prefix_errors=True,
               hide_help_short=True, precheck=check_create_flags)
_CREATE = Command("create", "Create a new container", _b_create, cmd_create,
                  "IMAGE [COMMAND] [ARG...]", engine_status=125, prefix_errors=True,
                  hide_help_short=True, precheck=check_create_flags)
_START = Command("start", "Start one or more stopped containers", _b_start, cmd_start,
                 "CONTAINER [CONTAINER...]")
_STOP = Command("stop", "Stop one or more running containers", _b_stop, cmd_stop,
                "CONTAINER [CONTAINER...]")
_RESTART = Command("restart", "Restart one or more containers", _b_restart, cmd_restart,
                   "CONTAINER [CONTAINER...]")
_KILL = Command("kill", "Kill one or more running containers", _b_kill, cmd_kill,
                "CONTAINER [CONTAINER...]")
_PAUSE = Command("pause", "Pause all processes within one or more containers", _b_wait,
                 cmd_pause, "CONTAINER [CONTAINER...]")
_UNPAUSE = Command("unpause", "Unpause all processes within one or more containers", _b_wait,
                   cmd_unpause, "CONTAINER [CONTAINER...]")
_RM = Command("rm", "Remove one or more containers", _b_rm, cmd_rm,
              "CONTAINER [CONTAINER...]")
_PS = Command("ps", "List containers", _b_ps, cmd_ps)
_LOGS = Command("logs", "Fetch the logs of a container", _b_logs, cmd_logs, "CONTAINER")
_WAIT = Command("wait", "Block until one or more containers stop, then print their exit "
                "codes", _b_wait, cmd_wait, "CONTAINER [CONTAINER...]")
_DIFF = Command("diff", "Inspect changes to files or directories on a container's filesystem",
                _b_one, cmd_diff, "CONTAINER")
_RENAME = Command("rename", "Rename a container", _b_rename, cmd_rename,
                  "CONTAINER NEW_NAME")
_TOP = Command("top", "Display the running processes of a container", _b_one, cmd_top,
               "CONTAINER")
_STATS = Command("stats", "Display a live stream of container(s) resource usage statistics",
                 _b_stats, cmd_stats, "[CONTAINER...]")
_PORT = Command("port", "List port mappings or a specific mapping for the container",
                _b_port, cmd_port, "CONTAINER [PRIVATE_PORT[/PROTO]]")
_INSPECT = Command("inspect", "Return low-level information on Skiff objects", _b_inspect,
                   cmd_inspect, "NAME|ID [NAME|ID...]")

COMMANDS: list[Command] = [_CREATE, _RUN, _START, _STOP, _RESTART, _KILL, _PAUSE, _UNPAUSE,
                           _RM, _PS, _LOGS, _WAIT, _DIFF, _RENAME, _TOP, _STATS, _PORT, EXEC,
                           ATTACH, CP, _INSPECT, EXPORT, UPDATE, COMMIT]

MANAGEMENT: list[Command] = [
    _CREATE, _RUN, _START, _STOP, _RESTART, _KILL, _PAUSE, _UNPAUSE, _WAIT, _DIFF, _RENAME,
    _TOP, _STATS, _PORT, EXEC, ATTACH, CP, _LOGS, EXPORT, UPDATE, COMMIT,
    Command("ls", "List containers", _b_ps, cmd_ps, aliases=("ps", "list")),
    Command("rm", "Remove one or more containers", _b_rm, cmd_rm, "CONTAINER [CONTAINER...]",
            aliases=("remove",)),
    Command("inspect", "Display detailed information on one or more containers",
            _b_container_inspect, cmd_container_inspect, "CONTAINER [CONTAINER...]"),
    CONTAINER_PRUNE,
]
