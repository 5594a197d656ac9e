"""Start the desktop app: Qt window and the runtime on one qasync loop."""

import asyncio
import os
import signal
import sys
from collections.abc import Mapping
from functools import partial

import qasync
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QWidget

from pushdesk.app import Runtime, open_store
from pushdesk.config import Config
from pushdesk.errors import PushdeskError
from pushdesk.events import Event, SettingsChanged
from pushdesk.log import UI
from pushdesk.services.settings import SettingsService
from pushdesk.settings import Applies, applying
from pushdesk.store.settings import VAPID_SUBJECT
from pushdesk.ui.dialogs.contact import ContactDialog
from pushdesk.ui.dialogs.settings import Section, SettingsDialog
from pushdesk.ui.icons import app_icon
from pushdesk.ui.main_window import MainWindow
from pushdesk.ui.pages.server import ServerStatus
from pushdesk.ui.window_state import WindowState

# How long the status bar says where a restarted server listens.
RESTARTED_MESSAGE_MS = 15000


def application() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("pushdesk")
    # Wayland desktops match the window to packaging/linux/pushdesk.desktop
    # (its menu entry and icon) by this name; X11 by the window class.
    app.setDesktopFileName("pushdesk")
    app.setWindowIcon(app_icon())

    # The window's close ends the main coroutine instead; letting Qt quit on
    # its own stops the loop before shutdown has finished.
    app.setQuitOnLastWindowClosed(False)
    return app


def check_screen(environ: Mapping[str, str] = os.environ) -> None:
    """Fail with a sentence, not a Qt abort, when there is no screen to use."""
    if not sys.platform.startswith("linux") or "QT_QPA_PLATFORM" in environ:
        return
    if not environ.get("DISPLAY") and not environ.get("WAYLAND_DISPLAY"):
        raise PushdeskError(
            "There is no screen here (neither DISPLAY nor WAYLAND_DISPLAY is set); "
            "run `pushdesk serve` for the server without a window."
        )


def run(config: Config) -> int:
    check_screen()
    app = application()
    keep_alive = _close_dialogs_on_signals(app)
    try:
        store = open_store(config)
        if not store.settings.get(VAPID_SUBJECT):
            subject = ask_for_contact()
            if subject is None:
                # The operator's own choice (Cancel, or a signal), not a fault.
                store.close()
                UI.info(
                    "pushdesk stopped before starting: it needs a contact for "
                    "push services (give one at the next start, or with "
                    "--vapid-subject)"
                )
                return 0
            store.settings.set(VAPID_SUBJECT, subject)
        runtime = Runtime(config, store)
    except PushdeskError as exc:
        show_startup_error(str(exc))
        return 1

    keep_alive.stop()
    result: int = qasync.run(run_window(runtime))
    return result


def ask_for_contact() -> str | None:
    dialog = ContactDialog()
    UI.info("asking for the contact for push services")
    # exec(), as no asyncio loop runs yet to await a dialog on.
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.subject()


def show_startup_error(text: str) -> None:
    """Before the loop runs (a damaged key, say): a box, and pushdesk ends."""
    UI.error("%s", text)
    QMessageBox.critical(None, "pushdesk cannot start", text)


async def run_window(runtime: Runtime) -> int:
    """Run until the window closes or a SIGINT/SIGTERM arrives; then shut down."""
    stop = asyncio.Event()
    _stop_on_signals(stop)

    if not await start_or_fix(runtime, stop):
        runtime.store.close()
        return 1

    assert runtime.server is not None
    window = MainWindow(
        runtime.services,
        runtime.server.urls(),
        runtime.clock,
        setup_urls=runtime.server.setup_urls(),
        server_status=partial(server_status, runtime),
        state=WindowState.in_data_dir(runtime.config.data_dir),
    )
    window.closed.connect(stop.set)
    restarts = ServerRestarts(runtime, window, stop)
    window.restore_state()
    if not runtime.services.settings.current().start_minimised:
        window.show()
    elif not window.tray.available():
        # Without a tray, a hidden window could not be brought back.
        window.showMinimized()
    UI.info("window open")

    await stop.wait()
    await restarts.close()
    window.quit()
    await runtime.stop()
    return 0


def server_status(runtime: Runtime) -> ServerStatus | None:
    """What the Server and phones tab shows, read from the running server."""
    server = runtime.server
    if server is None:
        return None
    return ServerStatus(
        urls=tuple(server.urls()),
        setup_urls=tuple(server.setup_urls()),
        tls=server.options.tls_mode,
        certificate=server.options.cert,
        live_connections=server.live_connections,
        live_devices=server.live_devices,
    )


async def start_or_fix(runtime: Runtime, stop: asyncio.Event) -> bool:
    """Start the runtime. When it cannot start (a port taken, a certificate
    unreadable), say why and offer Settings, until it starts or the operator
    quits; False then."""
    while True:
        try:
            await runtime.start()
        except PushdeskError as exc:
            UI.error("%s", exc)
            if not await fix_in_settings(runtime.services.settings, str(exc), stop):
                return False
        else:
            return True


