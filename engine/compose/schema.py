"""Reading a compose file: YAML with line numbers, checked against the Compose schema.

The schema is the Compose Specification's own (compose-spec.json, vendored;
see README.md here), checked by ``jsonschema``, so what is refused and why is
the specification's. An error names the file, the path in it and the line:
``compose.yaml:7: services.web.ports[0]: 'eighty' is not a valid port``.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from engine.errors import InvalidArgument

__all__ = ["ComposeFileError", "load_yaml", "validate"]

Path_ = tuple[str | int, ...]


class ComposeFileError(InvalidArgument):
    """A compose file that is not YAML, or not what the specification allows."""


def load_yaml(text: str, source: str) -> tuple[dict[str, Any], dict[Path_, int]]:
    """The document and the line (1-based) of every value in it, by its path."""
    import yaml

    try:
        node = yaml.compose(text, Loader=_loader())
        data = yaml.load(text, Loader=_loader())  # a SafeLoader, with YAML 1.2 scalars
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise ComposeFileError(f"{where}: not valid YAML: {problem}") from None
    if data is None:
        raise ComposeFileError(f"{source}: empty compose file")
    if not isinstance(data, dict):
        raise ComposeFileError(f"{source}: top-level object must be a mapping")
    lines: dict[Path_, int] = {}
    if node is not None:
        _lines(node, (), lines)
    return data, lines


@functools.cache
def _loader() -> Any:
    """PyYAML's safe loader with YAML 1.2's plain scalars, as Compose's Go YAML reads them:
    only true and false are booleans (``on``, ``yes``, ``NO`` stay text), ``80:80`` is
    text (not YAML 1.1's base-60 number), dates are text, ``0o17``, ``017`` (both 15)
    and ``0x1f`` are numbers."""
    import re

    import yaml

    class Loader(yaml.SafeLoader):
        pass

    bool_tag, int_tag = "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int"
    float_tag, stamp_tag = "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp"
    Loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers
                if tag not in (bool_tag, int_tag, float_tag, stamp_tag)]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
    Loader.add_implicit_resolver(bool_tag, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                 list("tTfF"))
    Loader.add_implicit_resolver(int_tag, re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
                                 list("-+0123456789"))
    Loader.add_implicit_resolver(
        float_tag, re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)(?:[eE][-+]?[0-9]+)?"
                              r"|[-+]?[0-9]+[eE][-+]?[0-9]+|[-+]?\.(?:inf|Inf|INF)"
                              r"|\.(?:nan|NaN|NAN))$"), list("-+0123456789."))

    def integer(loader: Any, node: Any) -> int:
        text = str(loader.construct_scalar(node))
        if text.startswith(("0o", "0x")):
            return int(text[2:], 8 if text[1] == "o" else 16)
        digits = text.lstrip("+-")
        if len(digits) > 1 and digits.startswith("0") and set(digits) <= set("01234567"):
            return int(text, 8)  # as Go's YAML reads 017 (15)
        return int(text, 10)

    Loader.add_constructor(int_tag, integer)
    return Loader


def _lines(node: Any, path: Path_, lines: dict[Path_, int]) -> None:
    import yaml

    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                lines.setdefault((*path, key.value), key.start_mark.line + 1)
                _lines(value, (*path, key.value), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _lines(item, (*path, index), lines)


@functools.cache
def _validator() -> Any:
    import jsonschema

    schema = json.loads((Path(__file__).with_name("compose-spec.json")).read_text())
    return jsonschema.Draft7Validator(schema)


def dotted(path: Path_) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def validate(data: dict[str, Any], source: str, lines: dict[Path_, int]) -> None:
    """ComposeFileError with the first problem the specification finds, if any."""
    errors = sorted(_validator().iter_errors(data),
                    key=lambda e: (len(e.path), [str(p) for p in e.path]))
    if not errors:
        return
    error = _deepest(errors[0])
    path: Path_ = tuple(error.absolute_path)
    at = path
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        extra = [k for k in error.instance if (*path, k) in lines and
                 k not in error.schema.get("properties", {})]
        at = (*path, extra[0]) if extra else path
    line = next((lines[at[:n]] for n in range(len(at), -1, -1) if at[:n] in lines), 0)
    where = f"{source}:{line}" if line else source
    name = dotted(path)
    raise ComposeFileError(f"{where}: {name + ': ' if name else ''}{_message(error)}")


def _deepest(error: Any) -> Any:
    """For oneOf/anyOf, the alternative's error that got furthest into the value; when
    none got into it (the value's type fits no alternative), the choice itself."""
    while error.context:
        deepest = max(error.context, key=lambda e: (len(e.absolute_path), -len(e.schema_path)))
        if len(deepest.absolute_path) == len(error.absolute_path) and \
                all(e.validator == "type" for e in error.context
                    if len(e.absolute_path) == len(error.absolute_path)):
            return error
        error = deepest
    return error


def _message(error: Any) -> str:
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        pattern = error.schema.get("patternProperties")
        if pattern:
            import re

            extra = [k for k in extra if not any(re.search(p, k) for p in pattern)]
        if extra:
            return f"additional properties {', '.join(map(repr, extra))} not allowed"
    if error.validator == "type":
        wanted = error.validator_value
        kinds = " or ".join(wanted) if isinstance(wanted, list) else wanted
        return f"must be a {kinds}"
    if error.validator in ("oneOf", "anyOf") and error.context:
        kinds = []
        for sub in error.context:
            wanted = sub.validator_value if sub.validator == "type" else []
            kinds += [k for k in (wanted if isinstance(wanted, list) else [wanted])
                      if k not in kinds]
        if kinds:
            return f"must be a {' or '.join(kinds)}"
    if error.validator == "pattern" and "port" in str(error.schema.get("description", "")):
        return f"invalid port {error.instance!r}"
    return str(error.message)
