"""Generated container names: docker's adjective_surname style, never reused."""

from __future__ import annotations

import random
import re

from engine.errors import InvalidArgument

__all__ = ["check_name", "generate_name", "next_free"]

_VALID = re.compile(r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]*$")

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
    if not _VALID.match(name):
        raise InvalidArgument(f'Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-]'
                              " are allowed")
    return name.removeprefix("/")


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
