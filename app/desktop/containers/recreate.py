"""Applying new settings: a container's config never changes, so it is replaced.

The new container is made first under a temporary name (so a bad setting
loses nothing), then the old one is stopped and removed, the new one takes its
name and starts if the old one was running. :func:`apply_settings` does it as a
task of the bridge, for the Settings tab.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING

from engine import Container, ContainerConfig, Engine, next_free

if TYPE_CHECKING:
    from app.desktop.bridge import Bridge, Pending

__all__ = ["apply_settings", "recreate"]


async def recreate(engine: Engine, old: Container, config: ContainerConfig,
                   taken: Collection[str] = (), name: str = "",
                   progress: Callable[[str], None] = lambda _step: None) -> Container:
    """``name``: the new container's name (default: the old one's); ``progress`` hears
    each step in words, for the Settings tab to show in place."""
    was_running = old.state.status.is_active
    name = name or old.name
    temporary = next_free(f"{name}-new", set(taken) | {old.name, name})
    progress(f"Creating the new {name}…")
    new = await engine.containers.create(config, temporary)
    try:
        current = await engine.containers.get(old.id)
        if current.state.status.can_stop():
            progress(f"Stopping the old {old.name}…")
            await engine.containers.stop(old.id)
        progress(f"Removing the old {old.name}…")
        await engine.containers.remove(old.id)
    except BaseException:
        await engine.containers.remove(new.id, force=True)
        raise
    new = await engine.containers.rename(new.id, name)
    if was_running:
        progress(f"Starting {name}…")
        new = await engine.containers.start(new.id)
    return new


def apply_settings(bridge: Bridge, container: Container, config: ContainerConfig,
                   name: str = "", on_progress: Callable[[str], None] | None = None,
                   on_error: Callable[[str], None] | None = None) -> Pending:
    """Replace ``container`` by one made from ``config`` (named ``name``, default the
    same), started if the old one was running; ``on_progress`` hears each step."""
    bridge.status.emit(f"Recreating {container.name}…")

    async def run(engine: Engine) -> Container:
        return await recreate(engine, container, config, bridge.taken_names(), name,
                              on_progress or (lambda _step: None))

    def done(new: Container) -> None:
        bridge.status.emit("")
        bridge.container_removed.emit(container.id)
        bridge.announce(new)
        bridge.container_recreated.emit(container.id, new)

    def failed(message: str) -> None:
        bridge.status.emit("")
        bridge.error.emit(message)
        if on_error is not None:
            on_error(message)
        bridge.refresh_containers()

    return bridge.submit(f"apply the new settings to {container.name}", run, done, failed)
