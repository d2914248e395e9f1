"""An image's layers as rows of the layer picture, each with the build step that made it.

The history an image carries says the step of every layer in docker's words
(``/bin/sh -c #(nop) CMD ["sh"]``); the rows say it as the Dockerfile did
(``CMD ["sh"]``). The images page and the "What is this?" tab list them.
"""

from __future__ import annotations

import re

from app.desktop.widgets.layerstack import LayerRow
from engine import Image

__all__ = ["clean_step", "image_layer_rows"]


def _history_steps(image: Image) -> list[str]:
    """The build step of each real layer, base first ("" where history says nothing)."""
    history = image.config.get("history") or []
    steps = [str(h.get("created_by", "")) for h in history
             if isinstance(h, dict) and not h.get("empty_layer")]
    layers = len(image.layers)
    if len(steps) < layers:
        steps += [""] * (layers - len(steps))
    return steps[:layers]


_SUM = re.compile(r"\b(file:|dir:|multi:)([0-9a-f]{64})\b")


def clean_step(step: str) -> str:
    """docker's ``/bin/sh -c #(nop) CMD ["sh"]`` → ``CMD ["sh"]``, and a RUN's
    ``|1 V=2 /bin/sh -c make`` → ``RUN make`` (the build args in scope left out)."""
    text = step.strip()
    if text.startswith("|"):
        count, _, rest = text[1:].partition(" ")
        if count.isdigit():
            text = rest.split(" ", int(count))[-1] if int(count) else rest
    if " #(nop) " in f"{text} ":
        # the sum of what COPY/ADD took, shortened as docker shortens IDs
        return _SUM.sub(lambda m: m.group(1) + m.group(2)[:12],
                        text.split("#(nop)", 1)[1].strip())
    for shell in ("/bin/sh -c ", "/bin/sh -ec ", "/bin/bash -c "):
        if text.startswith(shell):
            return "RUN " + text[len(shell):].strip()
    return text


def image_layer_rows(image: Image, sizes: dict[str, int] | None = None) -> list[LayerRow]:
    """The image's read-only layers from the top, each with the step that made it;
    sizes from ``sizes`` (unpacked, by diff_id) when given, else the blob's."""
    rows = []
    steps = _history_steps(image)
    total = len(image.layers)
    for number in range(total, 0, -1):
        layer = image.layers[number - 1]
        step = clean_step(steps[number - 1]) or "(the image's history does not say)"
        label = f"Layer {number}" + (" (base)" if number == 1 else "")
        size = sizes.get(layer.diff_id, layer.size) if sizes is not None else layer.size
        rows.append(LayerRow("image", label, layer.diff_id if sizes is not None
                             else layer.digest, size, step, True))
    return rows
