"""Signals as docker names them: ``TERM``, ``SIGTERM``, ``sigterm``, ``15`` and ``RTMIN+3``.

One parser for ``--signal``, ``--stop-signal``, an image's StopSignal, a create
body's StopSignal and the REST API's ``?signal=``: docker's ParseSignal (moby
``sys/signal``), with its error text. Pure and stdlib-only.
"""

from __future__ import annotations

import re
import signal

from engine.errors import InvalidArgument

__all__ = ["parse_signal", "signal_name"]

_REALTIME = re.compile(r"^(RTMIN|RTMAX)([+-]\d+)?$")


def parse_signal(value: str | int) -> int:
    """The signal's number; InvalidArgument ("invalid signal: X") for anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        text = str(value).strip().upper()
        if text.isdigit():
            number = int(text)
        else:
            name = text.removeprefix("SIG")
            realtime = _REALTIME.match(name)
            if realtime:
                base = signal.SIGRTMIN if realtime.group(1) == "RTMIN" else signal.SIGRTMAX
                number = int(base) + int(realtime.group(2) or 0)
            elif f"SIG{name}" in signal.Signals.__members__:
                number = int(signal.Signals[f"SIG{name}"])
            else:
                raise InvalidArgument(f"invalid signal: {value}")
    if not 1 <= number <= 64:
        raise InvalidArgument(f"invalid signal: {value}")
    return number


def signal_name(value: str | int) -> str:
    """docker's name for a signal: ``SIGTERM``; ``SIGRTMIN+3`` for a real-time one."""
    number = parse_signal(value)
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = ""
    if name and name not in ("SIGRTMIN", "SIGRTMAX"):
        return name
    rtmin = int(signal.SIGRTMIN)
    if number >= rtmin and number - rtmin <= int(signal.SIGRTMAX) - number:
        return "SIGRTMIN" + (f"+{number - rtmin}" if number > rtmin else "")
    if number >= rtmin:
        gap = int(signal.SIGRTMAX) - number
        return "SIGRTMAX" + (f"-{gap}" if gap else "")
    return str(number)
