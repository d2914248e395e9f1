"""What the window asks of the engine about images and registries.

The image browser and the Images page call these; each runs through the one
bridge (:meth:`~app.desktop.bridge.Bridge.submit`), so failures become sentences
and closing the window cancels them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.images.model import Image
from engine.registry.model import SearchResult

if TYPE_CHECKING:
    from app.desktop.bridge import Bridge, Pending

__all__ = ["catalog", "image_tags", "load", "login", "remove_image", "search"]


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

    return bridge.submit(f"import {path.name}", lambda e: e.load(path), done, failed)

def remove_image(bridge: Bridge, ref: str, on_done: Callable[[Any], None] | None = None
                 ) -> Pending:
    def done(lines: Any) -> None:
        bridge.refresh_images()
        if on_done is not None:
            on_done(lines)

    return bridge.submit(f"remove the image {ref}", lambda e: e.remove_image(ref), done)

def search(bridge: Bridge, term: str, on_done: Callable[[list[SearchResult]], None],
           on_error: Callable[[str], None]) -> Pending:
    return bridge.submit(f"search Docker Hub for {term!r}", lambda e: e.search(term, 50),
                       on_done, on_error)

def catalog(bridge: Bridge, registry: str, on_done: Callable[[list[str]], None],
            on_error: Callable[[str], None]) -> Pending:
    return bridge.submit(f"list the images of {registry}", lambda e: e.catalog(registry),
                       on_done, on_error)

def image_tags(bridge: Bridge, repository: str, on_done: Callable[[list[str]], None],
               on_error: Callable[[str], None]) -> Pending:
    return bridge.submit(f"list the tags of {repository}",
                       lambda e: e.image_tags(repository), on_done, on_error)

def login(bridge: Bridge, registry: str, username: str, password: str,
          on_done: Callable[[None], None], on_error: Callable[[str], None]
          ) -> Pending:
    return bridge.submit(f"log in to {registry}",
                       lambda e: e.login(registry, username, password), on_done, on_error)
