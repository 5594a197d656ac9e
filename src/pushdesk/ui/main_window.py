"""The operator's main window: the tabs, the toolbar and the status bar."""

from collections.abc import Callable, Sequence

from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QTableView,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from pushdesk.clock import Clock
from pushdesk.domain import Reminder, ReminderStatus
from pushdesk.errors import PushdeskError
from pushdesk.log import UI
from pushdesk.services import Services
from pushdesk.ui.dialogs.reminder import Choices, Mode, ReminderDialog, ReminderForm
from pushdesk.ui.dialogs.settings import SettingsDialog
from pushdesk.ui.messages import message_box, show_problem
from pushdesk.ui.notifier import Notifier
from pushdesk.ui.pages.devices import DevicesPage
from pushdesk.ui.pages.log import DeliveryLogPage
from pushdesk.ui.pages.reminders import RemindersPage
from pushdesk.ui.pages.server import ServerPage, ServerStatus, StatusSource
from pushdesk.ui.tray import CloseToTray, Tray, system_tray_available
from pushdesk.ui.watcher import DataWatcher
from pushdesk.ui.window_state import WindowState

# How long a passing message stays in the status bar.
STATUS_MESSAGE_MS = 8000


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
    """Closing it hides it to the tray where there is one; ``closed`` fires
    only when pushdesk should really stop (Quit, or no tray to live in)."""

    closed = Signal()

    def __init__(
        self,
        services: Services,
        urls: list[str],
        clock: Clock,
        setup_urls: Sequence[str] = (),
        *,
        server_status: StatusSource | None = None,
        state: WindowState | None = None,
        tray_available: Callable[[], bool] = system_tray_available,
    ) -> None:
        super().__init__()
        self.setWindowTitle("pushdesk")
        self.resize(1180, 680)
        self._services = services
        self._clock = clock
        self._dialog: ReminderDialog | None = None
        self.state = state

        self.reminders_page = RemindersPage(services, clock)
        self.devices_page = DevicesPage(services)
        self.log_page = DeliveryLogPage(services)
        self._server_status = server_status or _no_server
        self.server_page = ServerPage(self._server_status)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.reminders_page, "Reminders")
        self.tabs.addTab(self.devices_page, "Devices")
        self.tabs.addTab(self.log_page, "Delivery log")
        self.tabs.addTab(self.server_page, "Server and phones")

        self._build_toolbar()
        self._build_menus()
        self._build_central()
        self._build_status_bar(urls, setup_urls)
        self._connect_reminder_actions()
        self.devices_page.status_message.connect(self._say)
        self.tabs.currentChanged.connect(self._refresh_current)

        self.watcher = DataWatcher(services, self)
        self.watcher.changed.connect(self.refresh)
        self.tray = Tray(
            services,
            show_window=self.bring_to_front,
            new_reminder=self.new_from_tray,
            quit_app=self.quit,
            parent=self,
            changed=self.watcher.changed,
            available=tray_available,
        )
        self.tray.show()
        self.notifier = Notifier(self.tray.show_message, services, parent=self.tray)
        self.watcher.happened.connect(self.notifier.on_event)
        self.closing = CloseToTray(state, self.tray.show_message) if state else None
        self._quitting = False
        self._closed = False
        self.refresh()

    def restore_state(self) -> None:
        """Size, place, column widths and tab as the operator left them."""
        if self.state is not None:
            self.state.restore(self, self._tables(), tabs={"main": self.tabs})

    def _tables(self) -> dict[str, QTableView]:
        return {
            "reminders": self.reminders_page.view,
            "devices": self.devices_page.view,
            "log": self.log_page.view,
        }

    def _build_toolbar(self) -> None:
        toolbar = QToolBar("Reminders", movable=False)
        toolbar.setObjectName("remindersToolbar")
        toolbar.addActions(self.reminders_page.actions_for_toolbar())
        self.addToolBar(toolbar)

    def _build_menus(self) -> None:
        app_menu = self.menuBar().addMenu("&pushdesk")
        self.settings_action = app_menu.addAction("&Settings…")
        self.settings_action.setShortcut(QKeySequence("Ctrl+,"))
        self.settings_action.triggered.connect(self.open_settings)
        self.pause_action = app_menu.addAction("&Pause all sending")
        self.pause_action.setCheckable(True)
        self.pause_action.triggered.connect(self._set_paused)
        app_menu.addSeparator()
        self.quit_action = app_menu.addAction("&Quit")
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.triggered.connect(self.quit)

        reminder_menu = self.menuBar().addMenu("&Reminder")
        reminder_menu.addActions(self.reminders_page.actions_for_toolbar())
        reminder_menu.addSeparator()
        reminder_menu.addAction(self.reminders_page.deliveries_action)
        device_menu = self.menuBar().addMenu("&Device")
        device_menu.addActions(self.devices_page.device_actions())

    def _build_central(self) -> None:
        # Standing problems (a push service refusing our credentials) stay in
        # view until the operator has dealt with them.
        self.alert_label = QLabel()
        self.alert_label.setWordWrap(True)
        self.alert_label.setStyleSheet(
            "background: #fdecea; color: #8e1c1c; padding: 8px; border-radius: 4px;"
        )
        self.alert_label.hide()

        # Paused sending must be hard to miss: nothing goes out until resumed.
        self.paused_label = QLabel(
            "⏸ All sending is paused: due reminders wait until you "
            '<a href="resume">resume sending</a>.'
        )
        self.paused_label.setStyleSheet(
            "background: #fff4d6; color: #6b4e00; padding: 8px; border-radius: 4px;"
        )
        self.paused_label.linkActivated.connect(self._resume)
        self.paused_label.hide()
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.paused_label)
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
        """After any change: the tab in view, the counts, alerts and progress.

        Tabs out of view are read when they come into view; with 100,000 rows
        each, reading all four after every event would be wasted work.
        """
        self._refresh_current()
        status = self._server_status()
        if status is not None:
            # The server may have moved (Settings restarts it on a new port).
            self.urls_label.setText(
                _where_to_open(list(status.urls), status.setup_urls)
            )
        self.tabs.setTabText(1, f"Devices ({self._services.subscriptions.count():,})")
        paused = self._services.sending.paused
        self.pause_action.setChecked(paused)
        self.paused_label.setVisible(paused)
        alerts = self._services.alerts()
        self.alert_label.setText("\n".join(f"⚠ {text}" for text in alerts))
        self.alert_label.setVisible(bool(alerts))
        self._show_progress()

    def _refresh_current(self) -> None:
        page = self.tabs.currentWidget()
        if isinstance(page, RemindersPage | DevicesPage | DeliveryLogPage | ServerPage):
            page.refresh()

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
            save=self._save_reminder,
        )
        # Bound methods, not lambdas holding the dialog: Qt and Python would
        # each keep the other alive and tear down in the wrong order.
        self._dialog = dialog
        dialog.accepted.connect(self._show_saved)
        dialog.open()
        return dialog

    def _choices(self) -> Choices:
        subscriptions = self._services.subscriptions
        defaults = self._services.settings.defaults()
        devices = [
            (device.id, device.label or "(unnamed device)")
            for device in subscriptions.all()
        ]
        return Choices(
            groups=subscriptions.groups(),
            devices=devices,
            default_ttl=defaults.ttl,
            default_urgency=defaults.urgency,
        )

    def _save_reminder(self, dialog: ReminderDialog, form: ReminderForm) -> Reminder:
        """Raises PushdeskError for the dialog to show, keeping what was typed."""
        reminders = self._services.reminders
        if dialog.mode is Mode.EDIT and dialog.original is not None:
            reminder = reminders.edit(dialog.original.id, *form.text, **form.options)
        else:
            reminder = reminders.schedule(*form.text, **form.options)
        UI.info("reminder %d saved from the window (%s)", reminder.id, dialog.mode.name)
        return reminder

    def _show_saved(self) -> None:
        dialog, self._dialog = self._dialog, None
        if dialog is None or dialog.saved is None:
            return
        self.tabs.setCurrentWidget(self.reminders_page)
        self.reminders_page.refresh()
        self.reminders_page.select(dialog.saved.id)

    def send_now(self, reminder_id: int) -> None:
        self._try(lambda: self._services.reminders.send_now(reminder_id))

    def cancel(self, reminder_id: int) -> QMessageBox | None:
        """Cancel at once; a repeating reminder (the whole series) asks first."""
        reminder = self._services.reminders.get(reminder_id)
        if reminder.repeat is None:
            self._try(lambda: self._services.reminders.cancel(reminder_id))
            return None
        box = message_box(
            QMessageBox.Icon.Question,
            "Cancel repeating reminder",
            f"Cancel every future occurrence of “{reminder.title}” (#{reminder.id})?",
            self,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        )
        box.setDefaultButton(QMessageBox.StandardButton.No)
        self._confirm(box, lambda: self._services.reminders.cancel(reminder_id))
        return box

    def confirm_delete(self, reminder_id: int) -> QMessageBox:
        reminder = self._services.reminders.get(reminder_id)
        box = message_box(
            QMessageBox.Icon.Question,
            "Delete reminder",
            f"Delete the reminder “{reminder.title}” (#{reminder.id})?",
            self,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
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
        self._confirm(box, lambda: self._services.reminders.delete(reminder_id))
        return box

    def _confirm(self, box: QMessageBox, action: Callable[[], object]) -> None:
        """Open ``box``; run ``action`` if the answer is Yes."""

        def answered(button: QAbstractButton) -> None:
            if box.standardButton(button) == QMessageBox.StandardButton.Yes:
                self._try(action)

        box.buttonClicked.connect(answered)
        box.open()

    def _set_paused(self, paused: bool) -> None:
        self._services.sending.set_paused(paused)
        self.refresh()

    def _resume(self, _link: str = "") -> None:
        self._set_paused(False)

    def show_deliveries(self, reminder_id: int) -> None:
        """Jump to the delivery log, filtered to one reminder."""
        self.tabs.setCurrentWidget(self.log_page)
        self.log_page.show_reminder(reminder_id)

    def open_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(self._services.settings, self)
        dialog.open()
        return dialog

    def _try(self, action: Callable[[], object]) -> None:
        try:
            action()
        except PushdeskError as exc:
            self.show_problem(str(exc))

    def show_problem(self, text: str) -> QMessageBox:
        return show_problem(text, self)

    def _say(self, text: str) -> None:
        self.statusBar().showMessage(text, STATUS_MESSAGE_MS)

    # Living in the tray.

    def bring_to_front(self) -> None:
        self.showNormal()
        self.raise_()
        self.activateWindow()

    def new_from_tray(self) -> None:
        self.bring_to_front()
        self.open_new_reminder()

    def quit(self) -> None:
        """Really stop pushdesk (the tray's or the menu's Quit, a signal)."""
        self._quitting = True
        if self.closing is not None:
            self.closing.quit_requested()
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if self.state is not None:
            self.state.save(self, self._tables(), tabs={"main": self.tabs})
        if not self._quitting and self._hide_to_tray():
            event.ignore()
            self.hide()
            return

        event.accept()
        if self._closed:
            return
        self._closed = True
        self.watcher.stop()
        self.tray.hide()
        # The tab widget announces a tab change while it is being destroyed,
        # after this window's Python side may already be gone.
        self.tabs.currentChanged.disconnect(self._refresh_current)
        self.closed.emit()

    def _hide_to_tray(self) -> bool:
        if self.closing is None:
            return self.tray.available()
        return self.closing.should_hide(self.tray.available())


def _no_server() -> ServerStatus | None:
    return None
