"""A tab about the selected container that asks the engine only while it shows.

``set_container`` forgets what was shown of another container and marks the tab
stale when its container changed enough (another one; by default the same one
started or stopped); a stale tab loads when it is shown, or at once if it is.
The Files and What Is This? tabs are two: each says what to ``forget``, when
it is ``outdated`` and how to ``load``.
"""

from __future__ import annotations

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QWidget

from engine import Container

__all__ = ["LazyTab"]


class LazyTab(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.container: Container | None = None
        self._stale = True

    def set_container(self, container: Container | None) -> None:
        previous = self.container
        self.container = container
        if container is None or previous is None or previous.id != container.id:
            self.forget()
            self._stale = True
        elif self.outdated(previous, container):
            self._stale = True
        self.container_set()
        if container is not None and self._stale and self.isVisible():
            self.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def refresh(self) -> None:
        """Load what the tab shows again."""
        if not self.current_id():
            return
        self._stale = False
        self.load()

    def current_id(self) -> str:
        """What is shown: the container's ID ("" for none); an answer about another
        is dropped."""
        return self.container.id if self.container is not None else ""

    # -- what each tab says ---------------------------------------------------------------

    def forget(self) -> None:
        """Show nothing of the previous container."""

    def outdated(self, previous: Container, container: Container) -> bool:
        """Whether what is shown of the container is out of date now."""
        return previous.state.status != container.state.status

    def container_set(self) -> None:
        """After every ``set_container``: what depends on the container itself."""

    def load(self) -> None:
        """Ask the engine for what the tab shows (of ``container``)."""
        raise NotImplementedError
