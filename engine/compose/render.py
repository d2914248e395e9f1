"""The project model as ``docker compose config`` prints it: YAML, multi-line strings as blocks."""

from __future__ import annotations

from typing import Any

__all__ = ["render_yaml"]


def render_yaml(model: dict[str, Any]) -> str:
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    def text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, text)
    return str(yaml.dump(model, Dumper=Dumper, sort_keys=False, default_flow_style=False,
                         allow_unicode=True))
