"""Legacy links (``--link NAME[:ALIAS]``, the API's HostConfig.Links).

A link makes the linked container reachable from this one by its name and the
alias: at every start the engine finds where the linked container is now on this
one's network and the helper writes it into the hosts file, as docker's legacy
links do (their environment variables are not made). The linked container must
run, on the same network.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.errors import InvalidArgument
from engine.names import check_container_name

__all__ = ["docker_links", "parse_link"]


def parse_link(text: str) -> str:
    """``NAME[:ALIAS]``, or the API's ``/NAME:/CONTAINER/ALIAS``, as ``NAME:ALIAS``."""
    name, _, alias = text.partition(":")
    name = name.lstrip("/")
    alias = alias.rsplit("/", 1)[-1] if alias else name
    if not name or not alias:
        raise InvalidArgument(f"invalid format for link: {text}")
    check_container_name(name)
    try:
        check_container_name(alias)
    except InvalidArgument:
        raise InvalidArgument(f"invalid link alias {alias!r}: use letters, digits, '_', "
                              "'.' and '-'") from None
    return f"{name}:{alias}"


def docker_links(container_name: str, links: Sequence[str]) -> list[str] | None:
    """HostConfig.Links as docker shows them: ``/NAME:/CONTAINER/ALIAS``."""
    shown = []
    for link in links:
        name, _, alias = link.partition(":")
        shown.append(f"/{name}:/{container_name}/{alias}")
    return shown or None
