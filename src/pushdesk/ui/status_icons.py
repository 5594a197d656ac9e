"""Small drawn icons for a reminder's status, so it is not told by colour alone,
and for whoever set it when that was a visitor."""

from functools import cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPen, QPixmap

from pushdesk.domain import ReminderStatus

SIZE = 16

STATUS_COLOURS = {
    ReminderStatus.SCHEDULED: "#1e5aa8",
    ReminderStatus.SENDING: "#b26a00",
    ReminderStatus.SENT: "#2e7d32",
    ReminderStatus.PARTLY_SENT: "#b26a00",
    ReminderStatus.FAILED: "#c62828",
    ReminderStatus.CANCELLED: "#757575",
    ReminderStatus.MISSED: "#8e24aa",
}


# Teal: apart from every status colour, so a visitor's reminder stands out.
VISITOR_COLOUR = "#00796b"


def status_colour(status: ReminderStatus) -> QColor:
    return QColor(STATUS_COLOURS[status])


@cache
def status_icon(status: ReminderStatus) -> QIcon:
    """A ring for waiting, a filled disc for done, a mark for how it ended."""
    pixmap = QPixmap(SIZE, SIZE)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    colour = status_colour(status)
    circle = QRectF(1.5, 1.5, SIZE - 3, SIZE - 3)
    white = QPen(QColor("white"), 2)
    white.setCapStyle(Qt.PenCapStyle.RoundCap)

    if status is ReminderStatus.SCHEDULED:
        painter.setPen(QPen(colour, 2))
        painter.drawEllipse(circle)
        painter.drawLine(QPointF(8, 8), QPointF(8, 4.5))
        painter.drawLine(QPointF(8, 8), QPointF(10.5, 9.5))
    elif status in (ReminderStatus.SENDING, ReminderStatus.PARTLY_SENT):
        painter.setPen(QPen(colour, 2))
        painter.drawEllipse(circle)
        painter.setBrush(QBrush(colour))
        painter.drawPie(circle, 90 * 16, 180 * 16)
    else:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(colour))
        painter.drawEllipse(circle)
        painter.setPen(white)
        _mark(painter, status)
    painter.end()
    return QIcon(pixmap)


def _mark(painter: QPainter, status: ReminderStatus) -> None:
    if status is ReminderStatus.SENT:
        painter.drawPolyline([QPointF(4.5, 8.5), QPointF(7, 11), QPointF(11.5, 5.5)])
    elif status is ReminderStatus.FAILED:
        painter.drawLine(QPointF(5.5, 5.5), QPointF(10.5, 10.5))
        painter.drawLine(QPointF(10.5, 5.5), QPointF(5.5, 10.5))
    elif status is ReminderStatus.CANCELLED:
        painter.drawLine(QPointF(5, 8), QPointF(11, 8))
    elif status is ReminderStatus.MISSED:
        painter.drawLine(QPointF(8, 4.5), QPointF(8, 9))
        painter.drawPoint(QPointF(8, 11.5))


@cache
def visitor_icon() -> QIcon:
    """A head and shoulders: someone on the page, not the operator."""
    pixmap = QPixmap(SIZE, SIZE)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QBrush(QColor(VISITOR_COLOUR)))
    painter.drawEllipse(QRectF(5, 1.5, 6, 6))
    painter.drawChord(QRectF(2, 9, 12, 12), 0, 180 * 16)
    painter.end()
    return QIcon(pixmap)
