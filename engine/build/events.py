"""What a build reports as it goes, and the classic builder's text for it.

The builder emits ``BuildEvent`` values; the CLI's plain output and the API's
``stream`` lines are the same text, Docker's classic builder's (``Step N/M :``,
`` ---> Using cache``, `` ---> Running in``...), made by :func:`render`. The
window reads the events themselves (a layer strip grows on each ``step_done``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BuildEvent", "render"]


@dataclass(frozen=True)
class BuildEvent:
    kind: str  # step | cached | running | output | removed | step_done | warning | built | tagged
    step: int = 0
    total: int = 0
    text: str = ""  # the instruction, the output chunk, the warning, the tag
    image_id: str = ""
    container_id: str = ""
    cached: bool = False
    size: int = 0  # bytes of the layer the step made (0: none)
    stream: str = ""  # stdout | stderr for output


def _short(ident: str) -> str:
    return ident.removeprefix("sha256:")[:12]


def render(event: BuildEvent) -> str:
    """The classic builder's text for one event ("" when it shows nothing)."""
    if event.kind == "step":
        return f"Step {event.step}/{event.total} : {event.text}\n"
    if event.kind == "cached":
        return " ---> Using cache\n"
    if event.kind == "running":
        return f" ---> Running in {_short(event.container_id)}\n"
    if event.kind == "output":
        return event.text
    if event.kind == "removed":
        return f" ---> Removed intermediate container {_short(event.container_id)}\n"
    if event.kind == "step_done":
        return f" ---> {_short(event.image_id)}\n"
    if event.kind == "warning":
        return f"[Warning] {event.text}\n"
    if event.kind == "built":
        return f"Successfully built {_short(event.image_id)}\n"
    if event.kind == "tagged":
        return f"Successfully tagged {event.text}\n"
    return ""