class ServerProblem(QMessageBox):
    """Why the server cannot run, with the way to fix it from the window."""

    def __init__(
        self, text: str, *, dismiss: str = "Quit", parent: QWidget | None = None
    ) -> None:
        super().__init__(
            QMessageBox.Icon.Critical,
            "pushdesk — the server cannot run",
            text,
            parent=parent,
        )
        self.setObjectName("server-problem")
        self.setInformativeText(
            "Choose another port, address or HTTPS setting in Settings."
        )
        self.settings_button = self.addButton(
            "Open settings…", QMessageBox.ButtonRole.AcceptRole
        )
        self.dismiss_button = self.addButton(dismiss, QMessageBox.ButtonRole.RejectRole)
        self.setDefaultButton(self.settings_button)


async def fix_in_settings(
    settings: SettingsService,
    problem: str,
    stop: asyncio.Event,
    *,
    dismiss: str = "Quit",
    parent: QWidget | None = None,
) -> bool:
    """Show the problem; True once the operator saved settings to fix it,
    False when they chose ``dismiss`` or pushdesk was told to stop."""
    while True:
        box = ServerProblem(problem, dismiss=dismiss, parent=parent)
        if await finished(box, stop) is None:
            return False
        if box.clickedButton() is not box.settings_button:
            return False
        dialog = SettingsDialog(
            settings, parent, section=Section.SERVER, announce=False
        )
        outcome = await finished(dialog, stop)
        if outcome is None:
            return False
        if outcome == QDialog.DialogCode.Accepted:
            return True


async def finished(dialog: QDialog, stop: asyncio.Event) -> int | None:
    """Open ``dialog`` (never exec: the server runs on this loop) and wait for
    its result; None when pushdesk is told to stop first."""
    result: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()

    def settle(code: int | None) -> None:
        if not result.done():
            result.set_result(code)

    async def watch_stop() -> None:
        await stop.wait()
        settle(None)

    dialog.finished.connect(settle)
    dialog.open()
    watcher = asyncio.ensure_future(watch_stop())
    try:
        code = await result
    except asyncio.CancelledError:
        dialog.close()
        raise
    finally:
        watcher.cancel()
    if code is None or stop.is_set():
        dialog.close()
        return None
    return code


class ServerRestarts:
    """Restarts the web server when its settings are saved, and offers
    Settings again when the new ones cannot be used."""

    def __init__(
        self, runtime: Runtime, window: MainWindow, stop: asyncio.Event
    ) -> None:
        self._runtime = runtime
        self._window = window
        self._stop = stop
        self._lock = asyncio.Lock()  # one restart at a time, in order
        self._tasks: set[asyncio.Task[None]] = set()
        self._unsubscribe = runtime.hub.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        if not isinstance(event, SettingsChanged):
            return
        if applying(event.names, Applies.SERVER_RESTART):
            task = asyncio.ensure_future(self._restart())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _restart(self) -> None:
        async with self._lock:
            try:
                await self._runtime.restart_server()
            except PushdeskError as exc:
                UI.error("%s", exc)
                await self._offer_settings(str(exc))
                return
        server = self._runtime.server
        assert server is not None
        self._window.refresh()
        self._window.statusBar().showMessage(
            "The server now listens on " + ", ".join(server.urls()),
            RESTARTED_MESSAGE_MS,
        )

    async def _offer_settings(self, problem: str) -> None:
        # Saving in Settings publishes SettingsChanged, which restarts again.
        if self._runtime.server is not None:
            problem += " pushdesk goes on with the old settings meanwhile."
        await fix_in_settings(
            self._runtime.services.settings,
            problem,
            self._stop,
            dismiss="Close",
            parent=self._window,
        )

    async def close(self) -> None:
        self._unsubscribe()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def _stop_on_signals(stop: asyncio.Event) -> None:
    def on_signal() -> None:
        stop.set()
        # A modal box (a start-up error) would otherwise hold the loop.
        QApplication.closeAllWindows()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal)


def _close_dialogs_on_signals(app: QApplication) -> QTimer:
    """Before the asyncio loop runs: let SIGINT/SIGTERM close a first-start dialog.

    Python runs signal handlers only between bytecodes, which Qt's own loop
    never reaches; the timer hands control back to Python a few times a second.
    It also closes the windows again on each tick once a signal came: one that
    arrives just before a dialog opens would otherwise find nothing to close.
    """
    stopping = False

    def on_signal(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        app.closeAllWindows()

    def on_tick() -> None:
        if stopping:
            app.closeAllWindows()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    timer = QTimer(interval=200)
    timer.timeout.connect(on_tick)
    timer.start()
    return timer
