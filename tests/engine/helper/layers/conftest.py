"""The layer store the unpacker tests write into, a fresh one for each test, and the
directory beside it that hostile tars aim at."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def layers(tmp_path: Path) -> Path:
    return tmp_path / "layers"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory next to the layer store that hostile tars aim at."""
    path = tmp_path / "outside"
    path.mkdir()
    (path / "keep").write_bytes(b"keep")
    return path
