"""The Reminders tab: a filtered, sorted, paged table and what to do with a row."""

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from enum import Enum
from typing import Any

from PySide6 import QtGui
from PySide6.QtCore import QModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QMenu,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from pushdesk.clock import Clock
from pushdesk.domain import Reminder, ReminderQuery, ReminderStatus, Target
from pushdesk.errors import InvalidInput
from pushdesk.scheduling.recurrence import Recurrence
from pushdesk.services import Services
from pushdesk.services.reminders import ReminderLine
from pushdesk.ui.formatting import local_time
from pushdesk.ui.paged import Column, PagedTableModel, SortGuard
from pushdesk.ui.status_icons import (
    VISITOR_COLOUR,
    status_colour,
    status_icon,
    visitor_icon,
)

# "To" is wide enough for "Visitor · Anna's phone" beside its icon.
COLUMN_WIDTHS = (185, 120, 240, 180, 160, 130, 72, 56, 56, 60)
MESSAGE_COLUMN = 2

# Due times this close are also said in words ("in 5 min", "3 h ago").
RELATIVE_WITHIN_SECONDS = 24 * 60 * 60

STATUS_FILTERS: tuple[tuple[str, tuple[ReminderStatus, ...]], ...] = (
    ("Any status", ()),
    ("Upcoming", (ReminderStatus.SCHEDULED, ReminderStatus.SENDING)),
    *(
        (status.value.replace("_", " ").capitalize(), (status,))
        for status in ReminderStatus
    ),
)


def relative(moment: datetime, now: datetime) -> str:
    """ "in 5 min", "2 h ago"; empty when it is further than a day off."""
    seconds = (moment - now).total_seconds()
    if abs(seconds) >= RELATIVE_WITHIN_SECONDS:
        return ""
    if abs(seconds) < 60:
        return (
            "now" if abs(seconds) < 30 else ("in 1 min" if seconds > 0 else "1 min ago")
        )
    minutes = round(abs(seconds) / 60)
    amount = f"{minutes} min" if minutes < 60 else f"{round(minutes / 60)} h"
    return f"in {amount}" if seconds > 0 else f"{amount} ago"


class TargetChoice(Enum):
    """The target filter's entries that are not a group (those are names)."""

    ANY = "any"
    EVERYONE = "everyone"
    VISITORS = "visitors"


def target_text(target: Target) -> str:
    if target.everyone:
        return "Everyone"
    parts = list(target.groups)
    if target.subscription_ids:
        count = len(target.subscription_ids)
        parts.append(f"{count} device{'s' if count != 1 else ''}")
    return ", ".join(parts)


def to_text(line: ReminderLine) -> str:
    """Whom it goes to; a visitor's reminder says whose device set it."""
    reminder = line.reminder
    if line.visitor is None:
        return target_text(reminder.target)
    text = f"Visitor · {line.visitor}"
    # The name says the visitor's own device; devices beyond it (others they
    # proved were theirs, or added in an edit) are said as well.
    target = reminder.target
    if target.groups or target.subscription_ids != (reminder.visitor_device,):
        text += f" → {target_text(target)}"
    return text


def visitor_tip(line: ReminderLine) -> str:
    """The sentence as rich text with the name escaped: Qt takes a tooltip
    that looks like markup for markup, and a visitor chose the name."""
    sentence = f"Set from the page by the visitor on {line.visitor}"
    return QtGui.Qt.convertFromPlainText(sentence, Qt.WhiteSpaceMode.WhiteSpaceNoWrap)


def repeat_text(reminder: Reminder) -> str:
    if not reminder.repeat:
        return ""
    try:
        return Recurrence.from_text(reminder.repeat).describe(reminder.anchor_at)
    except InvalidInput:
        return "(damaged rule)"


def status_text(line: ReminderLine) -> str:
    reminder = line.reminder
    text = reminder.status.value.replace("_", " ")
    progress = line.reach.progress
    if progress is not None:
        done, total = progress
        return f"sending {done:,} of {total:,}"
    return f"{text} (late)" if reminder.late else text


def _counted(kind: str) -> Callable[[ReminderLine], str]:
    def text(line: ReminderLine) -> str:
        reminder = line.reminder
        # Nothing to count before a reminder first goes out.
        if reminder.status is ReminderStatus.SCHEDULED and not reminder.sent_at:
            return ""
        return f"{getattr(line.reach, kind):,}"

    return text


