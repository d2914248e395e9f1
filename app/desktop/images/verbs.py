"""What the window asks of the engine about images and registries.

The image browser and the Images page call these; each runs through the one
bridge (:meth:`~app.desktop.bridge.Bridge.submit`), so failures become sentences
and closing the window cancels them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.desktop.images.overview import ImageEntry, image_entries
from engine import HistoryEntry, Image, SearchResult

if TYPE_CHECKING:
    from app.desktop.bridge import Bridge, Pending
    from engine import Engine

__all__ = ["Details", "Overview", "catalog", "details", "image_tags", "load", "login", "overview",
           "prune", "prune_preview", "push", "remove_image", "remove_images", "save", "search",
           "tag"]


def load(bridge: Bridge, path: Path, on_done: Callable[[list[Image]], None] | None = None,
         on_error: Callable[[str], None] | None = None) -> Pending:
    bridge.status.emit(f"Importing {path.name}…")

    def done(images: list[Image]) -> None:
        bridge.status.emit("")
        bridge.refresh_images()
        if on_done is not None:
            on_done(images)

    def failed(message: str) -> None:
        bridge.status.emit("")
        bridge.error.emit(message)
        if on_error is not None:
            on_error(message)

    return bridge.submit(f"import {path.name}", lambda e: e.images.load(path), done, failed)

def remove_image(bridge: Bridge, ref: str, on_done: Callable[[Any], None] | None = None
                 ) -> Pending:
    def done(lines: Any) -> None:
        bridge.refresh_images()
        if on_done is not None:
            on_done(lines)

    return bridge.submit(f"remove the image {ref}", lambda e: e.images.remove(ref), done)

def search(bridge: Bridge, term: str, on_done: Callable[[list[SearchResult]], None],
           on_error: Callable[[str], None]) -> Pending:
    return bridge.submit(f"search Docker Hub for {term!r}", lambda e: e.images.search(term, 50),
                       on_done, on_error)

def catalog(bridge: Bridge, registry: str, on_done: Callable[[list[str]], None],
            on_error: Callable[[str], None]) -> Pending:
    return bridge.submit(f"list the images of {registry}", lambda e: e.registry.catalog(registry),
                       on_done, on_error)

def image_tags(bridge: Bridge, repository: str, on_done: Callable[[list[str]], None],
               on_error: Callable[[str], None]) -> Pending:
    return bridge.submit(f"list the tags of {repository}",
                       lambda e: e.registry.tags(repository), on_done, on_error)

def login(bridge: Bridge, registry: str, username: str, password: str,
          on_done: Callable[[None], None], on_error: Callable[[str], None]
          ) -> Pending:
    return bridge.submit(f"log in to {registry}",
                       lambda e: e.registry.login(registry, username, password), on_done, on_error)


# -- the Images page ------------------------------------------------------------------
# Narrow seams over today's Engine (``e.system.df()``, ``e._shared.image_store``...): when the
# engine's services land, only these lines change.


@dataclass(frozen=True)
class Overview:
    entries: list[ImageEntry]
    layer_sizes: dict[str, int]  # by diff_id, for the layer view


def overview(bridge: Bridge, on_done: Callable[[Overview], None],
             on_error: Callable[[str], None] | None = None) -> Pending:
    async def call(e: Engine) -> Overview:
        usage = await e.system.df()
        containers = [c.container for c in usage.containers]
        return Overview(image_entries(usage, containers), await e.images.layer_sizes())

    return bridge.submit("list the images", call, on_done, on_error)


def remove_images(bridge: Bridge, refs: Sequence[str], force: bool,
                  on_done: Callable[[list[tuple[str, str]]], None]) -> Pending:
    async def call(e: Engine) -> list[tuple[str, str]]:
        lines: list[tuple[str, str]] = []
        for ref in refs:
            lines += await e.images.remove(ref, force=force)
        return lines

    def done(lines: list[tuple[str, str]]) -> None:
        bridge.refresh_images()
        on_done(lines)

    return bridge.submit(f"remove {', '.join(refs)}", call, done)


def tag(bridge: Bridge, source: str, target: str, on_done: Callable[[None], None]) -> Pending:
    return bridge.submit(f"tag {source} as {target}", lambda e: e.images.tag(source, target),
                         on_done)


def push(bridge: Bridge, ref: str, on_done: Callable[[str], None],
         on_error: Callable[[str], None] | None = None) -> Pending:
    return bridge.submit(f"push {ref}", lambda e: e.images.push(ref), on_done, on_error)


def save(bridge: Bridge, refs: Sequence[str], archive: Path,
         on_done: Callable[[None], None]) -> Pending:
    return bridge.submit(f"save {', '.join(refs)} to {archive.name}",
                         lambda e: e.images.save(list(refs), archive), on_done)


def prune(bridge: Bridge, all_unused: bool, on_done: Callable[[Any], None]) -> Pending:
    def done(pruned: Any) -> None:
        bridge.refresh_images()
        on_done(pruned)

    return bridge.submit("prune images", lambda e: e.images.prune(all=all_unused), done)


def prune_preview(bridge: Bridge, all_unused: bool, on_done: Callable[[Any], None],
        on_error: Callable[[str], None] | None = None) -> Pending:
    return bridge.submit("count what an image prune takes",
                         lambda e: e.images.prune(all=all_unused, dry_run=True), on_done, on_error)


@dataclass(frozen=True)
class Details:
    history: list[HistoryEntry]  # newest first
    inspect: dict[str, Any]


def details(bridge: Bridge, ref: str, on_done: Callable[[Details], None]) -> Pending:
    async def call(e: Engine) -> Details:
        return Details(await e.images.history(ref), (await e.images.inspect(ref)).docker_json())

    return bridge.submit(f"read the image {ref}", call, on_done)
