"""The operator's main window: reminders, subscribers and where to connect."""

from collections.abc import Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMessageBox,
    QTableView,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from pushdesk.clock import Clock
from pushdesk.domain import ReminderStatus
from pushdesk.errors import PushdeskError
from pushdesk.events import Event
from pushdesk.log import UI
from pushdesk.services import Services
from pushdesk.ui.dialogs.reminder import ReminderDialog
from pushdesk.ui.models import RemindersModel, SubscribersModel

# How often the window checks whether another process (the CLI) wrote data.
OUTSIDE_WRITES_POLL_MS = 1000
REFRESH_DELAY_MS = 100


def _table(model: QAbstractTableModel, stretch: int) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setAlternatingRowColors(True)
    view.verticalHeader().hide()
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return view


def _where_to_open(urls: list[str], setup_urls: Sequence[str] = ()) -> str:
    """The status line: which page address to open, and where push works."""

    def link(url: str) -> str:
        return f'<a href="{url}">{url}</a>'

    secure = ("https:", "http://localhost", "http://127.", "http://[::1]")
    local = [u for u in urls if u.startswith(secure)]
    lan = [u for u in urls if u not in local]
    parts = []
    if local:
        parts.append("Open " + " · ".join(link(u) for u in local))
    if lan:
        # Browsers allow push only in a secure context; plain HTTP on a LAN
        # address is not one, so the page there can only explain that.
        parts.append(
            "on the LAN: "
            + " · ".join(link(u) for u in lan)
            + " (phones need HTTPS for push)"
        )
    if setup_urls:
        # A phone first has to trust pushdesk's certificate authority.
        parts.append("first time on a phone: " + link(setup_urls[0]))
    return " — ".join(parts)


class MainWindow(QMainWindow):
    closed = Signal()

    def __init__(
        self,
        services: Services,
        urls: list[str],
        clock: Clock,
        setup_urls: Sequence[str] = (),
    ) -> None:
        super().__init__()
        self.setWindowTitle("pushdesk")
        self.resize(900, 520)
        self._services = services
        self._clock = clock
        self._seen_version = services.outside_writes()

        self.reminders_model = RemindersModel()
        self.subscribers_model = SubscribersModel()
        self.reminders_view = _table(self.reminders_model, stretch=2)
        self.subscribers_view = _table(self.subscribers_model, stretch=0)

        self.new_action = QAction("&New reminder…", self)
        self.new_action.setShortcut(QKeySequence.StandardKey.New)
        self.new_action.triggered.connect(self.open_new_reminder)
        self.cancel_action = QAction("&Cancel reminder", self)
        self.cancel_action.setShortcut(QKeySequence.StandardKey.Delete)
        self.cancel_action.triggered.connect(self.cancel_selected)

        self._build(urls, setup_urls)
        self.refresh()

        # Events from this process refresh at once; writes by another process
        # are noticed by polling SQLite's cheap data_version counter.
        self._refresh_soon = QTimer(self, singleShot=True, interval=REFRESH_DELAY_MS)
        self._refresh_soon.timeout.connect(self._refresh_if_pending)
        self._refresh_pending = False
        self._unsubscribe = services.hub.subscribe(self._on_event)
        self._poll = QTimer(self, interval=OUTSIDE_WRITES_POLL_MS)
        self._poll.timeout.connect(self._check_outside_writes)
        self._poll.start()

    def _build(self, urls: list[str], setup_urls: Sequence[str]) -> None:
        toolbar = QToolBar("Reminders", movable=False)
        toolbar.addAction(self.new_action)
        toolbar.addAction(self.cancel_action)
        self.addToolBar(toolbar)

        reminders_page = QWidget()
        QVBoxLayout(reminders_page).addWidget(self.reminders_view)
        self.tabs = QTabWidget()
        self.tabs.addTab(reminders_page, "Reminders")
        self.tabs.addTab(self.subscribers_view, "Subscribers")

        # Standing problems (a push service refusing our credentials) stay in
        # view until the operator has dealt with them.
        self.alert_label = QLabel()
        self.alert_label.setWordWrap(True)
        self.alert_label.setStyleSheet(
            "background: #fdecea; color: #8e1c1c; padding: 8px; border-radius: 4px;"
        )
        self.alert_label.hide()
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.alert_label)
        layout.addWidget(self.tabs)
        self.setCentralWidget(central)

        self.reminders_view.selectionModel().currentRowChanged.connect(
            self._update_actions
        )

        self.urls_label = QLabel(_where_to_open(urls, setup_urls))
        self.urls_label.setOpenExternalLinks(True)
        self.statusBar().addWidget(self.urls_label)

    def refresh(self) -> None:
        self.reminders_model.set_reminders(
            self._services.reminders.all(), self._services.reminders.reach()
        )
        self.subscribers_model.set_rows(self._services.subscriptions.all())
        self.tabs.setTabText(1, f"Subscribers ({self.subscribers_model.rowCount()})")
        alerts = self._services.alerts()
        self.alert_label.setText("\n".join(f"⚠ {text}" for text in alerts))
        self.alert_label.setVisible(bool(alerts))
        self._update_actions()

    def selected_reminder_id(self) -> int | None:
        index = self.reminders_view.currentIndex()
        if not index.isValid():
            return None
        return self.reminders_model.row_at(index.row()).id

    def open_new_reminder(self) -> ReminderDialog:
        # open(), not exec(): a nested event loop would stall the asyncio loop
        # that the server and scheduler run on.
        dialog = ReminderDialog(self._services.reminders, self._clock, self)
        dialog.accepted.connect(lambda: self._schedule_from(dialog))
        dialog.open()
        return dialog

    def cancel_selected(self) -> None:
        reminder_id = self.selected_reminder_id()
        if reminder_id is None:
            return
        try:
            self._services.reminders.cancel(reminder_id)
        except PushdeskError as exc:
            self._show_problem(str(exc))

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self._poll.stop()
        self._unsubscribe()
        self.closed.emit()
        event.accept()

    def _schedule_from(self, dialog: ReminderDialog) -> None:
        try:
            draft = dialog.draft()
            reminder = self._services.reminders.schedule(
                draft.title, draft.message, draft.url, draft.due_at
            )
        except PushdeskError as exc:
            self._show_problem(str(exc))
            return
        UI.info("reminder %d scheduled from the window", reminder.id)

    def _show_problem(self, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, "pushdesk", text, parent=self)
        box.open()

    def _on_event(self, _event: Event) -> None:
        # Events come in bursts (a fan-out, a wave of receipts): the first one
        # refreshes at once, the rest of the burst once more when it is over.
        if self._refresh_soon.isActive():
            self._refresh_pending = True
            return
        self.refresh()
        self._refresh_soon.start()

    def _refresh_if_pending(self) -> None:
        if self._refresh_pending:
            self._refresh_pending = False
            self.refresh()

    def _check_outside_writes(self) -> None:
        version = self._services.outside_writes()
        if version != self._seen_version:
            self._seen_version = version
            self.refresh()

    def _update_actions(self, *_args: QModelIndex) -> None:
        reminder_id = self.selected_reminder_id()
        cancellable = reminder_id is not None and (
            self.reminders_model.row_at(self.reminders_view.currentIndex().row()).status
            is ReminderStatus.SCHEDULED
        )
        self.cancel_action.setEnabled(cancellable)
