"""How a network record is kept on disk: its file, and the two copies its endpoints'
changes go to.

A record changes at every container start and end (endpoints, addresses handed out
and released). Replacing its file each time (a new file renamed over the old one)
made ext4 start writing the new file's blocks at the rename (auto_da_alloc, so that
a crash leaves a whole file): 0.34 ms median here, 1-7 ms and up to 40 ms while
other programs wrote, and every start waited for it. So the whole record goes, in
place, to the older of two copies (``.<key>.a``, ``.<key>.b``: ~0.02 ms), each
with a generation, its length and a CRC-32: a write that a crash cuts short spoils
only the copy it wrote, and the reader takes the newest whole one. The file
``<key>.json`` holds what the network itself is (what :data:`RUNTIME` names
aside) with the generation it was written at, and is replaced, fsynced, only when
that changes. After a machine crash the copies may be lost or old: the file is
the truth then (no container outlived the machine; repair releases what a copy
still says they held). A file without a generation was written by a Skiff from
before the copies (or an older one beside this one): it wins, and the next save
writes it again with its generation.
"""

from __future__ import annotations

import json
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["RUNTIME", "Stored", "definition", "load", "remove", "save"]

RUNTIME = ("endpoints", "last", "last6", "previous", "leaving")  # gone with a reboot
_COPIES = ("a", "b")


@dataclass
class Stored:
    """A record as read: its JSON and where the next save goes."""

    data: dict[str, Any]
    generation: int  # the newest seen, of the file or a copy
    copy: str  # the copy to write next: the one not holding the newest
    file_current: bool  # the file has a generation (else it is written at the next save)


def definition(data: dict[str, Any]) -> dict[str, Any]:
    """What a record says of the network itself, without what its containers hold."""
    return {key: value for key, value in data.items() if key not in RUNTIME}


def load(directory: Path, key: str) -> Stored:
    """The record ``key``: its newest whole copy, unless the file says otherwise."""
    data = json.loads((directory / f"{key}.json").read_text())
    written = data.pop("generation", None)
    copies = [(found, name) for name in _COPIES
              if (found := _read_copy(directory / f".{key}.{name}")) is not None]
    newest = max(copies, key=lambda c: c[0][0], default=None)
    other = "a" if newest is None else _COPIES[1 - _COPIES.index(newest[1])]
    if newest is None or written is None or newest[0][0] < int(written):
        generation = max([int(written or 0), *(found[0] for found, _ in copies)])
        return Stored(data, generation, other, written is not None)
    (generation, copied), _ = newest
    return Stored(copied, generation, other, True)


def save(directory: Path, key: str, data: dict[str, Any], stored: Stored | None,
         durable: bool) -> None:
    """Write record ``key`` (``stored``: as it was read; None: a new one) to its next
    copy, and its file too when the network itself changed (``durable``) or the
    file has no generation yet."""
    generation = (stored.generation if stored is not None else 0) + 1
    copy = stored.copy if stored is not None else "a"
    body = json.dumps(data, separators=(",", ":")).encode()  # the C encoder: no indent
    blob = b"%d %d %08x\n" % (generation, len(body), zlib.crc32(body)) + body
    fd = os.open(directory / f".{key}.{copy}", os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW
                 | os.O_CLOEXEC, 0o600)
    try:
        written = 0
        while written < len(blob):
            written += os.pwrite(fd, blob[written:], written)
        os.ftruncate(fd, len(blob))
    finally:
        os.close(fd)
    if durable or stored is None or not stored.file_current:
        _write_file(directory, key, {**definition(data), "generation": generation})


def remove(directory: Path, key: str) -> None:
    for path in (directory / f"{key}.json", *(directory / f".{key}.{c}" for c in _COPIES)):
        path.unlink(missing_ok=True)


def _read_copy(path: Path) -> tuple[int, dict[str, Any]] | None:
    """A copy's generation and record; None if it is missing or not whole."""
    try:
        blob = path.read_bytes()
        header, _, rest = blob.partition(b"\n")
        generation, length, crc = header.split(b" ")
        body = rest[:int(length)]
        if len(body) != int(length) or zlib.crc32(body) != int(crc, 16):
            return None
        return int(generation), json.loads(body)
    except (OSError, ValueError):
        return None


def _write_file(directory: Path, key: str, data: dict[str, Any]) -> None:
    tmp = directory / f".{key}.json.tmp"
    target = directory / f"{key}.json"
    replacing = target.exists()
    with open(tmp, "w") as file:
        file.write(json.dumps(data, separators=(",", ":")))
        file.flush()
        os.fsync(file.fileno())
    os.replace(tmp, target)
    if not replacing:  # a crash may then only leave the old file, which is whole
        sync_directory(directory)


def sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
