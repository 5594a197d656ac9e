"""A taken port or an unreadable certificate is fixed from the window: a
message with "Open settings…", and the server starts (or moves) once the
settings are saved."""

import asyncio
import socket
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

import aiohttp
import pytest
from PySide6.QtWidgets import QApplication, QDialog, QWidget
from pytestqt.qtbot import QtBot

from pushdesk.app import Runtime, open_store
from pushdesk.config import Config, ServerOverrides, TlsMode
from pushdesk.ui.desktop import ServerProblem, finished, run_window
from pushdesk.ui.dialogs.settings import Section, SettingsDialog
from pushdesk.ui.main_window import MainWindow
from tests.support.push_service import PushServiceDouble
from tests.ui.conftest import RunOnQtLoop, gui_config

W = TypeVar("W", bound=QWidget)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def from_command_line(data_dir: Path, origin: str, given: ServerOverrides) -> Config:
    """A config as `pushdesk --host … --port …` builds it."""
    config = gui_config(data_dir, origin)
    config.command_line = given
    return config


async def appears(kind: type[W]) -> W:
    for _ in range(500):
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, kind) and widget.isVisible():
                return widget
        await asyncio.sleep(0.01)
    raise AssertionError(f"no {kind.__name__} appeared")


async def healthy(port: int) -> bool:
    url = f"http://127.0.0.1:{port}/api/health"
    try:
        async with aiohttp.ClientSession() as session, session.get(url) as reply:
            return reply.status == 200
    except aiohttp.ClientConnectionError:
        return False


def test_a_taken_port_is_fixed_in_settings_and_the_server_comes_up(
    qtbot: QtBot, qt_loop: RunOnQtLoop[int], data_dir: Path
) -> None:
    async def scenario() -> int:
        async with PushServiceDouble() as push:
            with socket.socket() as taken:
                taken.bind(("127.0.0.1", 0))
                taken.listen()
                port = taken.getsockname()[1]
                given = ServerOverrides(host="127.0.0.1", port=port, http=True)
                config = from_command_line(data_dir, push.origin, given)
                runtime = Runtime(config, open_store(config))
                app = asyncio.ensure_future(run_window(runtime))

                box = await appears(ServerProblem)
                assert f"Port {port} is already in use" in box.text()
                box.settings_button.click()

                dialog = await appears(SettingsDialog)
                assert dialog.tabs.currentWidget() is dialog.pages[Section.SERVER]
                new_port = free_port()
                dialog.port_spin.setValue(new_port)
                dialog.ok_button.click()

                window = await appears(MainWindow)
                assert runtime.server is not None
                assert runtime.server.port == new_port
                assert await healthy(new_port)
                assert runtime.services.settings.current().port == new_port

                window.close()
                return await asyncio.wait_for(app, timeout=10)

    assert qt_loop(scenario()) == 0


def test_an_unreadable_certificate_is_fixed_by_choosing_plain_http(
    qtbot: QtBot, qt_loop: RunOnQtLoop[int], data_dir: Path, tmp_path: Path
) -> None:
    async def scenario() -> int:
        async with PushServiceDouble() as push:
            port = free_port()
            given = ServerOverrides(
                host="127.0.0.1",
                port=port,
                http_port=free_port(),
                cert=tmp_path / "missing.crt",
                key=tmp_path / "missing.key",
            )
            config = from_command_line(data_dir, push.origin, given)
            runtime = Runtime(config, open_store(config))
            app = asyncio.ensure_future(run_window(runtime))

            box = await appears(ServerProblem)
            assert "Cannot use the certificate" in box.text()
            assert "missing.crt" in box.text()
            box.settings_button.click()

            dialog = await appears(SettingsDialog)
            dialog.plain_radio.setChecked(True)
            dialog.ok_button.click()

            window = await appears(MainWindow)
            assert runtime.server is not None
            assert runtime.server.options.tls_mode is TlsMode.PLAIN_HTTP
            assert await healthy(port)

            window.close()
            return await asyncio.wait_for(app, timeout=10)

    assert qt_loop(scenario()) == 0


def test_quit_ends_pushdesk_with_1_and_cancel_shows_the_problem_again(
    qtbot: QtBot, qt_loop: RunOnQtLoop[int], data_dir: Path
) -> None:
    async def scenario() -> int:
        async with PushServiceDouble() as push:
            with socket.socket() as taken:
                taken.bind(("127.0.0.1", 0))
                taken.listen()
                given = ServerOverrides(
                    host="127.0.0.1", port=taken.getsockname()[1], http=True
                )
                config = from_command_line(data_dir, push.origin, given)
                runtime = Runtime(config, open_store(config))
                app = asyncio.ensure_future(run_window(runtime))

                first = await appears(ServerProblem)
                first.settings_button.click()
                dialog = await appears(SettingsDialog)
                dialog.reject()

                again = await appears(ServerProblem)
                assert again is not first
                again.dismiss_button.click()
                code = await asyncio.wait_for(app, timeout=10)

                with pytest.raises(sqlite3.ProgrammingError):
                    runtime.services.settings.current()
                return code

    assert qt_loop(scenario()) == 1


def test_a_stop_signal_closes_a_waiting_dialog(
    qtbot: QtBot, qt_loop: RunOnQtLoop[int | None]
) -> None:
    dialog = QDialog()
    qtbot.addWidget(dialog)

    async def scenario() -> int | None:
        stop = asyncio.Event()
        waiting = asyncio.ensure_future(finished(dialog, stop))
        await asyncio.sleep(0)
        assert dialog.isVisible()

        stop.set()
        return await asyncio.wait_for(waiting, timeout=5)

    assert qt_loop(scenario()) is None
    assert not dialog.isVisible()


def test_saved_server_settings_move_the_running_server(
    qtbot: QtBot, qt_loop: RunOnQtLoop[int], data_dir: Path
) -> None:
    async def scenario() -> int:
        async with PushServiceDouble() as push:
            old_port = free_port()
            given = ServerOverrides(host="127.0.0.1", port=old_port, http=True)
            config = from_command_line(data_dir, push.origin, given)
            runtime = Runtime(config, open_store(config))
            app = asyncio.ensure_future(run_window(runtime))
            window = await appears(MainWindow)
            settings = runtime.services.settings

            new_port = free_port()
            settings.save(replace(settings.current(), port=new_port))
            for _ in range(500):
                if runtime.server is not None and runtime.server.port == new_port:
                    break
                await asyncio.sleep(0.01)
            assert await healthy(new_port)
            assert not await healthy(old_port)
            assert str(new_port) in window.statusBar().currentMessage()

            with socket.socket() as taken:
                taken.bind(("127.0.0.1", 0))
                taken.listen()
                settings.save(replace(settings.current(), port=taken.getsockname()[1]))
                box = await appears(ServerProblem)
            assert "is already in use" in box.text()
            assert "goes on with the old settings" in box.text()
            assert box.dismiss_button.text() == "Close"
            box.dismiss_button.click()
            assert runtime.server is not None
            assert runtime.server.port == new_port
            assert await healthy(new_port)

            window.close()
            return await asyncio.wait_for(app, timeout=10)

    assert qt_loop(scenario()) == 0
