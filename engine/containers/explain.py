"""Why a container is in the state it is in, said in words a beginner follows."""

from __future__ import annotations

import signal

from engine.containers.model import Container
from engine.containers.state import Status

__all__ = ["exit_reason", "format_bytes"]


def format_bytes(value: int) -> str:
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{value} B"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def exit_reason(container: Container) -> str:
    """One sentence: running, or how and why it stopped."""
    state = container.state
    status = state.status
    restarts = state.restart_count
    policy = container.config.restart_policy.name
    suffix = ""
    if restarts:
        suffix = f" (restarted {restarts} time{'s' if restarts != 1 else ''} by its " \
                 f"'{policy}' restart policy)"
    if status is Status.CREATED:
        if state.error:
            return f"Could not start: {state.error}"
        return "Created, never started."
    if status is Status.RUNNING:
        return f"Running{suffix}."
    if status is Status.PAUSED:
        return "Paused: its processes are frozen until you resume it."
    if status is Status.RESTARTING:
        return f"Restarting: it exited with code {state.exit_code} and its '{policy}' " \
               "restart policy starts it again."
    if state.error and not state.exit_code:
        return f"Failed: {state.error}"
    if state.oom_killed:
        limit = container.config.resources.memory
        at = f" of {format_bytes(limit)}" if limit else ""
        return f"Killed because it ran out of memory: it reached its memory limit{at} and " \
               f"the kernel's OOM killer stopped it (exit code {state.exit_code}).{suffix}"
    if state.stopped_by_user:
        how = f" with {_signal_name(state.signal)}" if state.signal else ""
        return f"Stopped by the user{how} (exit code {state.exit_code}).{suffix}"
    if state.error and state.exit_code in (125, 126, 127):
        return f"Could not run its command: {state.error} (exit code {state.exit_code})."
    if state.signal:
        return f"Killed by signal {state.signal} ({_signal_name(state.signal)}), exit code " \
               f"{state.exit_code}.{suffix}"
    if state.exit_code == 0:
        return f"Exited normally (code 0): its command finished.{suffix}"
    return f"Failed with exit code {state.exit_code}: its command reported an error.{suffix}"
