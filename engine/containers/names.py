"""Container names: the one rule every part checks, and docker's adjective_surname
style for the names Skiff makes up (never reused).

The CLI, the window, the REST server and the helper's protocol all check names
with :data:`NAME_PATTERN`, so a name one accepts is never refused by another.
"""

from __future__ import annotations

import random
import re

from engine.errors import InvalidArgument

__all__ = ["NAME_MAX", "NAME_PATTERN", "check_name", "generate_name", "next_free"]

#: The longest name: names become DNS names on networks and lines in /etc/hosts.
NAME_MAX = 128
NAME_PATTERN = re.compile(rf"^[a-zA-Z0-9][a-zA-Z0-9_.-]{{0,{NAME_MAX - 1}}}$")
_CHARACTERS = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")

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


def check_name(name: str) -> str:
    """The name without docker's optional leading "/"; InvalidArgument if it breaks the rule."""
    bare = name.removeprefix("/")
    if not _CHARACTERS.match(bare):
        raise InvalidArgument(f'Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-]'
                              " are allowed")
    if len(bare) > NAME_MAX:
        raise InvalidArgument(f"Invalid container name ({bare[:20]}..., {len(bare)} characters): "
                              f"a name has at most {NAME_MAX} characters")
    return bare


def generate_name(taken: set[str]) -> str:
    for _ in range(100):
        name = f"{random.choice(_ADJECTIVES)}_{random.choice(_NAMES)}"
        if name not in taken:
            return name
    return next_free(f"{random.choice(_ADJECTIVES)}_{random.choice(_NAMES)}", taken)


def next_free(base: str, taken: set[str]) -> str:
    """``base``, else ``base-2``, ``base-3``...: how the app names containers from images."""
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
