"""The layer store the unpacker tests write into: a fresh one for each test."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def layers(tmp_path: Path) -> Path:
    return tmp_path / "layers"
