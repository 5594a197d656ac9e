"""A table model that reads its rows from SQLite a page at a time.

With 100,000 reminders the window cannot load every row on each refresh: the
model asks its source for the number of rows and then only for the pages the
view actually paints. Sorting and filtering are the source's job (SQL with
indexes), never Python's.
"""

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtWidgets import QTableView

Row = TypeVar("Row")
Row_co = TypeVar("Row_co", covariant=True)
Index = QModelIndex | QPersistentModelIndex

PAGE_SIZE = 200

# Enough pages for a tall window scrolled back and forth, few enough that a
# refresh after every event stays cheap.
CACHED_PAGES = 8


class PageSource(Protocol[Row_co]):
    """Where a paged model reads from; it holds the current filter and order."""

    def count(self) -> int: ...

    def page(self, offset: int, limit: int) -> Sequence[Row_co]: ...

    def sort_by(self, key: str, descending: bool) -> None: ...


@dataclass(frozen=True)
class Column(Generic[Row]):
    title: str
    text: Callable[[Row], str]
    sort_key: str | None = None  # the source's name for this order; None: fixed
    align_right: bool = False


class PagedTableModel(QAbstractTableModel, Generic[Row]):
    columns: Sequence[Column[Row]] = ()

    def __init__(self, source: PageSource[Row]) -> None:
        super().__init__()
        self.source = source
        self._count = 0
        self._pages: OrderedDict[int, Sequence[Row]] = OrderedDict()

    def refresh(self) -> None:
        """Read again. Same row count: repaint in place (selection and scroll
        stay); otherwise reset, since rows may have moved anywhere."""
        count = self.source.count()
        self._pages.clear()
        if count == self._count:
            if count:
                last = self.index(count - 1, len(self.columns) - 1)
                self.dataChanged.emit(self.index(0, 0), last)
            return
        self.beginResetModel()
        self._count = count
        self.endResetModel()

    def row_at(self, row: int) -> Row:
        number, offset = divmod(row, PAGE_SIZE)
        return self._page(number)[offset]

    def row_of(self, predicate: Callable[[Row], bool]) -> int | None:
        """The row, among those already read, for which ``predicate`` holds.

        Right after a refresh nothing is read yet; the first page is then.
        """
        if not self._pages and self._count:
            self._page(0)
        for number, rows in self._pages.items():
            for offset, item in enumerate(rows):
                if predicate(item):
                    return number * PAGE_SIZE + offset
        return None

    def _page(self, number: int) -> Sequence[Row]:
        rows = self._pages.get(number)
        if rows is None:
            rows = self.source.page(number * PAGE_SIZE, PAGE_SIZE)
            self._pages[number] = rows
            while len(self._pages) > CACHED_PAGES:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(number)
        return rows

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= self._count:
            return None
        number, offset = divmod(index.row(), PAGE_SIZE)
        rows = self._page(number)
        if offset >= len(rows):
            # The table shrank since the count was read; the next refresh fixes it.
            return None
        item = rows[offset]
        column = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(item)
        if role == Qt.ItemDataRole.TextAlignmentRole and column.align_right:
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
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

    def sort(
        self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder
    ) -> None:
        key = self.columns[column].sort_key
        if key is None:
            return
        self.source.sort_by(key, order == Qt.SortOrder.DescendingOrder)
        self.beginResetModel()
        self._pages.clear()
        self._count = self.source.count()
        self.endResetModel()

    def flags(self, index: Index) -> Qt.ItemFlag:
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


class SortGuard(QObject):
    """Keeps a view's sort arrow on the column the rows are really sorted by.

    Clicking the header of a column the database cannot sort by (a count, a
    parsed user agent) would otherwise move the arrow without moving a row.
    """

    def __init__(self, view: QTableView, model: PagedTableModel[Any]) -> None:
        super().__init__(view)
        self._header = view.horizontalHeader()
        self._model = model
        self._section = self._header.sortIndicatorSection()
        self._order = self._header.sortIndicatorOrder()
        self._header.sortIndicatorChanged.connect(self._changed)

    def _changed(self, section: int, order: Qt.SortOrder) -> None:
        if (
            0 <= section < len(self._model.columns)
            and self._model.columns[section].sort_key
        ):
            self._section, self._order = section, order
            return
        self._header.blockSignals(True)
        self._header.setSortIndicator(self._section, self._order)
        self._header.blockSignals(False)
