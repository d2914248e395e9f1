"""Paints a sidebar row: the name, the image under it, and the status badge; a compose
project's header with its disclosure arrow, and its containers indented under it."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from app.desktop.containers.exitreason import row_detail
from app.desktop.containers.model import ContainerModel
from app.desktop.utils import theme

__all__ = ["INDENT", "PAD", "ContainerDelegate", "paint_badge"]

PAD = 8
INDENT = 14  # a project's arrow, and its containers' indentation


def paint_badge(painter: QPainter, rect: QRect, text: str, kind: str,
                option: QStyleOptionViewItem) -> int:
    """Draw a pill right-aligned in ``rect``; returns its width."""
    font = QFont(option.font)
    font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
    font.setBold(True)
    metrics = QFontMetrics(font)
    width = metrics.horizontalAdvance(text) + 14
    height = metrics.height() + 4
    pill = QRect(rect.right() - width, rect.center().y() - height // 2, width, height)
    background, foreground = theme.badge_colours(kind, option.palette)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(background)
    painter.drawRoundedRect(pill, height / 2, height / 2)
    painter.setPen(foreground)
    painter.setFont(font)
    painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, text)
    painter.restore()
    return width


class ContainerDelegate(QStyledItemDelegate):
    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        style = opt.widget.style() if opt.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        rect = option.rect.adjusted(PAD, PAD // 2, -PAD, -PAD // 2)
        header = bool(index.data(ContainerModel.HeaderRole))
        if header or index.data(ContainerModel.ProjectRole):
            rect.setLeft(rect.left() + INDENT)  # members under their header's name
        if header:
            self._paint_arrow(painter, option, index)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        badge_width = paint_badge(painter, rect, str(index.data(ContainerModel.BadgeTextRole)),
                                  str(index.data(ContainerModel.BadgeKindRole)), option)
        text_rect = rect.adjusted(0, 0, -badge_width - PAD, 0)
        name_font = QFont(option.font)
        name_font.setBold(True)
        name_metrics = QFontMetrics(name_font)
        painter.save()
        palette = option.palette
        painter.setPen(palette.color(palette.ColorRole.HighlightedText if selected
                                     else palette.ColorRole.Text))
        painter.setFont(name_font)
        top = QRect(text_rect.left(), text_rect.top(), text_rect.width(), name_metrics.height())
        painter.drawText(top, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                         name_metrics.elidedText(str(index.data()), Qt.TextElideMode.ElideRight,
                                                 top.width()))
        painter.setFont(option.font)
        metrics = QFontMetrics(option.font)
        if not selected:
            painter.setPen(theme.muted(palette))
        bottom = QRect(text_rect.left(), top.bottom() + 2, text_rect.width(), metrics.height())
        painter.drawText(bottom, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                         metrics.elidedText(row_detail(index.data(ContainerModel.ContainerRole),
                                                       str(index.data(ContainerModel.ImageRole)
                                                           or "")),
                                            Qt.TextElideMode.ElideRight, bottom.width()))
        painter.restore()

    @staticmethod
    def _paint_arrow(painter: QPainter, option: QStyleOptionViewItem,
                     index: QModelIndex | QPersistentModelIndex) -> None:
        model = index.model()
        collapsed = bool(getattr(model, "is_collapsed", lambda _p: False)(
            str(index.data(ContainerModel.ProjectRole))))
        arrow = QRect(option.rect.left() + 2, option.rect.top(), INDENT + PAD - 4,
                      option.rect.height())
        painter.save()
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        palette = option.palette
        painter.setPen(palette.color(palette.ColorRole.HighlightedText if selected
                                     else palette.ColorRole.Text))
        painter.drawText(arrow, int(Qt.AlignmentFlag.AlignCenter), "▸" if collapsed else "▾")
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem,
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        bold = QFont(option.font)
        bold.setBold(True)
        height = QFontMetrics(bold).height() + QFontMetrics(option.font).height() + PAD + 4
        return QSize(200, height)
