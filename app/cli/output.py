"""How the CLI prints things, the way docker prints them.

Sizes, durations and statuses use docker's wording and rounding (its go-units
package: 1000-based "4.26MB" for images, 1024-based "1.5MiB" for memory), and
tables are aligned like Go's tabwriter with docker's settings (minimum width 10,
padding 3), so that scripts written against docker's output keep working.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence

from engine import human_duration, rfc3339_ns

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TextIO

    from app.cli.template import Template

__all__ = [
    "Formatter",
    "created_at",
    "ellipsis",
    "format_ports",
    "since",
    "tabulate",
    "to_json",
]

TABLE_PREFIX = "table"


def since(timestamp: str, now: float | None = None) -> str:
    """"2 minutes ago" for an RFC 3339 time, as docker's CREATED column."""
    ns = rfc3339_ns(timestamp)
    if ns is None:
        return ""
    now = time.time() if now is None else now
    return f"{human_duration(max(0.0, now - ns / 1e9))} ago"


def created_at(timestamp: str) -> str:
    """Go's time.String() in local time: "2024-01-02 03:04:05 +0100 CET".

    Through the C library's localtime and strftime: datetime's astimezone and
    strftime took ~5x as long (~1.5 of ps -a's ~26 ms of work with 201 containers)."""
    ns = rfc3339_ns(timestamp)
    if ns is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S %z %Z", time.localtime(ns // 1_000_000_000))


def ellipsis(text: str, width: int) -> str:
    """docker's Ellipsis: cut to width characters, the last one "…"."""
    if len(text) <= width:
        return text
    if width <= 1:
        return text[:width]
    return text[:width - 1] + "…"


def format_ports(ports: dict[str, Any] | None) -> str:
    """NetworkSettings.Ports (docker's shape) as ps shows it: 0.0.0.0:8080->80/tcp, 443/tcp."""
    if not ports:
        return ""
    parts: list[str] = []

    def port_key(item: tuple[str, Any]) -> tuple[int, str]:
        number, _, proto = item[0].partition("/")
        return (int(number) if number.isdigit() else 0, proto)

    for private, bindings in sorted(ports.items(), key=port_key):
        if not bindings:
            parts.append(private)
            continue
        for binding in bindings:
            host_ip = binding.get("HostIp") or "0.0.0.0"
            if ":" in host_ip:
                host_ip = f"[{host_ip}]"
            parts.append(f"{host_ip}:{binding.get('HostPort', '')}->{private}")
    return ", ".join(parts)


def to_json(value: Any, indent: int | None = None) -> str:
    """JSON as docker prints it (inspect: a 4-space indented list)."""
    if indent is None:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return json.dumps(value, ensure_ascii=False, indent=indent)


def tabulate(rows: Iterable[str], min_width: int = 10, padding: int = 3) -> list[str]:
    """Align tab-separated lines like Go's tabwriter(minwidth, tabwidth=1, padding, ' ').

    Every tab ends a cell; the text after a line's last tab is not padded.
    Consecutive lines that share a column are aligned together.
    """
    lines = [row.split("\t") for row in rows]
    if len({len(cells) for cells in lines}) == 1:
        # Every line has every column (a table's usual shape): one width a column,
        # and the padding done in C (ps -a of 201 containers: ~3x as fast).
        widths_of = [max(min_width, max(map(len, column)) + padding)
                     for column in list(zip(*lines, strict=True))[:-1]]
        return ["".join(map(str.ljust, cells, widths_of)) + cells[-1] for cells in lines]
    widths: list[list[int]] = [[0] * (len(cells) - 1) for cells in lines]
    # Go's tabwriter aligns column c over each run of consecutive lines that have it.
    for column in range(max((len(cells) - 1 for cells in lines), default=0)):
        start = 0
        while start < len(lines):
            if len(lines[start]) - 1 <= column:
                start += 1
                continue
            end = start
            while end < len(lines) and len(lines[end]) - 1 > column:
                end += 1
            width = max(len(lines[i][column]) for i in range(start, end)) + padding
            width = max(width, min_width)
            for i in range(start, end):
                widths[i][column] = width
            start = end
    out: list[str] = []
    for cells, cell_widths in zip(lines, widths, strict=True):
        text = "".join(cell.ljust(width) for cell, width in zip(cells, cell_widths, strict=False))
        out.append(text + cells[-1])
    return out


JSON_TEMPLATE = "{{json .}}"  # what docker's `--format json` stands for
# Compiled by re's cache when a table is first written (inspect and version write none).
_FIELD = r"\{\{\s*\.(\w+)\s*\}\}"


