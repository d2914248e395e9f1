"""Container commands: the table of create, run, start, stop, ps, logs, inspect and the rest.

Each command's code lives in a module of its own (run, createflags, lifecycle,
ps, logs, inspection, stats, top) and is imported only when that command is
built or run, through :func:`lazy`; commands that other modules define are
named here by a :class:`CommandRef`. ``skiff ps`` loads none of run's code.
Each one mirrors the docker command of the same name: its flags, what it
prints and its exit status.
"""

from __future__ import annotations

from collections.abc import Callable

from app.cli.command import Command, CommandRef, lazy

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["COMMANDS", "MANAGEMENT"]

_SEVERAL = "CONTAINER [CONTAINER...]"


_EXEC = CommandRef("exec", "Execute a command in a running container", "app.cli.attach:EXEC")
_ATTACH = CommandRef("attach", "Attach local standard input, output, and error streams to a "
                     "running container", "app.cli.attach:ATTACH")
_CP = CommandRef("cp", "Copy files/folders between a container and the local filesystem",
                 "app.cli.copy:CP")
_COMMIT = CommandRef("commit", "Create a new image from a container's changes",
                     "app.cli.build:COMMIT")
_EXPORT = CommandRef("export", "Export a container's filesystem as a tar archive",
                     "app.cli.tarballs:EXPORT")
_UPDATE = CommandRef("update", "Update configuration of one or more containers",
                     "app.cli.update:UPDATE")
_CONTAINER_PRUNE = CommandRef("prune", "Remove all stopped containers",
                              "app.cli.prune:CONTAINER_PRUNE")


def _code(module: str, name: str) -> Callable[..., Any]:
    return lazy(f"app.cli.{module}:{name}")


_RUN = Command("run", "Create and run a new container from an image",
               _code("createflags", "build_run"), _code("run", "cmd_run"),
               "IMAGE [COMMAND] [ARG...]", engine_status=125, prefix_errors=True,
               hide_help_short=True, precheck=_code("createflags", "check_create_flags"))
_CREATE = Command("create", "Create a new container",
                  _code("createflags", "build_create"), _code("run", "cmd_create"),
                  "IMAGE [COMMAND] [ARG...]", engine_status=125, prefix_errors=True,
                  hide_help_short=True, precheck=_code("createflags", "check_create_flags"))
_START = Command("start", "Start one or more stopped containers",
                 _code("lifecycle", "build_start"), _code("lifecycle", "cmd_start"), _SEVERAL)
_STOP = Command("stop", "Stop one or more running containers",
                _code("lifecycle", "build_stop"), _code("lifecycle", "cmd_stop"), _SEVERAL)
_RESTART = Command("restart", "Restart one or more containers",
                   _code("lifecycle", "build_restart"), _code("lifecycle", "cmd_restart"),
                   _SEVERAL)
_KILL = Command("kill", "Kill one or more running containers",
                _code("lifecycle", "build_kill"), _code("lifecycle", "cmd_kill"), _SEVERAL)
_PAUSE = Command("pause", "Pause all processes within one or more containers",
                 _code("lifecycle", "build_several"), _code("lifecycle", "cmd_pause"),
                 _SEVERAL)
_UNPAUSE = Command("unpause", "Unpause all processes within one or more containers",
                   _code("lifecycle", "build_several"), _code("lifecycle", "cmd_unpause"),
                   _SEVERAL)
_RM = Command("rm", "Remove one or more containers",
              _code("lifecycle", "build_rm"), _code("lifecycle", "cmd_rm"), _SEVERAL)
_WAIT = Command("wait", "Block until one or more containers stop, then print their exit codes",
                _code("lifecycle", "build_several"), _code("lifecycle", "cmd_wait"), _SEVERAL)
_DIFF = Command("diff", "Inspect changes to files or directories on a container's filesystem",
                _code("lifecycle", "build_diff"), _code("lifecycle", "cmd_diff"), "CONTAINER")
_RENAME = Command("rename", "Rename a container",
                  _code("lifecycle", "build_rename"), _code("lifecycle", "cmd_rename"),
                  "CONTAINER NEW_NAME")
_PS = Command("ps", "List containers", _code("ps", "build_ps"), _code("ps", "cmd_ps"),
              needs_engine=False)
_LOGS = Command("logs", "Fetch the logs of a container",
                _code("logs", "build_logs"), _code("logs", "cmd_logs"), "CONTAINER",
                needs_engine=False)
_TOP = Command("top", "Display the running processes of a container",
               _code("top", "build_top"), _code("top", "cmd_top"), "CONTAINER [ps OPTIONS]")
_PORT = Command("port", "List port mappings or a specific mapping for the container",
                _code("top", "build_port"), _code("top", "cmd_port"),
                "CONTAINER [PRIVATE_PORT[/PROTO]]")
_STATS = Command("stats", "Display a live stream of container(s) resource usage statistics",
                 _code("stats", "build_stats"), _code("stats", "cmd_stats"), "[CONTAINER...]",
                 needs_engine=False)
_INSPECT = Command("inspect", "Return low-level information on Skiff objects",
                   _code("inspection", "build_inspect"), _code("inspection", "cmd_inspect"),
                   "NAME|ID [NAME|ID...]", needs_engine=False)

COMMANDS: list[Command | CommandRef] = [
    _CREATE, _RUN, _START, _STOP, _RESTART, _KILL, _PAUSE, _UNPAUSE, _RM, _PS, _LOGS, _WAIT,
    _DIFF, _RENAME, _TOP, _STATS, _PORT, _EXEC, _ATTACH, _CP, _INSPECT, _EXPORT, _UPDATE, _COMMIT]

MANAGEMENT: list[Command | CommandRef] = [
    _CREATE, _RUN, _START, _STOP, _RESTART, _KILL, _PAUSE, _UNPAUSE, _WAIT, _DIFF, _RENAME,
    _TOP, _STATS, _PORT, _EXEC, _ATTACH, _CP, _LOGS, _EXPORT, _UPDATE, _COMMIT,
    Command("ls", "List containers", _code("ps", "build_ps"), _code("ps", "cmd_ps"),
            aliases=("ps", "list"), needs_engine=False),
    Command("rm", "Remove one or more containers", _code("lifecycle", "build_rm"),
            _code("lifecycle", "cmd_rm"), _SEVERAL, aliases=("remove",)),
    Command("inspect", "Display detailed information on one or more containers",
            _code("inspection", "build_container_inspect"),
            _code("inspection", "cmd_container_inspect"), _SEVERAL, needs_engine=False),
    _CONTAINER_PRUNE,
]
