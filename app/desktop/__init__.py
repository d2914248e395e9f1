"""Skiff's desktop window: PySide6 widgets on a qasync loop over the engine.

Start it with ``python -m app`` or ``skiff-desktop``. One :class:`~app.desktop.bridge.Bridge`
turns engine coroutines and events into Qt signals; item models adapt them; widgets
display and forward what the user asks for. Nothing here runs privileged code.
"""

from __future__ import annotations

__all__: list[str] = []
