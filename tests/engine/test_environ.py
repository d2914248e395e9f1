"""Environment lists merged as Docker merges them."""

from __future__ import annotations

import pytest

from engine.environ import merge_env
from engine.errors import InvalidArgument


def test_env_merge_keeps_order_and_bare_names() -> None:
    assert merge_env(["A=1", "B=2"], ["B=3", "C", "A=x=y"]) == ["A=x=y", "B=3", "C"]
    with pytest.raises(InvalidArgument, match="invalid environment variable: '=x'"):
        merge_env([], ["=x"])
