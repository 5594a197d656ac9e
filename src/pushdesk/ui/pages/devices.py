"""The Devices tab: every subscribed device, paged, and what to do with one."""

from dataclasses import replace
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QStyle,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from pushdesk.devices import (
    RECENT_FAILURES_DAYS,
    DeviceQuery,
    DeviceRow,
    DeviceSort,
    DeviceStatus,
)
from pushdesk.errors import PushdeskError
from pushdesk.services import Services
from pushdesk.services.subscriptions import SubscriptionService
from pushdesk.ui.dialogs.groups import GroupsDialog
from pushdesk.ui.formatting import local_time
from pushdesk.ui.messages import message_box, show_problem
from pushdesk.ui.paged import Column, PagedTableModel, SortGuard

STATUS_COLOURS = {
    DeviceStatus.ACTIVE: QColor("#2e7d32"),
    DeviceStatus.FLAGGED: QColor("#c62828"),
    DeviceStatus.EXPIRED: QColor("#757575"),
    DeviceStatus.WARNED: QColor("#e65100"),
}

STATUS_ICONS = {
    DeviceStatus.ACTIVE: QStyle.StandardPixmap.SP_DialogApplyButton,
    DeviceStatus.FLAGGED: QStyle.StandardPixmap.SP_MessageBoxCritical,
    DeviceStatus.EXPIRED: QStyle.StandardPixmap.SP_MessageBoxWarning,
    DeviceStatus.WARNED: QStyle.StandardPixmap.SP_TrashIcon,
}

STATUS_FILTERS = (
    ("Any status", None),
    ("Active", DeviceStatus.ACTIVE),
    ("Flagged", DeviceStatus.FLAGGED),
    ("Expired", DeviceStatus.EXPIRED),
    ("Warned of removal", DeviceStatus.WARNED),
)

DEFAULT_SORT = DeviceQuery(sort=DeviceSort.CREATED, descending=True)

COLUMN_WIDTHS = (170, 220, 140, 130, 130, 260, 110)
UNNAMED = "(unnamed device)"


def status_text(device: DeviceRow) -> str:
    if device.status is DeviceStatus.WARNED and device.removal_at is not None:
        # The day is what matters; the hour is in the tooltip.
        day = device.removal_at.astimezone().strftime("%Y-%m-%d")
        return f"Warned — removal on {day}"
    return device.status.value.capitalize()


def status_tip(device: DeviceRow, quiet_days: int) -> str:
    """Why the device has its status; ``quiet_days`` is the setting in force."""
    subscription = device.subscription
    if device.status is DeviceStatus.FLAGGED:
        return (
            "The push service refused pushdesk's credentials: "
            f"{subscription.flag_reason}"
        )
    if device.status is DeviceStatus.WARNED:
        return (
            f"Not seen for over {quiet_days} days and warned by a push; removed "
            f"on {local_time(device.removal_at)} unless pushdesk's page is opened "
            "on it again."
        )
    if device.status is DeviceStatus.EXPIRED:
        return (
            f"Not seen for over {quiet_days} days; it may have dropped "
            "its subscription. pushdesk warns it with a push."
        )
    return f"Seen within the last {quiet_days} days."


class DevicesModel(PagedTableModel[DeviceRow]):
    NAME_COLUMN = 0
    ADDED_COLUMN = 3
    STATUS_COLUMN = 5
    FAILURES_COLUMN = 6

    columns = (
        Column[DeviceRow](
            "Name", lambda d: d.subscription.label or UNNAMED, sort_key="label"
        ),
        Column[DeviceRow]("Browser", lambda d: d.software.describe()),
        Column[DeviceRow]("Groups", lambda d: ", ".join(d.subscription.groups)),
        Column[DeviceRow](
            "Added", lambda d: local_time(d.subscription.created_at), sort_key="created"
        ),
        Column[DeviceRow](
            "Last seen",
            lambda d: local_time(d.subscription.last_seen_at),
            sort_key="last_seen",
        ),
        Column[DeviceRow]("Status", status_text),
        Column[DeviceRow](
            f"Failures ({RECENT_FAILURES_DAYS} d)",
            lambda d: f"{d.recent_failures:,}",
            align_right=True,
        ),
    )

    def __init__(self, source: "DeviceListing", icons: dict[DeviceStatus, QIcon]):
        super().__init__(source)
        self._source = source
        self._icons = icons

    def decorate(self, item: DeviceRow, column: int, role: int) -> Any:
        if column == self.STATUS_COLUMN:
            return self._decorate_status(item, role)
        if role == Qt.ItemDataRole.ForegroundRole:
            if column == self.NAME_COLUMN and not item.subscription.label:
                return STATUS_COLOURS[DeviceStatus.EXPIRED]
            if column == self.FAILURES_COLUMN and item.recent_failures:
                return STATUS_COLOURS[DeviceStatus.FLAGGED]
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"#{item.id} · {item.subscription.endpoint_host}"
        return None

    def _decorate_status(self, item: DeviceRow, role: int) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole:
            return STATUS_COLOURS[item.status]
        if role == Qt.ItemDataRole.DecorationRole:
            return self._icons[item.status]
        if role == Qt.ItemDataRole.ToolTipRole:
            return status_tip(item, self._source.quiet_days())
        return None