class RemindersModel(PagedTableModel[ReminderLine]):
    TO_COLUMN = 3
    STATUS_COLUMN = 5

    def __init__(self, source: "ReminderListing", clock: Clock) -> None:
        super().__init__(source)
        self._clock = clock
        self.columns = (
            Column[ReminderLine]("When", self._when, sort_key="due"),
            Column[ReminderLine](
                "Title", lambda line: line.reminder.title, sort_key="title"
            ),
            Column[ReminderLine](
                "Message", lambda line: " ".join(line.reminder.message.split())
            ),
            Column[ReminderLine]("To", to_text),
            Column[ReminderLine]("Repeat", lambda line: repeat_text(line.reminder)),
            Column[ReminderLine]("Status", status_text, sort_key="status"),
            Column[ReminderLine]("Delivered", _counted("delivered"), align_right=True),
            Column[ReminderLine]("Failed", _counted("failed"), align_right=True),
            Column[ReminderLine]("Shown", _counted("displayed"), align_right=True),
            Column[ReminderLine]("Opened", _counted("clicked"), align_right=True),
        )

    def _when(self, line: ReminderLine) -> str:
        due = line.reminder.due_at
        words = relative(due, self._clock())
        return f"{local_time(due)} ({words})" if words else local_time(due)

    def decorate(self, item: ReminderLine, column: int, role: int) -> Any:
        status = item.reminder.status
        if item.reach.progress is not None:
            # A repeating reminder stays scheduled while an occurrence goes out.
            status = ReminderStatus.SENDING
        if column == self.STATUS_COLUMN:
            if role == Qt.ItemDataRole.ForegroundRole:
                return status_colour(status)
            if role == Qt.ItemDataRole.DecorationRole:
                return status_icon(status)
        if column == self.TO_COLUMN and item.visitor is not None:
            return _decorate_visitor(item, role)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"#{item.reminder.id}" + (
                f" · opens {item.reminder.url}" if item.reminder.url else ""
            )
        return None


def _decorate_visitor(line: ReminderLine, role: int) -> Any:
    if role == Qt.ItemDataRole.ForegroundRole:
        return QColor(VISITOR_COLOUR)
    if role == Qt.ItemDataRole.DecorationRole:
        return visitor_icon()
    if role == Qt.ItemDataRole.ToolTipRole:
        return visitor_tip(line)
    return None


