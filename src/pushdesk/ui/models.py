"""Table models over domain objects; they never query the database themselves."""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from pushdesk.domain import Reminder, ReminderStatus, Subscription
from pushdesk.store.receipts import Reach

Row = TypeVar("Row")
Index = QModelIndex | QPersistentModelIndex

STATUS_COLOURS = {
    ReminderStatus.SCHEDULED: QColor("#1e5aa8"),
    ReminderStatus.SENDING: QColor("#b26a00"),
    ReminderStatus.SENT: QColor("#2e7d32"),
    ReminderStatus.PARTLY_SENT: QColor("#b26a00"),
    ReminderStatus.FAILED: QColor("#c62828"),
    ReminderStatus.CANCELLED: QColor("#757575"),
    ReminderStatus.MISSED: QColor("#8e24aa"),
}


def local_time(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def status_text(reminder: Reminder) -> str:
    text = reminder.status.value.replace("_", " ")
    return f"{text} (late)" if reminder.late else text


class Column(Generic[Row]):
    def __init__(self, title: str, text: Callable[[Row], str]) -> None:
        self.title = title
        self.text = text


class ListTableModel(QAbstractTableModel, Generic[Row]):
    """A read-only table of domain objects, replaced whole on each refresh."""

    columns: Sequence[Column[Row]] = ()

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[Row] = []

    def set_rows(self, rows: list[Row]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int) -> Row:
        return self._rows[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        item = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.columns[index.column()].text(item)
        return self.decorate(item, index.column(), role)

    def decorate(self, item: Row, column: int, role: int) -> Any:
        return None

    def headerData(  # noqa: N802
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
        ):
            return self.columns[section].title
        return None


class RemindersModel(ListTableModel[Reminder]):
    STATUS_COLUMN = 3

    def __init__(self) -> None:
        super().__init__()
        self._reach: dict[int, Reach] = {}
        self.columns = (
            Column[Reminder]("Due", lambda r: local_time(r.due_at)),
            Column[Reminder]("Title", lambda r: r.title),
            Column[Reminder]("Message", lambda r: " ".join(r.message.split())),
            Column[Reminder]("Status", lambda r: status_text(r)),
            Column[Reminder]("Sent", lambda r: local_time(r.sent_at)),
            Column[Reminder]("Delivered", lambda r: self._count(r, "delivered")),
            Column[Reminder]("Shown", lambda r: self._count(r, "displayed")),
            Column[Reminder]("Opened", lambda r: self._count(r, "clicked")),
        )

    def set_reminders(self, reminders: list[Reminder], reach: dict[int, Reach]) -> None:
        self._reach = reach
        self.set_rows(reminders)

    def _count(self, reminder: Reminder, kind: str) -> str:
        reach = self._reach.get(reminder.id)
        if reach is None:
            # Nothing to count before a reminder first goes out.
            unsent = (
                reminder.status is ReminderStatus.SCHEDULED and not reminder.sent_at
            )
            return "" if unsent else "0"
        return str(getattr(reach, kind))

    def decorate(self, item: Reminder, column: int, role: int) -> Any:
        if column == self.STATUS_COLUMN and role == Qt.ItemDataRole.ForegroundRole:
            return STATUS_COLOURS[item.status]
        if role == Qt.ItemDataRole.ToolTipRole and item.url:
            return f"Opens {item.url}"
        return None


class SubscribersModel(ListTableModel[Subscription]):
    columns = (
        Column[Subscription]("Label", lambda s: s.label or "(unnamed device)"),
        Column[Subscription]("Push service", lambda s: s.endpoint_host),
        Column[Subscription]("Subscribed", lambda s: local_time(s.created_at)),
        Column[Subscription]("Last seen", lambda s: local_time(s.last_seen_at)),
    )
