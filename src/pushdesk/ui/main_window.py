"""The operator's main window: the tabs, the toolbar and the status bar."""

from collections.abc import Callable, Sequence

from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from pushdesk.clock import Clock
from pushdesk.domain import ReminderStatus
from pushdesk.errors import PushdeskError
from pushdesk.log import UI
from pushdesk.services import Services
from pushdesk.ui.dialogs.reminder import Choices, Mode, ReminderDialog
from pushdesk.ui.pages.reminders import RemindersPage
from pushdesk.ui.watcher import DataWatcher


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
        self.resize(1180, 640)
        self._services = services
        self._clock = clock

        self.reminders_page = RemindersPage(services, clock)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.reminders_page, "Reminders")

        self._build_toolbar()
        self._build_central()
        self._build_status_bar(urls, setup_urls)
        self._connect_reminder_actions()

        self.watcher = DataWatcher(services, self)
        self.watcher.changed.connect(self.refresh)
        self.refresh()

    def _build_toolbar(self) -> None:
        toolbar = QToolBar("Reminders", movable=False)
        toolbar.setObjectName("remindersToolbar")
        toolbar.addActions(self.reminders_page.actions_for_toolbar())
        self.addToolBar(toolbar)
        menu = self.menuBar().addMenu("&Reminder")
        menu.addActions(self.reminders_page.actions_for_toolbar())
        menu.addSeparator()
        menu.addAction(self.reminders_page.deliveries_action)

    def _build_central(self) -> None:
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

    def _build_status_bar(self, urls: list[str], setup_urls: Sequence[str]) -> None:
        self.urls_label = QLabel(_where_to_open(urls, setup_urls))
        self.urls_label.setOpenExternalLinks(True)
        self.statusBar().addWidget(self.urls_label, 1)
        self.progress_label = QLabel()
        self.progress_bar = QProgressBar()
        self.progress_bar.setMaximumWidth(160)
        self.statusBar().addPermanentWidget(self.progress_label)
        self.statusBar().addPermanentWidget(self.progress_bar)
        self.progress_label.hide()
        self.progress_bar.hide()

    def _connect_reminder_actions(self) -> None:
        page = self.reminders_page
        page.new_requested.connect(self.open_new_reminder)
        page.edit_requested.connect(self.open_edit_reminder)
        page.duplicate_requested.connect(self.open_duplicate_reminder)
        page.send_now_requested.connect(self.send_now)
        page.cancel_requested.connect(self.cancel)
        page.delete_requested.connect(self.confirm_delete)
        page.deliveries_requested.connect(self.show_deliveries)

    def refresh(self) -> None:
        self.reminders_page.refresh()
        alerts = self._services.alerts()
        self.alert_label.setText("\n".join(f"⚠ {text}" for text in alerts))
        self.alert_label.setVisible(bool(alerts))
        self._show_progress()

    def _show_progress(self) -> None:
        progress = self._services.reminders.progress()
        self.progress_label.setVisible(progress is not None)
        self.progress_bar.setVisible(progress is not None)
        if progress is None:
            return
        done, total = progress
        self.progress_label.setText(f"Sending {done:,} of {total:,}")
        self.progress_bar.setRange(0, total)
        self.progress_bar.setValue(done)

    # Reminder actions. Dialogs use open(), not exec(): a nested event loop
    # would stall the asyncio loop that the server and scheduler run on.

    def open_new_reminder(self) -> ReminderDialog:
        return self._open_dialog(Mode.NEW, None)

    def open_edit_reminder(self, reminder_id: int) -> ReminderDialog | None:
        return self._open_dialog(Mode.EDIT, reminder_id)

    def open_duplicate_reminder(self, reminder_id: int) -> ReminderDialog | None:
        return self._open_dialog(Mode.DUPLICATE, reminder_id)

    def _open_dialog(self, mode: Mode, reminder_id: int | None) -> ReminderDialog:
        original = None
        if reminder_id is not None:
            original = self._services.reminders.get(reminder_id)
        dialog = ReminderDialog(
            self._services.reminders,
            self._clock,
            self,
            choices=self._choices(),
            mode=mode,
            original=original,
        )
        dialog.accepted.connect(lambda: self._save_from(dialog))
        dialog.open()
        return dialog

    def _choices(self) -> Choices:
        subscriptions = self._services.subscriptions
        devices = [
            (device.id, device.label or "(unnamed device)")
            for device in subscriptions.all()
        ]
        return Choices(groups=subscriptions.groups(), devices=devices)

    def _save_from(self, dialog: ReminderDialog) -> None:
        reminders = self._services.reminders
        try:
            form = dialog.form()
            if dialog.mode is Mode.EDIT and dialog.original is not None:
                reminder = reminders.edit(
                    dialog.original.id, *form.text, **form.options
                )
            else:
                reminder = reminders.schedule(*form.text, **form.options)
        except PushdeskError as exc:
            self.show_problem(str(exc))
            return
        UI.info("reminder %d saved from the window (%s)", reminder.id, dialog.mode.name)
        self.reminders_page.refresh()
        self.reminders_page.select(reminder.id)

    def send_now(self, reminder_id: int) -> None:
        self._try(lambda: self._services.reminders.send_now(reminder_id))

    def cancel(self, reminder_id: int) -> None:
        self._try(lambda: self._services.reminders.cancel(reminder_id))

    def confirm_delete(self, reminder_id: int) -> QMessageBox:
        reminder = self._services.reminders.get(reminder_id)
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Delete reminder",
            f"Delete the reminder “{reminder.title}” (#{reminder.id})?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        box.setInformativeText(
            "Its delivery log is kept."
            + (
                " It will not be sent."
                if reminder.status is ReminderStatus.SCHEDULED
                else ""
            )
        )
        box.setDefaultButton(QMessageBox.StandardButton.No)

        def answered(button: QAbstractButton) -> None:
            if box.standardButton(button) == QMessageBox.StandardButton.Yes:
                self._try(lambda: self._services.reminders.delete(reminder_id))

        box.buttonClicked.connect(answered)
        box.open()
        return box

    def show_deliveries(self, reminder_id: int) -> None:
        """Jump to the delivery log, filtered to one reminder."""

    def _try(self, action: Callable[[], object]) -> None:
        try:
            action()
        except PushdeskError as exc:
            self.show_problem(str(exc))

    def show_problem(self, text: str) -> QMessageBox:
        box = QMessageBox(QMessageBox.Icon.Warning, "pushdesk", text, parent=self)
        box.open()
        return box

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.watcher.stop()
        self.closed.emit()
        event.accept()