class ReminderListing:
    """The page source: the current query, answered by the reminder service."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self.query = ReminderQuery()

    def count(self) -> int:
        return self._services.reminders.count(self.query)

    def page(self, offset: int, limit: int) -> list[ReminderLine]:
        return self._services.reminders.page(self.query, offset, limit)

    def sort_by(self, key: str, descending: bool) -> None:
        self.query = replace(self.query, sort=key, descending=descending)


def _action(
    parent: QWidget, text: str, shortcut: QKeySequence | QKeySequence.StandardKey | str
) -> QAction:
    action = QAction(text, parent)
    action.setShortcut(QKeySequence(shortcut))
    # Each tab has its own Delete and Enter; a shortcut acts on its own tab.
    action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    parent.addAction(action)
    return action


class RemindersPage(QWidget):
    """Emits what the operator asked for; the window opens dialogs and asks services."""

    new_requested = Signal()
    edit_requested = Signal(int)
    duplicate_requested = Signal(int)
    send_now_requested = Signal(int)
    cancel_requested = Signal(int)
    delete_requested = Signal(int)
    deliveries_requested = Signal(int)

    def __init__(self, services: Services, clock: Clock, parent: QWidget | None = None):
        super().__init__(parent)
        self._services = services
        self.listing = ReminderListing(services)
        self.model = RemindersModel(self.listing, clock)

        self.text_filter = QLineEdit(placeholderText="Filter by title or message…")
        self.text_filter.setClearButtonEnabled(True)
        self.status_filter = QComboBox()
        for name, statuses in STATUS_FILTERS:
            self.status_filter.addItem(name, statuses)
        self.target_filter = QComboBox()
        self.view = self._make_view()

        self.new_action = _action(self, "&New reminder…", QKeySequence.StandardKey.New)
        self.edit_action = _action(self, "&Edit…", "Ctrl+E")
        self.duplicate_action = _action(self, "D&uplicate…", "Ctrl+D")
        self.send_now_action = _action(self, "&Send now", "Ctrl+Return")
        self.cancel_action = _action(self, "&Cancel", "Ctrl+Shift+C")
        self.delete_action = _action(self, "&Delete…", QKeySequence.StandardKey.Delete)
        self.deliveries_action = _action(self, "Show deliveries", "Ctrl+L")
        self.new_action.triggered.connect(self.new_requested)
        self._signals = {
            self.edit_action: self.edit_requested,
            self.duplicate_action: self.duplicate_requested,
            self.send_now_action: self.send_now_requested,
            self.cancel_action: self.cancel_requested,
            self.delete_action: self.delete_requested,
            self.deliveries_action: self.deliveries_requested,
        }
        for action in self._signals:
            action.triggered.connect(self._on_action)
        for action in (self.new_action, self.edit_action):
            action.setStatusTip(action.text().replace("&", ""))

        self._lay_out()
        self.text_filter.textChanged.connect(self._apply_filters)
        self.status_filter.currentIndexChanged.connect(self._apply_filters)
        self.target_filter.currentIndexChanged.connect(self._apply_filters)
        self.view.doubleClicked.connect(self._on_double_click)
        self.view.selectionModel().currentRowChanged.connect(self._update_actions)
        self.model.modelReset.connect(self._update_actions)
        self.refresh()

    def actions_for_toolbar(self) -> list[QAction]:
        return [
            self.new_action,
            self.edit_action,
            self.duplicate_action,
            self.send_now_action,
            self.cancel_action,
            self.delete_action,
        ]

    def _make_view(self) -> QTableView:
        view = QTableView()
        view.setModel(self.model)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.setAlternatingRowColors(True)
        view.setSortingEnabled(True)
        view.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        SortGuard(view, self.model)
        view.verticalHeader().hide()
        # Fixed row heights let the view skip measuring 100,000 rows.
        view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        view.setWordWrap(False)
        header = view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate(COLUMN_WIDTHS):
            view.setColumnWidth(column, width)
        # The message takes whatever room the others leave.
        header.setSectionResizeMode(MESSAGE_COLUMN, QHeaderView.ResizeMode.Stretch)
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(self._context_menu)
        return view

    def _lay_out(self) -> None:
        filters = QHBoxLayout()
        filters.addWidget(self.text_filter, 3)
        filters.addWidget(self.status_filter, 1)
        filters.addWidget(self.target_filter, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(filters)
        layout.addWidget(self.view)

    def refresh(self) -> None:
        selected = self.selected_id()
        self._refresh_target_choices()
        self.model.refresh()
        if selected is not None and not self.view.currentIndex().isValid():
            self.select(selected)
        self._update_actions()

    def select(self, reminder_id: int) -> bool:
        row = self.model.row_of(lambda line: line.reminder.id == reminder_id)
        if row is None:
            return False
        self.view.selectRow(row)
        return True

    def selected(self) -> Reminder | None:
        index = self.view.currentIndex()
        if not index.isValid() or index.row() >= self.model.rowCount():
            return None
        return self.model.row_at(index.row()).reminder

    def selected_id(self) -> int | None:
        reminder = self.selected()
        return reminder.id if reminder else None

    def _refresh_target_choices(self) -> None:
        groups = self._services.subscriptions.groups()
        wanted: list[tuple[str, TargetChoice | str]] = [
            ("Any target", TargetChoice.ANY),
            ("Everyone", TargetChoice.EVERYONE),
            ("Set by visitors", TargetChoice.VISITORS),
        ] + [(f"Group {name}", name) for name in groups]
        current = self.target_filter.currentData()
        if [
            self.target_filter.itemData(i) for i in range(self.target_filter.count())
        ] == [value for _, value in wanted]:
            return
        self.target_filter.blockSignals(True)
        self.target_filter.clear()
        for text, value in wanted:
            self.target_filter.addItem(text, value)
        index = self.target_filter.findData(current)
        self.target_filter.setCurrentIndex(max(index, 0))
        self.target_filter.blockSignals(False)

    def _apply_filters(self) -> None:
        target = self.target_filter.currentData()
        self.listing.query = replace(
            self.listing.query,
            text=self.text_filter.text(),
            statuses=tuple(self.status_filter.currentData() or ()),
            everyone_only=target is TargetChoice.EVERYONE,
            from_visitors=target is TargetChoice.VISITORS,
            group=target if isinstance(target, str) else None,
        )
        self.model.refresh()

    def _on_action(self) -> None:
        """One slot for every row action: emit its request for the selected row."""
        reminder_id = self.selected_id()
        action = self.sender()
        if reminder_id is not None and isinstance(action, QAction):
            self._signals[action].emit(reminder_id)

    def _on_double_click(self, _index: QModelIndex) -> None:
        self.edit_action.trigger()

    def _context_menu(self, position: QPoint) -> None:
        index = self.view.indexAt(position)
        if index.isValid():
            self.view.selectRow(index.row())
        menu = QMenu(self)
        menu.addActions(self.actions_for_toolbar())
        menu.addSeparator()
        menu.addAction(self.deliveries_action)
        menu.popup(self.view.viewport().mapToGlobal(position))

    def _update_actions(self, *_args: QModelIndex) -> None:
        reminder = self.selected()
        status = reminder.status if reminder else None
        scheduled = status is ReminderStatus.SCHEDULED
        self.edit_action.setEnabled(scheduled)
        self.send_now_action.setEnabled(scheduled)
        self.duplicate_action.setEnabled(reminder is not None)
        self.deliveries_action.setEnabled(reminder is not None)
        self.cancel_action.setEnabled(
            status in (ReminderStatus.SCHEDULED, ReminderStatus.SENDING)
        )
        self.delete_action.setEnabled(
            reminder is not None and status is not ReminderStatus.SENDING
        )
