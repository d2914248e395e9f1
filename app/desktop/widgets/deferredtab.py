"""A tab whose view, and the modules behind it, are made the first time it shows.

A launch shows one tab (Logs, or the one left open); the others need not be made
before the window's first paint. This stands in the tab bar for such a view: it
makes the view when it is first shown, or first asked for (:meth:`view`), says so
(``created``: connect the view's signals there), and passes ``set_container`` on, so
the view starts with the container shown (``container_set`` tells it, made or not).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget

from engine import Container

__all__ = ["DeferredTab"]


class DeferredTab(QWidget):
    created = Signal(object)  # the view, just made (before it is given the container)
    container_set = Signal(object)  # each set_container's Container or None

    def __init__(self, make: Callable[[QWidget], QWidget], parent: QWidget | None = None) -> None:
        """``make(parent)``: the view, a child of ``parent``."""
        super().__init__(parent)
        self._make: Callable[[QWidget], QWidget] | None = make
        self._view: QWidget | None = None
        self._container: Container | None = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)

    def made(self) -> bool:
        return self._view is not None

    def view(self) -> Any:
        """The view, made now if it was not yet."""
        if self._view is None:
            assert self._make is not None
            view = self._view = self._make(self)
            self._make = None
            self.created.emit(view)
            set_container = getattr(view, "set_container", None)
            if set_container is not None:
                set_container(self._container)
            self._layout.addWidget(view)
            if self.isVisible():  # shown already: its children were shown before this
                view.show()
        return self._view

    def set_container(self, container: Container | None) -> None:
        self._container = container
        self.container_set.emit(container)
        set_container = getattr(self._view, "set_container", None)
        if set_container is not None:
            set_container(container)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.view()