class _Fields:
    """A format made only of text and ``{{.Field}}`` (every default table) over rows
    of strings: filled in directly. The template engine is imported for anything
    else (its parser and functions are ~3 ms of a 50 ms `skiff ps`)."""

    def __init__(self, body: str) -> None:
        pieces = re.split(_FIELD, body)  # text, field, text, field, ..., text
        self.fields = pieces[1::2]
        # The text with "{}" for each field, for str.format: filling a row in C was
        # ~4x as fast as joining its pieces in a loop.
        self.format = "{}".join(text.replace("{", "{{").replace("}", "}}")
                                for text in pieces[0::2])
        self.body = body
        self._full: Template | None = None

    @staticmethod
    def suits(body: str) -> bool:
        return "{{" not in re.sub(_FIELD, "", body)

    def render(self, data: dict[str, Any]) -> str:
        values = list(map(data.get, self.fields))
        if not {str}.issuperset(map(type, values)):  # missing, or not a string: Go's rules
            return self._template().render(data)
        return self.format.format(*values)

    def _template(self) -> Template:
        if self._full is None:
            from app.cli.template import Template

            self._full = Template(self.body)
        return self._full


class Formatter:
    """Renders rows through a docker-style --format: "table ..." aligned with a header.

    ``headers`` maps each field name to its column title; the header line is the
    template rendered over those titles, as docker does.
    """

    def __init__(self, fmt: str, headers: dict[str, str]) -> None:
        fmt = JSON_TEMPLATE if fmt.strip() == "json" else fmt
        self.table = fmt.startswith(TABLE_PREFIX)
        body = fmt[len(TABLE_PREFIX):] if self.table else fmt
        body = body.strip(" ") if self.table else body
        body = body.replace("\\t", "\t").replace("\\n", "\n")
        self.template: Template | _Fields
        if _Fields.suits(body):
            self.template = _Fields(body)
        else:
            from app.cli.template import Template

            self.template = Template(body)
        self.headers = headers

    def render(self, rows: Iterable[dict[str, Any]]) -> list[str]:
        lines = [self._header()] if self.table else []
        for row in rows:
            lines.append(self.template.render(row))
        if self.table:
            split = [part for line in lines for part in line.split("\n")]
            return tabulate(split)
        return lines

    def _header(self) -> str:
        """The template over the column titles; "" where it cannot render over them."""
        try:
            return self.template.render(self.headers)
        except Exception as exc:
            # Only the template engine raises it, so its module is loaded by then: a
            # default table (every field a string) never imports it (~0.15 ms).
            from app.cli.templatefunctions import TemplateError

            if isinstance(exc, TemplateError):
                return ""
            raise

    def write(self, rows: Iterable[dict[str, Any]], out: TextIO) -> None:
        for line in self.render(rows):
            out.write(line + "\n")


def inspect_template(fmt: str | None) -> Template | None:
    """An inspect command's --format: None for docker's indented JSON list."""
    if not fmt:
        return None
    from app.cli.template import Template

    fmt = JSON_TEMPLATE if fmt.strip() == "json" else fmt
    return Template(fmt.replace("\\t", "\t").replace("\\n", "\n"))


async def inspect_each(ctx: Any, names: Sequence[str],
                       lookup: Callable[[str], Awaitable[dict[str, Any]]]) -> int:
    """``X inspect NAME...``: docker's JSON list (or --format per object); a missing
    one is a line on stderr and exit status 1, the others are still printed."""
    from engine import NotFound

    template = inspect_template(ctx.args.format)
    found: list[dict[str, Any]] = []
    missing: list[NotFound] = []
    for name in names:
        try:
            found.append(await lookup(name))
        except NotFound as exc:
            missing.append(exc)
    if template is None:
        ctx.out.write(to_json(found, indent=4) + "\n")
    else:
        for data in found:
            ctx.out.write(template.render(data) + "\n")
    for error in missing:
        ctx.error(f"Error response from daemon: {error}")
    return 1 if missing else 0


async def remove_each(ctx: Any, names: Sequence[str],
                      remove: Callable[[str], Awaitable[object]]) -> int:
    """``X rm NAME...``: each name on stdout as it goes, a failure on stderr (exit
    status 1) without stopping the others, as docker does."""
    from engine import SkiffError

    for name in names:
        try:
            await remove(name)
        except SkiffError as exc:
            ctx.daemon_error(exc)
            continue
        ctx.out.write(name + "\n")
        ctx.out.flush()
    return int(ctx.status)
