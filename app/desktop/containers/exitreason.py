"""Why a container stopped, short enough for a sidebar row.

The engine says it in one full sentence (engine/containers/explain.py,
shown in the details header); a sidebar row has room for a few words:
"OOM-killed at 32 MiB", "Killed by SIGKILL", "Stopped by the user".
"""

from __future__ import annotations

import signal

from engine import Container, ContainerState, Status, exit_reason, format_bytes

__all__ = ["died_unexpectedly", "full_reason", "row_detail", "short_reason"]


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def short_reason(container: Container) -> str:
    """A few words on how it stopped; "" while it runs (or never ran)."""
    state = container.state
    status = state.status
    times = f"{state.restart_count} time{'s' if state.restart_count != 1 else ''}"
    restarts = f" · restarted {times}" if state.restart_count else ""
    if status in (Status.RUNNING, Status.PAUSED):
        return f"Restarted {times} by its policy" if state.restart_count else ""
    if status is Status.RESTARTING:
        return f"Restarting after exit code {state.exit_code}{restarts}"
    if status is Status.CREATED:
        return "Could not start" if state.error else ""
    if state.oom_killed:
        limit = container.config.resources.memory
        return (f"OOM-killed at {format_bytes(limit)}" if limit else "OOM-killed") + restarts
    if state.stopped_by_user:
        return "Stopped by the user" + restarts
    if state.error and state.exit_code in (125, 126, 127):
        return f"Could not run its command ({state.exit_code})"
    if state.error and not state.exit_code:
        return "Failed to run"
    if state.signal:
        return f"Killed by {_signal_name(state.signal)}" + restarts
    if state.exit_code == 0:
        return "Exited normally" + restarts
    return f"Failed with code {state.exit_code}" + restarts


def full_reason(container: Container) -> str:
    """The engine's sentence, when there is something to explain ("" for a plain run)."""
    state = container.state
    if state.status in (Status.RUNNING, Status.PAUSED) and not state.restart_count:
        return ""
    if state.status is Status.CREATED and not state.error:
        return ""
    return exit_reason(container)


def row_detail(container: Container | None, image: str) -> str:
    """A sidebar row's second line: the image, and how it stopped when it did."""
    if container is None:
        return image
    reason = short_reason(container)
    return f"{reason} · {image}" if reason else image


def died_unexpectedly(state: ContainerState) -> bool:
    """Stopped without being asked to, and not with success."""
    if state.status not in (Status.EXITED, Status.DEAD) or state.stopped_by_user:
        return False
    return state.exit_code != 0 or state.oom_killed or bool(state.signal) or \
        state.status is Status.DEAD
