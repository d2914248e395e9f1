"""``docker commit``: a container's changes as one more layer on its image.

The new image's config is the image's with the container's own settings on top
(command, entrypoint, environment, working directory, user, labels) and the
``-c`` instructions applied (engine/images/instructions.py); its history gains
one step with the container's command line and the ``-m`` message. A running
container is paused while its upper directory is read, as docker does.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import time
from collections.abc import Sequence
from typing import Any

from engine.build.imagedoc import encode
from engine.build.seam import EngineSeam
from engine.containers.imageconfig import merge_config
from engine.errors import InvalidState
from engine.images.instructions import apply_changes
from engine.images.model import Image
from engine.wire.logformat import format_time

__all__ = ["commit_container"]

_ENDING = 10.0  # seconds a container found ending may take to be done


async def commit_container(seam: EngineSeam, ref: str, reference: str = "", *,
                           changes: Sequence[str] = (), message: str = "",
                           author: str = "", pause: bool = True) -> Image:
    container = await seam.containers.get(ref)
    config = container.config
    image = seam.images.get(config.image_id)
    paused = False
    if container.state.status == "running":
        if not pause:
            raise InvalidState(f"container {container.name} is running: commit pauses it "
                               "unless --pause=false")
        try:
            await seam.containers.pause(container.id)
            paused = True
        except InvalidState:  # it ended meanwhile: its layer is still
            pass
    try:
        layer = await seam.container_layer(container.id)
    except InvalidState:
        # Its command ended as it was paused: once it has exited, the layer is still.
        await asyncio.wait_for(seam.containers.wait(container.id), _ENDING)
        layer = await seam.container_layer(container.id)
    finally:
        if paused:
            with contextlib.suppress(InvalidState):  # it ended while paused
                await seam.containers.unpause(container.id)
    doc: dict[str, Any] = copy.deepcopy(image.config)
    merged = merge_config(config, image.run_config)
    run = {**image.run_config, "Entrypoint": merged.entrypoint, "Cmd": merged.cmd,
           "Env": merged.env, "WorkingDir": merged.working_dir, "User": merged.user,
           "Labels": merged.labels}
    run = apply_changes(run, changes)
    created = format_time(time.time_ns())
    doc["created"] = created
    doc["config"] = {k: v for k, v in run.items() if v not in (None, [], {}, "")}
    if author:
        doc["author"] = author
    step: dict[str, Any] = {"created": created,
                            "created_by": " ".join(merged.args)}
    if message:
        step["comment"] = message
    if author:
        step["author"] = author
    layers = list(image.layers)
    if layer is None:
        step["empty_layer"] = True
    else:
        layers.append(layer)
        doc.setdefault("rootfs", {"type": "layers", "diff_ids": []})
        doc["rootfs"]["diff_ids"] = [*doc["rootfs"].get("diff_ids", []), layer.diff_id]
    doc["history"] = [*(doc.get("history") or []), step]
    manifest, config_bytes = encode(doc, layers)
    committed = await seam.add_image(manifest, config_bytes, layers, parent=image.id)
    if reference:
        seam.tag(committed.id, reference)
    seam.emit("commit", committed.id, comment=message)
    return committed
