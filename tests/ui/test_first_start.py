"""The first start: pushdesk asks for the contact push services may use."""

import logging
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog
from pytestqt.qtbot import QtBot

from pushdesk.config import Config, ServerOptions
from pushdesk.store import Store
from pushdesk.store.settings import VAPID_SUBJECT
from pushdesk.ui.desktop import ask_for_contact, run
from pushdesk.ui.dialogs.contact import ContactDialog


@pytest.fixture
def signal_handlers() -> Iterator[None]:
    """run() takes SIGINT and SIGTERM for its dialogs; pytest gets them back."""
    saved = {
        signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)
    }
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def answer_the_dialog(answer: str | None) -> None:
    """Once the contact dialog shows, type ``answer`` and press OK, or Cancel."""

    def respond() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, ContactDialog):
            QTimer.singleShot(10, respond)
            return
        if answer is None:
            dialog.reject()
        else:
            dialog.subject_edit.setText(answer)
            dialog.accept()

    QTimer.singleShot(0, respond)


def test_cancel_ends_pushdesk_without_a_fault_and_stores_nothing(
    qtbot: QtBot,
    data_dir: Path,
    signal_handlers: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = Config(data_dir=data_dir, server=ServerOptions(host="127.0.0.1", port=0))
    answer_the_dialog(None)

    with caplog.at_level(logging.INFO, logger="pushdesk"):
        code = run(config)

    assert code == 0
    assert "stopped before starting: it needs a contact" in caplog.text
    store = Store.open(data_dir / "pushdesk.db")
    try:
        assert store.settings.get(VAPID_SUBJECT) is None
    finally:
        store.close()


def test_the_dialog_gives_the_contact_typed_once_it_is_valid(qtbot: QtBot) -> None:
    answer_the_dialog("mailto:ops@example.org")

    assert ask_for_contact() == "mailto:ops@example.org"


def test_ok_waits_for_a_contact_push_services_accept(qtbot: QtBot) -> None:
    dialog = ContactDialog()
    qtbot.addWidget(dialog)

    dialog.subject_edit.setText("mailto:me@localhost")

    assert not dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()
    assert "localhost" in dialog.problem_label.text()
    assert dialog.result() == QDialog.DialogCode.Rejected


def test_a_stop_signal_just_before_the_dialog_opens_still_closes_it(
    qtbot: QtBot, signal_handlers: None
) -> None:
    from pushdesk.ui.desktop import _close_dialogs_on_signals

    ticks = _close_dialogs_on_signals(QApplication.instance())  # type: ignore[arg-type]
    try:
        # Delivered now, while no window is open yet.
        signal.raise_signal(signal.SIGTERM)
        # Were the dialog left open, this would answer it after a while, and
        # the test would see a contact instead of None.
        QTimer.singleShot(3000, lambda: answer_the_dialog("mailto:ops@example.org"))

        answer = ask_for_contact()
    finally:
        ticks.stop()

    assert answer is None
