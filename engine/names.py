"""Container, volume and network names: the one rule every part checks, and made-up names.

Docker's rule for containers and volumes (moby ``daemon/names``):
``[a-zA-Z0-9][a-zA-Z0-9_.-]+``, so at least two characters. Skiff adds one limit,
:data:`NAME_MAX`, because names become DNS names on networks and lines in
/etc/hosts; a network's name is at most 64 characters, as it also names a bridge
and firewall chains. The CLI, the window, the
REST server and the helper's protocol all check names with :data:`NAME_PATTERN`,
so a name one accepts is never refused by another. Made-up names are docker's
``adjective_surname`` style, or the image's name counted up (``busybox-2``).
"""

from __future__ import annotations

import re
from collections.abc import Collection

from engine.errors import InvalidArgument
from engine.images.reference import Reference

__all__ = [
    "NAME_CHARS",
    "NAME_MAX",
    "NAME_PATTERN",
    "NETWORK_NAME_MAX",
    "NETWORK_NAME_PATTERN",
    "check_container_name",
    "check_network_name",
    "check_volume_name",
    "generate_name",
    "image_name",
    "next_free",
]

#: Docker's RestrictedNameChars, as its errors print it.
NAME_CHARS = "[a-zA-Z0-9][a-zA-Z0-9_.-]"
#: The longest name: names become DNS names on networks and lines in /etc/hosts.
NAME_MAX = 128
# The patterns are regular expressions' texts, compiled by re's cache when first used
# (engine/wire/schema.py).
#: What the helper's schema passes: the rule within the limit, and also the one-character
#: names that Skiff made before it followed docker's two-character minimum, so that
#: such containers still start.
NAME_PATTERN = rf"^{NAME_CHARS}{{0,{NAME_MAX - 1}}}$"
_CHARACTERS = rf"^{NAME_CHARS}+$"
#: A network's name also names its bridge and firewall chains: shorter, and some taken.
NETWORK_NAME_MAX = 64
NETWORK_NAME_PATTERN = rf"^{NAME_CHARS}{{0,{NETWORK_NAME_MAX - 1}}}$"
_RESERVED_NETWORKS = ("host", "none", "default")
_INVALID = r"[^a-zA-Z0-9_.-]+"

_ADJECTIVES = (
    "admiring", "brave", "busy", "calm", "clever", "cool", "eager", "elegant", "epic",
    "festive", "focused", "gallant", "gentle", "happy", "hopeful", "jolly", "keen", "kind",
    "lucid", "modest", "nifty", "optimistic", "peaceful", "quirky", "relaxed", "serene",
    "sharp", "stoic", "sweet", "tender", "trusting", "upbeat", "vibrant", "wizardly", "zen",
)
_NAMES = (
    "albattani", "babbage", "bardeen", "bohr", "cori", "curie", "darwin", "dijkstra",
    "einstein", "euler", "faraday", "fermi", "feynman", "galileo", "goldberg", "hopper",
    "hypatia", "johnson", "kepler", "knuth", "lamarr", "lovelace", "meitner", "mirzakhani",
    "newton", "noether", "pascal", "ritchie", "shannon", "thompson", "torvalds", "turing",
    "wozniak", "yalow",
)


def check_container_name(name: str) -> str:
    """The name without docker's optional leading "/"; InvalidArgument if it breaks the rule."""
    bare = name.removeprefix("/")
    if not re.match(_CHARACTERS, bare):
        raise InvalidArgument(f"Invalid container name ({name}), only {NAME_CHARS} are allowed")
    _check_length("container", bare)
    return bare


def check_volume_name(name: str) -> str:
    """A named volume's name, by the same rule; docker's words when it breaks it."""
    if not re.match(_CHARACTERS, name):
        raise InvalidArgument(f'"{name}" includes invalid characters for a local volume name, '
                              f'only "{NAME_CHARS}" are allowed. If you intended to pass a host '
                              "directory, use absolute path")
    _check_length("volume", name)
    return name


def check_network_name(name: str) -> str:
    """A user-defined network's name: the same characters, at most 64, not a reserved one."""
    if not re.match(NETWORK_NAME_PATTERN, name):
        raise InvalidArgument(f"invalid network name {name!r}: use letters, digits, '_', '.' "
                              f"and '-', starting with a letter or digit (at most "
                              f"{NETWORK_NAME_MAX})")
    if name in _RESERVED_NETWORKS:
        raise InvalidArgument(f"network name {name!r} is reserved")
    return name


def _check_length(kind: str, name: str) -> None:
    if len(name) > NAME_MAX:
        raise InvalidArgument(f"Invalid {kind} name ({name[:20]}..., {len(name)} characters): "
                              f"a name has at most {NAME_MAX} characters")


def image_name(ref: str, taken: Collection[str]) -> str:
    """A free name from an image reference: ``busybox``, ``busybox-2``... (the window's way)."""
    try:
        last = Reference.parse(ref).repository.rsplit("/", 1)[-1]
    except InvalidArgument:
        last = ref.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0]
    base = re.sub(_INVALID, "-", last).strip("-_.")[:NAME_MAX - 8]
    return next_free(base if len(base) > 1 else "container", taken)


def generate_name(taken: Collection[str]) -> str:
    """docker's style: ``admiring_turing``, never one that is taken."""
    import random  # here: the checks (every reader of a spec) need none of it, ~1.5 ms

    for _ in range(100):
        name = f"{random.choice(_ADJECTIVES)}_{random.choice(_NAMES)}"
        if name not in taken:
            return name
    return next_free(f"{random.choice(_ADJECTIVES)}_{random.choice(_NAMES)}", taken)


def next_free(base: str, taken: Collection[str]) -> str:
    """``base``, else ``base-2``, ``base-3``...: how the app names containers from images."""
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
