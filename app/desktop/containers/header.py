"""The top of the details area: the container's name, state and action buttons.

The buttons are the window's actions (see containers/actions.py), so they are enabled by
the container's state in one place and carry the same shortcuts as the menus.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from app.desktop.containers.actions import ContainerActions
from app.desktop.containers.badges import Badge, container_badge
from app.desktop.containers.reasonlabel import ReasonLabel
from app.desktop.utils import theme
from engine import Container, familiar

__all__ = ["ContainerHeader"]


class ContainerHeader(QWidget):
    def __init__(self, actions: ContainerActions, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Container header")
        self.name = QLabel(self)
        font = self.name.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.name.setFont(font)
        self.name.setAccessibleName("Container name")
        self.name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.badge = QLabel(self)
        self.badge.setAccessibleName("Container status")
        self.detail = QLabel(self)
        self.detail.setAccessibleName("Container image")
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reason = ReasonLabel(self)  # why it stopped, in words
        self._badge = Badge("created", "")

        self.buttons: dict[str, QToolButton] = {}
        row = QHBoxLayout()
        row.setSpacing(4)
        for key in ("start", "stop", "restart", "pause", "unpause", "exec", "remove"):
            action = getattr(actions, key)
            button = QToolButton(self)
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setAccessibleName(action.text().replace("&", "").rstrip("…"))
            button.setAutoRaise(False)
            self.buttons[key] = button
            row.addWidget(button)
        row.addStretch(1)
        self._actions = actions
        actions.header_changed.connect(self._on_actions_header_changed)
        self._on_actions_header_changed()

        title = QHBoxLayout()
        title.addWidget(self.name)
        title.addWidget(self.badge)
        title.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 4)
        layout.addLayout(title)
        layout.addWidget(self.detail)
        layout.addWidget(self.reason)
        layout.addLayout(row)

    def set_container(self, container: Container | None) -> None:
        self.reason.set_container(container)
        if container is None:
            self.name.setText("")
            self.detail.setText("")
            self._set_badge(Badge("created", ""))
            return
        self.name.setText(container.name)
        self.detail.setText(f"{familiar(container.config.image)} · "
                            f"{container.short_id}")
        self._set_badge(container_badge(container.state))

    def _set_badge(self, badge: Badge) -> None:
        self._badge = badge
        self.badge.setText(badge.text)
        self.badge.setVisible(bool(badge.text))
        self.badge.setAccessibleDescription(badge.text)
        self._style_badge()

    def _style_badge(self) -> None:
        background, text = theme.badge_colours(self._badge.kind, self.palette())
        self.badge.setStyleSheet(f"QLabel {{ background: {background.name()}; color: "
                                 f"{text.name()}; border-radius: 9px; padding: 2px 10px; "
                                 "font-weight: bold; }")

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._style_badge()

    def _on_actions_header_changed(self) -> None:
        for key, button in self.buttons.items():
            button.setVisible(self._actions.in_header(key))
