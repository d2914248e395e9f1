"""A healthcheck's state as the monitor records it in ``status.json`` (Docker's
``State.Health`` shape) and the engine reads it back, without trusting it.

The monitor (engine/helper/runtime/health.py) writes it; inspect, ps and the
window read it through engine/wire/statusfile.py. The config it comes from is
engine/containers/health.py's.
"""

from __future__ import annotations

from engine.frozen import frozen

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["MAX_LOG", "MAX_OUTPUT", "STATUSES", "HealthLogEntry", "HealthState", "parse_health"]

STATUSES = ("starting", "healthy", "unhealthy")
MAX_LOG = 5  # probes kept, as Docker keeps
MAX_OUTPUT = 4096  # bytes of a probe's output kept, as Docker keeps


@frozen
class HealthLogEntry:
    start: str
    end: str
    exit_code: int
    output: str

    def to_docker(self) -> dict[str, Any]:
        return {"Start": self.start, "End": self.end, "ExitCode": self.exit_code,
                "Output": self.output}


@frozen
class HealthState:
    status: str = "starting"  # starting | healthy | unhealthy
    failing_streak: int = 0
    log: tuple[HealthLogEntry, ...] = ()

    def to_docker(self) -> dict[str, Any]:
        return {"Status": self.status, "FailingStreak": self.failing_streak,
                "Log": [entry.to_docker() for entry in self.log]}

    @property
    def label(self) -> str:
        """What ps shows in parentheses: healthy, unhealthy, health: starting."""
        return "health: starting" if self.status == "starting" else self.status


def parse_health(value: object) -> HealthState | None:
    """The monitor's record (Docker's shape), checked field by field; None if unusable."""
    if not isinstance(value, dict) or value.get("Status") not in STATUSES:
        return None
    streak = value.get("FailingStreak", 0)
    if not isinstance(streak, int) or isinstance(streak, bool) or streak < 0:
        streak = 0
    entries: list[HealthLogEntry] = []
    log = value.get("Log")
    for item in log[-MAX_LOG:] if isinstance(log, list) else []:
        if not isinstance(item, dict):
            continue
        start, end, code, output = (item.get(k) for k in ("Start", "End", "ExitCode", "Output"))
        if isinstance(start, str) and isinstance(end, str) and isinstance(output, str) \
                and isinstance(code, int) and not isinstance(code, bool):
            entries.append(HealthLogEntry(start, end, code, output[:MAX_OUTPUT]))
    return HealthState(str(value["Status"]), streak, tuple(entries))
