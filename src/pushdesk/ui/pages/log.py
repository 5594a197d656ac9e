"""The delivery log tab: every push attempt, filtered, sorted and exported.

The log grows by one row per device per send, so the table reads it a page at
a time and the export writes it a chunk at a time; neither holds it whole.
"""

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDateTime, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPen, QPixmap, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from pushdesk.errors import InvalidInput, PushdeskError
from pushdesk.log import UI
from pushdesk.services import Services
from pushdesk.services.deliveries import (
    EXPORT_CHUNK,
    OUTCOMES,
    CsvExport,
    DeliveryLogService,
    DeliveryQuery,
    DeliveryRow,
    device_filter,
)
from pushdesk.ui.formatting import local_time
from pushdesk.ui.messages import show_problem
from pushdesk.ui.paged import Column, PagedTableModel

# Typing in a filter box waits this long for the next key before querying.
TYPING_DELAY_MS = 250
MAX_ID = 2**31 - 1

OUTCOME_TEXT = {
    "delivered": "delivered",
    "retry": "will retry",
    "gone": "device gone",
    "rejected": "rejected",
    "refused": "credentials refused",
    "failed": "failed",
}
OUTCOME_COLOURS = {
    "delivered": QColor("#2e7d32"),
    "retry": QColor("#b26a00"),
    "gone": QColor("#757575"),
    "rejected": QColor("#c62828"),
    "refused": QColor("#8e24aa"),
    "failed": QColor("#c62828"),
}


@cache
def outcome_icon(outcome: str) -> QIcon:
    """A disc with a mark per outcome, so it is not told by colour alone."""
    pixmap = QPixmap(16, 16)
    pixmap.fill(Qt.GlobalColor.transparent)
    colour = OUTCOME_COLOURS.get(outcome, QColor("#757575"))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    circle = QRectF(1.5, 1.5, 13, 13)
    if outcome == "retry":
        # Still open: a ring, like a reminder that is waiting.
        painter.setPen(QPen(colour, 2))
        painter.drawEllipse(circle)
    else:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(colour))
        painter.drawEllipse(circle)
    painter.setPen(QPen(QColor("white"), 2, c=Qt.PenCapStyle.RoundCap))
    _mark(painter, outcome)
    painter.end()
    return QIcon(pixmap)


def _mark(painter: QPainter, outcome: str) -> None:
    if outcome == "delivered":
        painter.drawPolyline([QPointF(4.5, 8.5), QPointF(7, 11), QPointF(11.5, 5.5)])
    elif outcome == "gone":
        painter.drawLine(QPointF(5, 8), QPointF(11, 8))
    elif outcome in ("refused", "rejected"):
        painter.drawLine(QPointF(8, 4.5), QPointF(8, 9))
        painter.drawPoint(QPointF(8, 11.5))
    elif outcome == "failed":
        painter.drawLine(QPointF(5.5, 5.5), QPointF(10.5, 10.5))
        painter.drawLine(QPointF(10.5, 5.5), QPointF(5.5, 10.5))


def _status_text(row: DeliveryRow) -> str:
    code = row.delivery.status_code
    return "" if code is None else str(code)


def _error_text(row: DeliveryRow) -> str:
    return " ".join((row.delivery.error or "").split())


class DeliveryLogModel(PagedTableModel[DeliveryRow]):
    OUTCOME_COLUMN = 3
    columns = (
        Column[DeliveryRow](
            "Time", lambda r: local_time(r.delivery.attempted_at, seconds=True), "time"
        ),
        Column[DeliveryRow]("Reminder", lambda r: r.reminder, "reminder"),
        Column[DeliveryRow]("Device", lambda r: r.device),
        Column[DeliveryRow](
            "Outcome",
            lambda r: OUTCOME_TEXT.get(r.delivery.outcome, r.delivery.outcome),
            "outcome",
        ),
        Column[DeliveryRow]("HTTP", _status_text, align_right=True),
        Column[DeliveryRow]("Error", _error_text),
    )

    def decorate(self, item: DeliveryRow, column: int, role: int) -> Any:
        outcome = item.delivery.outcome
        if column == self.OUTCOME_COLUMN:
            if role == Qt.ItemDataRole.ForegroundRole:
                return OUTCOME_COLOURS.get(outcome)
            if role == Qt.ItemDataRole.DecorationRole:
                return outcome_icon(outcome)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(item, column)
        return None

    def _tooltip(self, item: DeliveryRow, column: int) -> str | None:
        delivery = item.delivery
        if column == 2:
            return f"device #{delivery.subscription_id} at {delivery.endpoint_host}"
        if column == 5 and delivery.error:
            return delivery.error
        return None


