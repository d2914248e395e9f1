"""The build's layers as they grow, drawn as the Images page and What Is This? draw an
image's layers (app/desktop/widgets/layerstack.py's ``paint_layers``): the base image at
the bottom, each step that changed files a layer on top of it, newest on top, with its
instruction, its size and whether it came from the cache. Steps that only change
settings make no layer: the caption counts them.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRectF, QSize
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.desktop.build.stripmodel import LayerStripModel
from app.desktop.widgets.layerstack import LayerRow, paint_layers, stack_height

__all__ = ["BuildStack", "stack_rows"]


def stack_rows(steps: list[Any]) -> list[LayerRow]:
    """The bars, top first: each step that made a layer, then the base image."""
    rows: list[LayerRow] = []
    for step in steps:
        if step.step == 1 or step.instruction.upper().startswith("FROM "):
            if not rows:  # the first stage's base: the bottom of the picture
                rows.append(LayerRow("image", "Base image", step.image_id, -1,
                                     step.instruction, True))
            continue
        if step.size > 0:
            label = f"Step {step.step}" + (" (cached)" if step.cached else "")
            rows.append(LayerRow("image", label, step.image_id, step.size,
                                 step.instruction, True))
    return rows[::-1]


class BuildStack(QWidget):
    def __init__(self, model: LayerStripModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.rows: list[LayerRow] = []
        self.caption = ""
        self.setAccessibleName("Layers")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        model.rowsInserted.connect(self.refresh)
        model.modelReset.connect(self.refresh)
        self.refresh()

    def refresh(self, *_args: Any) -> None:
        steps = list(self.model.steps)
        self.rows = stack_rows(steps)
        settings = sum(1 for s in steps if s.size <= 0 and s.step != 1
                       and not s.instruction.upper().startswith("FROM "))
        self.caption = ("▲ each step that changes files adds a layer ▲" if not settings else
                        f"▲ new layers on top · {settings} settings-only "
                        f"step{'s' if settings != 1 else ''} added none ▲")
        self.setAccessibleDescription("; ".join(f"{r.label}: {r.made_by}" for r in self.rows))
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(340, stack_height(max(len(self.rows), 1)))

    def minimumSizeHint(self) -> QSize:
        return QSize(240, stack_height(1))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        paint_layers(painter, QRectF(0.5, 0.5, self.width() - 1, self.height() - 1),
                     self.rows, self.palette(), self.caption if self.rows else
                     "the layers appear here as the build makes them")
        painter.end()
