"""The Ports tab: each published port, with a link that opens it in the browser."""

from __future__ import annotations

from PySide6.QtCore import QUrl, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QWidget

from app.desktop.inspect.data import PortRow
from app.desktop.inspect.gridpage import GridPage

__all__ = ["PortsView"]


class PortsView(GridPage):
    open_requested = Signal(str)  # a URL; the default handler opens the browser

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Ports", "About ports", parent)
        self.rows: list[PortRow] = []
        self.links: list[QPushButton] = []
        self.open_requested.connect(
            lambda url: self._open(QUrl(url), url, f"No web browser opened {url}. The "
                                   "address is on the clipboard: paste it into a browser."))
        self.set_ports([])

    def set_ports(self, rows: list[PortRow]) -> None:
        if rows == self.rows and self.links:
            return
        self.rows = rows
        self._clear_grid()
        self.links = []
        if not rows:
            self._intro.setText("This container publishes no ports. Add one under Settings → "
                                "Ports to reach a server inside it from this computer.")
            return
        self._intro.setText("Ports of the container and where this computer reaches them:")
        for column, title in enumerate(("Container port", "On this computer", "")):
            header = QLabel(f"<b>{title}</b>", self)
            self._grid.addWidget(header, 0, column)
        for i, row in enumerate(rows, start=1):
            self._grid.addWidget(QLabel(row.container, self), i, 0)
            self._grid.addWidget(QLabel(row.description, self), i, 1)
            if row.url:
                link = QPushButton(f"Open {row.url}", self)
                link.setFlat(True)
                link.setStyleSheet("QPushButton { color: palette(link); text-decoration: "
                                   "underline; text-align: left; }")
                link.setAccessibleName(f"Open {row.url} in the browser")
                link.setToolTip("Open in the web browser")
                link.clicked.connect(lambda _c=False, url=row.url: self.open_requested.emit(url))
                self._grid.addWidget(link, i, 2)
                self.links.append(link)