class _LogSource:
    """What the model reads: the page's current query, through the service."""

    def __init__(self, service: DeliveryLogService) -> None:
        self.service = service
        self.query = DeliveryQuery()

    def count(self) -> int:
        return self.service.count(self.query)

    def page(self, offset: int, limit: int) -> list[DeliveryRow]:
        return self.service.page(self.query, offset, limit)

    def sort_by(self, key: str, descending: bool) -> None:
        self.query = replace(self.query, sort=key, descending=descending)


class DeliveryLogPage(QWidget):
    """Filters above the log table, a count and the export below it."""

    export_finished = Signal(str, int)  # path, rows written
    export_failed = Signal(str)  # the message shown to the operator

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self._source = _LogSource(services.deliveries)
        self._stale = True
        self._filter_problem: str | None = None
        self._export: CsvExport | None = None
        self.file_dialog: QFileDialog | None = None
        self.export_chunk = EXPORT_CHUNK  # rows written per turn of the event loop

        # Typing waits for a pause; the other filters apply at once.
        self._typing = QTimer(self, singleShot=True, interval=TYPING_DELAY_MS)
        self._typing.timeout.connect(self.apply_filters)

        # The export writes one chunk per turn of the event loop: a 0 ms timer
        # fires once the window has handled its pending events, so scrolling,
        # the server and the scheduler keep running during a long export. A
        # timer rather than a coroutine keeps the page usable without qasync
        # and the service's writer plain for the CLI.
        self._export_timer = QTimer(self, interval=0)
        self._export_timer.timeout.connect(self._export_step)

        self.model = DeliveryLogModel(self._source)
        self.view = self._table()
        self._build_filters()
        self._build_footer()
        self._build_layout()

        self.refresh()

    @property
    def query(self) -> DeliveryQuery:
        """The filter and order the table shows, and an export writes."""
        return self._source.query

    def refresh(self) -> None:
        """Read the log again; while the tab is hidden, only note that it is due."""
        if not self.isVisible():
            self._stale = True
            return
        self._stale = False
        self.model.refresh()
        self._show_count()

    def show_reminder(self, reminder_id: int) -> None:
        """Show every attempt of one reminder, whatever the other filters were."""
        self._set_filters(reminder_id=reminder_id)

    def show_device(self, subscription_id: int) -> None:
        """Show every attempt to one device (removed ones too)."""
        self._set_filters(device=f"#{subscription_id}")

    def clear_filters(self) -> None:
        self._set_filters()

    def apply_filters(self) -> None:
        """Make the table show what the filter widgets say."""
        self._typing.stop()
        try:
            query = self._services.deliveries.check(self._query_from_widgets())
        except InvalidInput as exc:
            # The table keeps the last good filter until this one is fixed.
            self._filter_problem = str(exc)
            self._show_count()
            return
        self._filter_problem = None
        self._source.query = query
        self.model.refresh()
        self._show_count()

    def choose_export_file(self) -> QFileDialog:
        # open(), not the static getSaveFileName: that runs a nested event
        # loop which would stall the asyncio loop the server runs on.
        dialog = QFileDialog(self, "Export the delivery log")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilter("CSV files (*.csv)")
        dialog.setDefaultSuffix("csv")
        dialog.selectFile(self._services.deliveries.suggested_file_name())
        dialog.fileSelected.connect(self.export_to)
        self.file_dialog = dialog
        dialog.open()
        return dialog

    def export_to(self, path: str | Path) -> None:
        """Start writing the filtered rows to ``path``; progress shows below."""
        if self._export is not None:
            return
        try:
            self._export = self._services.deliveries.start_export(
                self.query, Path(path), self.export_chunk
            )
        except PushdeskError as exc:
            self._export_problem(str(exc))
            return
        self.export_button.setEnabled(False)
        self._show_export("Exporting…")
        self.cancel_button.show()
        self.progress.setRange(0, max(self._export.total, 1))
        self.progress.setValue(0)
        self.progress.show()
        self._export_timer.start()

    def cancel_export(self) -> None:
        export = self._export
        if export is None:
            return
        export.abort()
        self._end_export()
        self._show_export("Export cancelled; no file was written.")

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def _table(self) -> QTableView:
        view = QTableView()
        view.setModel(self.model)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setAlternatingRowColors(True)
        view.setWordWrap(False)
        view.verticalHeader().hide()

        # Fixed starting widths: sizing to contents would read rows far
        # beyond the first page just to measure them.
        header = view.horizontalHeader()
        measure = view.fontMetrics().horizontalAdvance
        widths = [
            measure("2026-12-03 10:00:00") + 16,
            180,
            170,
            measure("credentials refused") + 44,  # and the icon
            measure("HTTP") + 28,
        ]
        for column, width in enumerate(widths):
            header.resizeSection(column, width)
        header.setStretchLastSection(True)
        header.setSectionsClickable(True)
        header.setSortIndicatorShown(True)
        header.setSortIndicator(0, Qt.SortOrder.DescendingOrder)
        header.sectionClicked.connect(self._sort_clicked)
        return view

    def _build_filters(self) -> None:
        self.reminder_box = QSpinBox(maximum=MAX_ID)
        self.reminder_box.setSpecialValueText("all")
        self.reminder_box.setToolTip("Only the attempts of the reminder with this id")
        self.reminder_box.valueChanged.connect(self._typing.start)

        self.device_box = QLineEdit(placeholderText="all — a device id or name")
        self.device_box.setClearButtonEnabled(True)
        self.device_box.textChanged.connect(self._typing.start)
        self.device_box.returnPressed.connect(self.apply_filters)

        self.outcome_box = QComboBox()
        self.outcome_box.addItem("All outcomes", None)
        for outcome in OUTCOMES:
            self.outcome_box.addItem(
                outcome_icon(outcome), OUTCOME_TEXT[outcome], outcome
            )
        self.outcome_box.currentIndexChanged.connect(self.apply_filters)

        self.since_check, self.since_edit = self._time_filter(
            "From", lambda: self._services.now() - timedelta(days=1)
        )
        self.until_check, self.until_edit = self._time_filter("To", self._services.now)

        self.clear_button = QPushButton("Clear filters")
        self.clear_button.clicked.connect(self.clear_filters)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setToolTip("Save the rows shown, with these filters, as CSV")
        self.export_button.clicked.connect(self.choose_export_file)

    def _time_filter(
        self, label: str, default: Callable[[], datetime]
    ) -> tuple[QCheckBox, QDateTimeEdit]:
        """A box that turns the bound on, starting from ``default`` when it does."""
        check = QCheckBox(label)
        edit = QDateTimeEdit(_to_qt(default()), calendarPopup=True)
        edit.setEnabled(False)
        edit.setDisplayFormat("yyyy-MM-dd HH:mm:ss")

        def toggled(on: bool) -> None:
            # The edit is disabled while the box is off, so a fresh start
            # (now, not when the window opened) discards nothing typed.
            if on:
                edit.blockSignals(True)
                edit.setDateTime(_to_qt(default()))
                edit.blockSignals(False)
            edit.setEnabled(on)
            self.apply_filters()

        check.toggled.connect(toggled)
        edit.dateTimeChanged.connect(self.apply_filters)
        return check, edit

    def _build_footer(self) -> None:
        # Two labels: a refresh during an export must not hide its outcome.
        self.status_label = QLabel()
        self.export_label = QLabel()
        self.export_label.setWordWrap(True)
        self.progress = QProgressBar(textVisible=True)
        self.progress.setFormat("%v of %m rows")
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel export")
        self.cancel_button.clicked.connect(self.cancel_export)
        self.cancel_button.hide()

    def _build_layout(self) -> None:
        # Two rows, so the tab fits a window of 900 pixels.
        filters = QHBoxLayout()
        captioned: list[tuple[str, QWidget]] = [
            ("&Reminder", self.reminder_box),
            ("&Device", self.device_box),
            ("&Outcome", self.outcome_box),
        ]
        for label, box in captioned:
            caption = QLabel(f"{label}:")
            caption.setBuddy(box)
            filters.addWidget(caption)
            filters.addWidget(box, stretch=1 if box is self.device_box else 0)
        filters.addSpacing(12)
        filters.addWidget(self.export_button)

        times = QHBoxLayout()
        for widget in (self.since_check, self.since_edit):
            times.addWidget(widget)
        times.addSpacing(12)
        for widget in (self.until_check, self.until_edit):
            times.addWidget(widget)
        times.addSpacing(12)
        times.addWidget(self.clear_button)
        times.addStretch(1)

        footer = QHBoxLayout()
        footer.addWidget(self.status_label)
        footer.addWidget(self.export_label, stretch=1)
        footer.addWidget(self.progress)
        footer.addWidget(self.cancel_button)

        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addLayout(times)
        layout.addWidget(self.view)
        layout.addLayout(footer)

    def _query_from_widgets(self) -> DeliveryQuery:
        subscription_id, device_text = device_filter(self.device_box.text())
        return replace(
            self.query,
            reminder_id=self.reminder_box.value() or None,
            subscription_id=subscription_id,
            device_text=device_text,
            outcome=self.outcome_box.currentData(),
            since=_from_qt(self.since_edit) if self.since_check.isChecked() else None,
            until=_from_qt(self.until_edit) if self.until_check.isChecked() else None,
        )

    def _set_filters(self, reminder_id: int = 0, device: str = "") -> None:
        """Set every filter widget, then read the log once rather than per widget."""
        boxes: list[QWidget] = [
            self.reminder_box,
            self.device_box,
            self.outcome_box,
            self.since_check,
            self.until_check,
        ]
        for box in boxes:
            box.blockSignals(True)
        self.reminder_box.setValue(reminder_id)
        self.device_box.setText(device)
        self.outcome_box.setCurrentIndex(0)
        for check, edit in (
            (self.since_check, self.since_edit),
            (self.until_check, self.until_edit),
        ):
            check.setChecked(False)
            edit.setEnabled(False)
        for box in boxes:
            box.blockSignals(False)
        self.apply_filters()

    def _sort_clicked(self, column: int) -> None:
        key = self.model.columns[column].sort_key
        header = self.view.horizontalHeader()
        if key is None:
            # The header moved its arrow to a column the log cannot sort by.
            current = [c.sort_key for c in self.model.columns].index(self.query.sort)
            order = (
                Qt.SortOrder.DescendingOrder
                if self.query.descending
                else Qt.SortOrder.AscendingOrder
            )
            header.setSortIndicator(current, order)
            return
        if key == self.query.sort:
            descending = not self.query.descending
        else:
            descending = key == "time"  # newest first; names and ids A to Z
        order = (
            Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder
        )
        header.setSortIndicator(column, order)
        self.model.sort(column, order)

    def _show_count(self) -> None:
        if self._filter_problem is not None:
            _set_text(self.status_label, self._filter_problem, problem=True)
            return
        count = self.model.rowCount()
        _set_text(self.status_label, f"{count:,} attempt{'' if count == 1 else 's'}")

    def _show_export(self, text: str, problem: bool = False) -> None:
        _set_text(self.export_label, text, problem)

    def _export_step(self) -> None:
        export = self._export
        if export is None:
            return
        try:
            finished = export.step()
        except PushdeskError as exc:
            self._end_export()
            self._export_problem(str(exc))
            return
        except BaseException:
            export.abort()
            self._end_export()
            raise
        self.progress.setValue(export.written)
        if not finished:
            return
        self._end_export()
        self._show_export(f"Exported {export.written:,} rows to {export.path}")
        UI.info("exported %d deliveries to %s", export.written, export.path)
        self.export_finished.emit(str(export.path), export.written)

    def _end_export(self) -> None:
        self._export_timer.stop()
        self._export = None
        self.progress.hide()
        self.cancel_button.hide()
        self.export_button.setEnabled(True)

    def _export_problem(self, text: str) -> None:
        self._show_export(text, problem=True)
        show_problem(text, self)
        self.export_failed.emit(text)


def _set_text(label: QLabel, text: str, problem: bool = False) -> None:
    label.setStyleSheet("color: #c62828;" if problem else "")
    label.setText(text)


def _to_qt(moment: datetime) -> QDateTime:
    return QDateTime.fromSecsSinceEpoch(int(moment.timestamp()))


def _from_qt(edit: QDateTimeEdit) -> datetime:
    return datetime.fromtimestamp(edit.dateTime().toSecsSinceEpoch(), UTC)