class DeviceListing:
    """The page source: the current query, answered by the subscription service."""

    def __init__(self, devices: SubscriptionService) -> None:
        self._devices = devices
        self.query = DEFAULT_SORT

    def count(self) -> int:
        return self._devices.count(self.query)

    def page(self, offset: int, limit: int) -> list[DeviceRow]:
        return self._devices.page(self.query, offset, limit)

    def sort_by(self, key: str, descending: bool) -> None:
        self.query = replace(self.query, sort=DeviceSort(key), descending=descending)

    def quiet_days(self) -> int:
        """After how many days unseen a device counts as quiet, as set now."""
        return self._devices.staleness().quiet_after.days


def _action(
    page: QWidget, text: str, shortcut: QKeySequence | QKeySequence.StandardKey | str
) -> QAction:
    action = QAction(text, page)
    action.setShortcut(QKeySequence(shortcut))
    # Other tabs have their own Delete: a shortcut acts on its own tab only.
    action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    page.addAction(action)
    return action


class DevicesPage(QWidget):
    """The devices table with its filters, actions and their dialogs."""

    total_changed = Signal(int)  # how many devices there are, filter aside
    status_message = Signal(str)  # a line for the window's status bar

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._devices = services.subscriptions
        self.listing = DeviceListing(self._devices)
        style = self.style()
        icons = {s: style.standardIcon(p) for s, p in STATUS_ICONS.items()}
        self.model = DevicesModel(self.listing, icons)

        self.text_filter = QLineEdit(placeholderText="Filter by name or browser…")
        self.text_filter.setClearButtonEnabled(True)
        self.group_filter = QComboBox()
        self.group_filter.addItem("All groups", None)
        self.status_filter = QComboBox()
        for text, status in STATUS_FILTERS:
            self.status_filter.addItem(text, status)
        self.empty_label = QLabel()
        self.view = self._make_view()

        self.rename_action = _action(self, "&Rename…", "F2")
        self.groups_action = _action(self, "&Groups…", "Ctrl+G")
        self.test_action = _action(self, "Send &test", "Ctrl+T")
        self.remove_action = _action(self, "Re&move…", QKeySequence.StandardKey.Delete)
        self.rename_action.triggered.connect(self.rename_selected)
        self.groups_action.triggered.connect(self.edit_groups_of_selected)
        self.test_action.triggered.connect(self.send_test_to_selected)
        self.remove_action.triggered.connect(self.remove_selected)
        self.view.addActions(self.device_actions())

        self._lay_out()
        self.text_filter.textChanged.connect(self._apply_filters)
        self.group_filter.currentIndexChanged.connect(self._apply_filters)
        self.status_filter.currentIndexChanged.connect(self._apply_filters)
        self.view.doubleClicked.connect(lambda _index: self.rename_action.trigger())
        self.view.selectionModel().currentRowChanged.connect(self._update_actions)
        self.model.modelReset.connect(self._update_actions)
        self.refresh()

    def device_actions(self) -> list[QAction]:
        return [
            self.rename_action,
            self.groups_action,
            self.test_action,
            self.remove_action,
        ]

    def _make_view(self) -> QTableView:
        view = QTableView()
        view.setModel(self.model)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.setAlternatingRowColors(True)
        view.setWordWrap(False)
        view.verticalHeader().hide()
        # Fixed row heights let the view skip measuring 10,000 rows.
        view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header = view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        for column, width in enumerate(COLUMN_WIDTHS):
            view.setColumnWidth(column, width)

        # Newest first: a device that just subscribed is the one looked for.
        view.setSortingEnabled(True)
        view.sortByColumn(DevicesModel.ADDED_COLUMN, Qt.SortOrder.DescendingOrder)
        SortGuard(view, self.model)
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        return view

    def _lay_out(self) -> None:
        toolbar = QToolBar("Devices")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        toolbar.addActions(self.device_actions())
        filters = QHBoxLayout()
        filters.addWidget(self.text_filter, 3)
        filters.addWidget(self.group_filter, 1)
        filters.addWidget(self.status_filter, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(toolbar)
        layout.addLayout(filters)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.view)

    def refresh(self) -> None:
        """Read again, keeping the selected device selected if it is still near."""
        selected = self.selected()
        row = self.view.currentIndex().row()
        self._refresh_group_choices()
        self.listing.query = self._query_from_filters()
        self.model.refresh()
        if selected is not None:
            self._reselect(selected.id, row)

        total = self._devices.count()
        self._show_emptiness(total)
        self.total_changed.emit(total)
        self._update_actions()

    def selected(self) -> DeviceRow | None:
        index = self.view.currentIndex()
        if not index.isValid() or index.row() >= self.model.rowCount():
            return None
        return self.model.row_at(index.row())

    def select(self, subscription_id: int) -> bool:
        """Select the device if it is among the rows read so far."""
        row = self.model.row_of(lambda device: device.id == subscription_id)
        if row is None:
            return False
        self.view.selectRow(row)
        return True

    def rename_selected(self) -> QInputDialog | None:
        device = self.selected()
        if device is None:
            return None
        dialog = QInputDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        # The name goes in the field, not the label: a label would read a
        # name such as "<b>x</b>" as markup.
        dialog.setWindowTitle(f"Rename device #{device.id}")
        dialog.setLabelText("New name for this device:")
        dialog.setTextValue(device.subscription.label or "")
        dialog.textValueSelected.connect(lambda text: self._rename(device.id, text))
        # open(), not exec(): a nested event loop would stall the asyncio loop
        # that the server and scheduler run on.
        dialog.open()
        return dialog

    def edit_groups_of_selected(self) -> GroupsDialog | None:
        device = self.selected()
        if device is None:
            return None
        dialog = GroupsDialog(self._devices, device.subscription, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._set_groups(device.id, dialog.chosen()))
        dialog.open()
        return dialog

    def send_test_to_selected(self) -> None:
        device = self.selected()
        if device is None:
            return
        try:
            self._devices.send_test(device.id)
        except PushdeskError as exc:
            self.show_problem(str(exc))
            return
        self.status_message.emit(f"A test notification is on its way to {device.name}.")

    def remove_selected(self) -> QMessageBox | None:
        device = self.selected()
        if device is None:
            return None
        box = message_box(
            QMessageBox.Icon.Question,
            "Remove device",
            f"Remove {device.name}? It will get no more reminders until it "
            "subscribes again. Its delivery log is kept.",
            self,
            QMessageBox.StandardButton.Cancel,
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        remove = box.addButton("Remove", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.buttonClicked.connect(
            lambda button: self._remove(device.id) if button is remove else None
        )
        box.open()
        return box

    def show_problem(self, text: str) -> QMessageBox:
        return show_problem(text, self)

    def _rename(self, subscription_id: int, label: str) -> None:
        try:
            self._devices.rename(subscription_id, label)
        except PushdeskError as exc:
            self.show_problem(str(exc))

    def _set_groups(self, subscription_id: int, names: list[str]) -> None:
        try:
            self._devices.set_groups(subscription_id, names)
        except PushdeskError as exc:
            self.show_problem(str(exc))

    def _remove(self, subscription_id: int) -> None:
        try:
            removed = self._devices.remove_by_operator(subscription_id)
        except PushdeskError as exc:
            self.show_problem(str(exc))
            return
        self.status_message.emit(f"Removed {removed.label or UNNAMED}.")

    def _reselect(self, subscription_id: int, old_row: int) -> None:
        # The model drops its pages on refresh: read the one the device was on,
        # so a rename that moved it a few rows still finds it.
        if 0 <= old_row < self.model.rowCount():
            self.model.row_at(old_row)
        if not self.select(subscription_id):
            self.view.clearSelection()
            self.view.setCurrentIndex(QModelIndex())

    def _refresh_group_choices(self) -> None:
        wanted: list[str | None] = [None, *self._devices.groups()]
        choices = self.group_filter
        if [choices.itemData(i) for i in range(choices.count())] == wanted:
            return
        current = choices.currentData()
        choices.blockSignals(True)
        choices.clear()
        for name in wanted:
            choices.addItem(name or "All groups", name)
        choices.setCurrentIndex(max(choices.findData(current), 0))
        choices.blockSignals(False)

    def _query_from_filters(self) -> DeviceQuery:
        # Qt hands a StrEnum back as a plain str.
        status = self.status_filter.currentData()
        return replace(
            self.listing.query,
            text=self.text_filter.text().strip(),
            group=self.group_filter.currentData(),
            status=DeviceStatus(status) if status else None,
        )

    def _apply_filters(self, *_args: object) -> None:
        self.refresh()

    def _show_emptiness(self, total: int) -> None:
        if total == 0:
            text = (
                "No devices yet: open pushdesk's page on a phone and allow "
                "notifications."
            )
        elif self.model.rowCount() == 0:
            text = "No device matches the filter."
        else:
            text = ""
        self.empty_label.setText(text)
        self.empty_label.setVisible(bool(text))

    def _update_actions(self, *_args: QModelIndex) -> None:
        chosen = self.selected() is not None
        for action in self.device_actions():
            action.setEnabled(chosen)
