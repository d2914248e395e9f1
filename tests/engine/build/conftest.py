"""Build tests leave no images behind: each one's builds (steps included) are removed."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from engine.errors import ImageNotFound


@pytest_asyncio.fixture
async def engine(engine: Any) -> AsyncIterator[Any]:
    before = {i.id for i in await engine.images.list(all=True)}
    yield engine
    for image in await engine.images.list(all=True):
        if image.id not in before:
            with contextlib.suppress(ImageNotFound):  # gone with an image built on it
                await engine.images.remove(image.id, force=True)
