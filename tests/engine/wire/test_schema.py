"""The schema's patterns: texts that re compiles when first used, or all at once."""

from __future__ import annotations

import re

import pytest

from engine.errors import ProtocolError
from engine.wire.containerspec import SCHEMA
from engine.wire.schema import Field, check_dict, compile_patterns, str_field


def test_a_pattern_is_checked_from_its_text() -> None:
    schema = {"name": str_field(r"^[a-z]+\Z")}
    assert check_dict({"name": "web"}, schema, "x") == {"name": "web"}
    with pytest.raises(ProtocolError, match=r"x\.name: malformed value"):
        check_dict({"name": "Web"}, schema, "x")


def test_compile_patterns_reaches_the_patterns_of_nested_fields() -> None:
    nested = {"outer": Field("list[dict]", items={"inner": str_field("(unclosed")})}
    with pytest.raises(re.error):
        compile_patterns(nested)
    compile_patterns(SCHEMA)  # the spec's own all compile
