"""Block I/O byte counters: v1 ``blkio.*io_service_bytes*``, v2 ``io.stat``."""

from __future__ import annotations

__all__ = ["parse_v1", "parse_v2"]


def parse_v1(text: str | None) -> tuple[int, int]:
    """Sum of ``<maj:min> Read|Write <bytes>`` lines over devices → (read, write)."""
    read = write = 0
    for line in (text or "").splitlines():
        fields = line.split()
        if len(fields) != 3:
            continue  # "Total N"
        try:
            value = int(fields[2])
        except ValueError:
            continue
        if fields[1] == "Read":
            read += value
        elif fields[1] == "Write":
            write += value
    return read, write


def parse_v2(text: str | None) -> tuple[int, int]:
    """Sum of ``<maj:min> rbytes=N wbytes=N ...`` lines → (read, write)."""
    read = write = 0
    for line in (text or "").splitlines():
        for field in line.split()[1:]:
            key, _, value = field.partition("=")
            if key == "rbytes":
                read += int(value) if value.isdigit() else 0
            elif key == "wbytes":
                write += int(value) if value.isdigit() else 0
    return read, write
