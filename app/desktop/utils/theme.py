"""Colours that follow the desktop's light or dark palette.

Widgets take their colours from the palette; the few of our own (status
badges, log colours) come in a light and a dark variant, picked from the
palette's window colour at paint time, so a theme switch needs only a repaint.
When the platform reports a dark colour scheme but hands Qt a light palette
(some desktops do), :func:`follow_color_scheme` supplies a dark one.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette

__all__ = ["apply_color_scheme", "badge_colours", "dark_palette", "follow_color_scheme", "is_dark",
           "muted"]

_BADGES = {
    # kind: (light background, dark background)
    "running": ("#2e7d32", "#4caf50"),
    "paused": ("#a86400", "#ffb74d"),
    "restarting": ("#1565c0", "#64b5f6"),
    "downloading": ("#1565c0", "#64b5f6"),
    "creating": ("#1565c0", "#64b5f6"),
    "starting": ("#1565c0", "#64b5f6"),
    "exited": ("#6b6b6b", "#9e9e9e"),
    "created": ("#546e7a", "#90a4ae"),
    "removing": ("#6b6b6b", "#9e9e9e"),
    "failed": ("#c62828", "#ef5350"),
    "oom": ("#ad1457", "#f06292"),
    "unhealthy": ("#c62828", "#ef5350"),
}


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def badge_colours(kind: str, palette: QPalette) -> tuple[QColor, QColor]:
    """(background, text) of a status badge."""
    light, dark = _BADGES.get(kind, _BADGES["created"])
    background = QColor(dark if is_dark(palette) else light)
    text = QColor("#000000") if background.lightness() > 150 else QColor("#ffffff")
    return background, text


def muted(palette: QPalette) -> QColor:
    """Secondary text (an image name under a container name)."""
    colour = palette.color(QPalette.ColorRole.PlaceholderText)
    return colour if colour.isValid() else palette.color(QPalette.ColorRole.Mid)


def dark_palette() -> QPalette:
    p = QPalette()
    window, base, text = QColor("#2b2b2b"), QColor("#1e1e1e"), QColor("#e6e6e6")
    roles = {
        QPalette.ColorRole.Window: window, QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base, QPalette.ColorRole.AlternateBase: QColor("#262626"),
        QPalette.ColorRole.Text: text, QPalette.ColorRole.Button: QColor("#353535"),
        QPalette.ColorRole.ButtonText: text, QPalette.ColorRole.ToolTipBase: QColor("#3a3a3a"),
        QPalette.ColorRole.ToolTipText: text, QPalette.ColorRole.Highlight: QColor("#3d6fb4"),
        QPalette.ColorRole.HighlightedText: QColor("#ffffff"),
        QPalette.ColorRole.Link: QColor("#7fb2ff"),
        QPalette.ColorRole.PlaceholderText: QColor("#9a9a9a"),
        QPalette.ColorRole.Mid: QColor("#444444"), QPalette.ColorRole.Dark: QColor("#1a1a1a"),
        QPalette.ColorRole.Light: QColor("#505050"), QPalette.ColorRole.Midlight: QColor("#404040"),
    }
    for role, colour in roles.items():
        p.setColor(role, colour)
    disabled = QColor("#7a7a7a")
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text,
                 QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return p


_ours = {"dark": False}


def apply_color_scheme(app: QGuiApplication, scheme: Qt.ColorScheme) -> None:
    """Dark scheme and a light palette: use ours; back to light: give Qt's back."""
    if scheme == Qt.ColorScheme.Dark and not is_dark(app.palette()):
        app.setPalette(dark_palette())
        _ours["dark"] = True
    elif scheme != Qt.ColorScheme.Dark and _ours["dark"]:
        app.setPalette(QPalette())
        _ours["dark"] = False


def follow_color_scheme(app: QGuiApplication) -> None:
    """Use a dark palette when the desktop asks for dark and Qt's palette is light."""
    hints = app.styleHints()
    hints.colorSchemeChanged.connect(lambda scheme: apply_color_scheme(app, scheme))
    apply_color_scheme(app, hints.colorScheme())
