"""pushdesk in the system tray: it keeps firing reminders with the window closed.

The tray knows nothing of the window: what its menu does is handed in as
callables, so the window can change without touching it.
"""

from collections.abc import Callable

from PySide6.QtCore import QObject, SignalInstance
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from pushdesk.services import Services
from pushdesk.ui.icons import app_icon
from pushdesk.ui.window_state import WindowState

# How long a tray balloon stays up, where the desktop lets us choose.
MESSAGE_MS = 10_000

TRAY_MESSAGE_SHOWN = "tray_message_shown"
STILL_RUNNING_TITLE = "pushdesk is still running"
STILL_RUNNING_TEXT = (
    "pushdesk is still running in the tray and sends reminders on time. "
    "To stop it, choose Quit in the tray menu."
)


def system_tray_available() -> bool:
    """Does this desktop show tray icons? (Some GNOME set-ups and offscreen don't.)"""
    return QSystemTrayIcon.isSystemTrayAvailable()


class Tray(QObject):
    """The tray icon and its menu: show window, new reminder, pause, quit.

    The pause item follows the stored switch; connect ``changed`` (the
    DataWatcher's) so a pause from another process shows here too.
    """

    def __init__(
        self,
        services: Services,
        show_window: Callable[[], None],
        new_reminder: Callable[[], None],
        quit_app: Callable[[], None],
        parent: QObject | None = None,
        *,
        changed: SignalInstance | None = None,
        available: Callable[[], bool] = system_tray_available,
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._show_window = show_window
        self._available = available
        self._icons = {False: app_icon(), True: app_icon(paused=True)}

        self.menu = QMenu()
        self.show_action = self.menu.addAction("Show window")
        self.show_action.triggered.connect(show_window)
        self.new_action = self.menu.addAction("New reminder…")
        self.new_action.triggered.connect(new_reminder)
        self.menu.addSeparator()
        self.pause_action = self.menu.addAction("Pause all sending")
        self.pause_action.setCheckable(True)
        self.pause_action.triggered.connect(self._set_paused)
        self.menu.addSeparator()
        self.quit_action = self.menu.addAction("Quit pushdesk")
        self.quit_action.triggered.connect(quit_app)

        self.icon = QSystemTrayIcon(self._icons[False], self)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._on_activated)
        if changed is not None:
            changed.connect(self.refresh)
        self.refresh()

    def available(self) -> bool:
        return self._available()

    def show(self) -> bool:
        """Put the icon in the tray; False where there is no tray to put it in."""
        if not self.available():
            return False
        self.icon.show()
        return True

    def hide(self) -> None:
        self.icon.hide()

    def show_message(self, title: str, text: str) -> None:
        """A desktop notification from the tray icon; nothing without a tray."""
        if self.available():
            self.icon.showMessage(
                title, text, QSystemTrayIcon.MessageIcon.Warning, MESSAGE_MS
            )

    def refresh(self) -> None:
        """Show the stored pause switch, whoever turned it."""
        paused = self._services.sending.paused
        self.pause_action.setChecked(paused)
        self.icon.setIcon(self._icons[paused])
        self.icon.setToolTip("pushdesk — sending paused" if paused else "pushdesk")

    def _set_paused(self, checked: bool) -> None:
        self._services.sending.set_paused(checked)
        self.refresh()

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        # A plain click brings the window back; the menu has the rest.
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            self._show_window()


class CloseToTray:
    """What closing the main window means: hide to the tray, or really quit.

    Call ``should_hide`` from ``closeEvent``; call ``quit_requested`` before
    closing the window on purpose (the tray's Quit, a SIGTERM).
    """

    def __init__(
        self, state: WindowState, show_message: Callable[[str, str], None]
    ) -> None:
        self._state = state
        self._show_message = show_message
        self._quitting = False

    def quit_requested(self) -> None:
        self._quitting = True

    def should_hide(self, tray_available: bool) -> bool:
        """True: hide the window and keep running. The first time, say so."""
        if self._quitting or not tray_available:
            return False

        if not self._state.flag(TRAY_MESSAGE_SHOWN):
            self._show_message(STILL_RUNNING_TITLE, STILL_RUNNING_TEXT)
            self._state.set_flag(TRAY_MESSAGE_SHOWN, True)
        return True
