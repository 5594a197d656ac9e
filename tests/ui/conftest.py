from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
import qasync
from pytestqt.qtbot import QtBot

from pushdesk.config import Config, ServerOptions

T = TypeVar("T")
RunOnQtLoop = Callable[[Awaitable[T]], T]


@pytest.fixture
def qt_loop(qtbot: QtBot) -> Iterator[RunOnQtLoop[object]]:
    """Run a coroutine on a qasync loop, the way the desktop app does."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    # As in the app itself: closing a window must not stop the loop under us.
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)

    def run(coroutine: Awaitable[T]) -> T:
        return loop.run_until_complete(coroutine)

    yield run  # type: ignore[misc]
    loop.close()


def gui_config(data_dir: Path, push_origin: str) -> Config:
    return Config(
        data_dir=data_dir,
        server=ServerOptions(
            host="127.0.0.1", port=0, http=True, allowed_push_origins=(push_origin,)
        ),
        vapid_subject="mailto:ops@example.org",
    )
