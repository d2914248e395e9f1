"""Healthchecks as Docker has them: the config, its merge with the image's, the state.

A container's ``Healthcheck`` (Docker's ``Config.Healthcheck``: Test, Interval,
Timeout, StartPeriod, StartInterval in nanoseconds, Retries) is merged with its
image's the way Docker merges them; the result becomes the probe the container's
monitor runs on schedule (engine/helper/runtime/health.py). The monitor records
the outcome in ``status.json`` (engine/wire/healthstate.py).
"""

from __future__ import annotations

from engine.errors import InvalidArgument
from engine.frozen import asdict, field, frozen

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Healthcheck", "merge_healthcheck", "probe_request"]

SECOND = 1_000_000_000
DEFAULT_INTERVAL = 30 * SECOND
DEFAULT_TIMEOUT = 30 * SECOND
DEFAULT_START_INTERVAL = 5 * SECOND
DEFAULT_RETRIES = 3


@frozen
class Healthcheck:
    """Docker's HealthConfig; zero durations and retries take the image's (then the defaults).

    ``test``: [] inherits the image's; ["NONE"] disables; ["CMD", arg...] runs
    the arguments; ["CMD-SHELL", command] runs the command with the shell.
    """

    test: list[str] = field(default_factory=list)
    interval: int = 0
    timeout: int = 0
    start_period: int = 0
    start_interval: int = 0
    retries: int = 0

    def __post_init__(self) -> None:
        if self.test and self.test[0] not in ("NONE", "CMD", "CMD-SHELL"):
            raise InvalidArgument(f"invalid healthcheck test {self.test[0]!r}: it starts "
                                  "with NONE, CMD or CMD-SHELL")
        for name in ("interval", "timeout", "start_period", "start_interval"):
            value = getattr(self, name)
            if value < 0 or (value and value < 1_000_000):
                flag = name.replace("_", "-")
                raise InvalidArgument(f"--health-{flag} cannot be less than 1ms")
        if self.retries < 0:
            raise InvalidArgument("--health-retries cannot be negative")

    @property
    def disabled(self) -> bool:
        return self.test[:1] == ["NONE"]

    def to_docker(self) -> dict[str, Any]:
        """Docker's JSON shape, for inspect and the API."""
        shape: dict[str, Any] = {"Test": list(self.test) or None}
        for name, key in (("interval", "Interval"), ("timeout", "Timeout"),
                          ("start_period", "StartPeriod"), ("start_interval", "StartInterval"),
                          ("retries", "Retries")):
            if getattr(self, name):
                shape[key] = getattr(self, name)
        return shape

    @classmethod
    def from_docker(cls, data: dict[str, Any]) -> Healthcheck:
        def number(key: str) -> int:
            value = data.get(key) or 0
            if not isinstance(value, int) or isinstance(value, bool):
                raise InvalidArgument(f"invalid healthcheck {key}: {value!r}")
            return value

        test = data.get("Test") or []
        if not isinstance(test, list) or not all(isinstance(t, str) for t in test):
            raise InvalidArgument("invalid healthcheck Test: a list of strings")
        return cls(list(test), number("Interval"), number("Timeout"), number("StartPeriod"),
                   number("StartInterval"), number("Retries"))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def merge_healthcheck(own: Healthcheck | None, image: dict[str, Any] | None
                      ) -> Healthcheck | None:
    """Docker's merge: the container's fields win, its zero ones take the image's."""
    from_image = Healthcheck.from_docker(image) if image else None
    if own is None:
        return from_image
    if from_image is None:
        return own
    return Healthcheck(own.test or from_image.test, own.interval or from_image.interval,
                       own.timeout or from_image.timeout,
                       own.start_period or from_image.start_period,
                       own.start_interval or from_image.start_interval,
                       own.retries or from_image.retries)


def probe_request(check: Healthcheck | None, shell: list[str] | None = None
                  ) -> dict[str, Any] | None:
    """What the monitor runs: the argv and every timing with its default; None when
    the container has no healthcheck (none at all, NONE, or an empty test)."""
    if check is None or check.disabled or len(check.test) < 2:
        return None
    kind, rest = check.test[0], check.test[1:]
    args = [*(shell or ["/bin/sh", "-c"]), " ".join(rest)] if kind == "CMD-SHELL" else rest
    return {"args": args, "interval": check.interval or DEFAULT_INTERVAL,
            "timeout": check.timeout or DEFAULT_TIMEOUT, "start_period": check.start_period,
            "start_interval": check.start_interval or DEFAULT_START_INTERVAL,
            "retries": check.retries or DEFAULT_RETRIES}
