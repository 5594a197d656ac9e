"""Start the desktop app: Qt window and the runtime on one qasync loop."""

import asyncio
import os
import signal
import sys
from collections.abc import Mapping

import qasync
from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from pushdesk.app import Runtime, open_store
from pushdesk.config import Config
from pushdesk.errors import PushdeskError
from pushdesk.log import UI
from pushdesk.resources import resources_dir
from pushdesk.store.settings import VAPID_SUBJECT
from pushdesk.ui.dialogs.contact import ContactDialog
from pushdesk.ui.main_window import MainWindow


def application() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("pushdesk")
    app.setWindowIcon(QIcon(str(resources_dir() / "icons" / "pushdesk.png")))

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
                return 1
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
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.subject()


def show_startup_error(text: str) -> None:
    UI.error("%s", text)
    QMessageBox.critical(None, "pushdesk cannot start", text)


async def run_window(runtime: Runtime) -> int:
    """Run until the window closes or a SIGINT/SIGTERM arrives; then shut down."""
    stop = asyncio.Event()
    _stop_on_signals(stop)

    try:
        await runtime.start()
    except PushdeskError as exc:
        show_startup_error(str(exc))
        runtime.store.close()
        return 1

    assert runtime.server is not None
    window = MainWindow(
        runtime.services,
        runtime.server.urls(),
        runtime.clock,
        setup_urls=runtime.server.setup_urls(),
    )
    window.closed.connect(stop.set)
    window.show()
    UI.info("window open")

    await stop.wait()
    window.close()
    await runtime.stop()
    return 0


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
    """

    def on_signal(_signum: int, _frame: object) -> None:
        app.closeAllWindows()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    timer = QTimer(interval=200)
    timer.timeout.connect(lambda: None)
    timer.start()
    return timer
