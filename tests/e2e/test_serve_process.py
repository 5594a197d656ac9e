"""``pushdesk serve`` as an operator runs it: a real process, signals and all."""

import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest

from pushdesk.clock import system_clock
from pushdesk.events import EventHub
from pushdesk.services import Services
from pushdesk.store import Store

pytestmark = pytest.mark.e2e

SUBJECT = "mailto:ops@example.org"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pushdesk(*args: str, data_dir: Path) -> subprocess.Popen[str]:
    env = os.environ | {"PUSHDESK_DATA_DIR": str(data_dir)}
    return subprocess.Popen(
        [sys.executable, "-m", "pushdesk", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_health(port: int, process: subprocess.Popen[str]) -> dict[str, object]:
    """Poll until the server answers; a bounded wait for another process to boot."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited early: {process.communicate()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health") as reply:
                return dict(json.load(reply))
        except OSError:
            time.sleep(0.05)
    raise AssertionError("serve never answered /api/health")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serve_answers_and_stops_cleanly_on_a_signal(
    data_dir: Path, signum: signal.Signals
) -> None:
    port = free_port()
    process = pushdesk(
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--http",
        "--vapid-subject",
        SUBJECT,
        data_dir=data_dir,
    )
    try:
        health = wait_for_health(port, process)
        process.send_signal(signum)
        _, err = process.communicate(timeout=20)
    finally:
        process.kill()

    assert health["status"] == "ok"
    assert process.returncode == 0
    assert f"listening on http://127.0.0.1:{port}/" in err
    assert "pushdesk stopped" in err
    assert (data_dir / "pushdesk.db").exists()


def test_serve_without_a_contact_refuses_to_start_and_says_how(data_dir: Path) -> None:
    process = pushdesk("serve", "--port", str(free_port()), data_dir=data_dir)
    _, err = process.communicate(timeout=20)

    assert process.returncode == 1
    assert "--vapid-subject" in err
    assert "Traceback" not in err


def test_serve_on_a_taken_port_says_so(data_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = pushdesk(
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--vapid-subject",
            SUBJECT,
            data_dir=data_dir,
        )
        _, err = process.communicate(timeout=20)

    assert process.returncode == 1
    assert f"Port {port} is already in use" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_desktop_app_stops_cleanly_on_a_signal(
    data_dir: Path, signum: signal.Signals, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    port = free_port()
    process = pushdesk(
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--http",
        "--vapid-subject",
        SUBJECT,
        data_dir=data_dir,
    )
    try:
        wait_for_health(port, process)
        process.send_signal(signum)
        _, err = process.communicate(timeout=20)
    finally:
        process.kill()

    assert process.returncode == 0, err
    assert "window open" in err
    assert "pushdesk stopped" in err


def wait_for_line(process: subprocess.Popen[str], text: str) -> str:
    """Read the process's log until a line holds ``text``; what was read."""
    assert process.stderr is not None
    deadline = time.monotonic() + 20
    seen = ""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stderr, selectors.EVENT_READ)
        while text not in seen:
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(timeout=left):
                raise AssertionError(f"never logged {text!r}; got {seen!r}")
            line = process.stderr.readline()
            if not line:
                raise AssertionError(f"exited before logging {text!r}: {seen!r}")
            seen += line
    return seen


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_desktop_app_stops_cleanly_while_asking_for_the_contact(
    data_dir: Path, signum: signal.Signals, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    process = pushdesk("--host", "127.0.0.1", "--http", data_dir=data_dir)
    try:
        before = wait_for_line(process, "asking for the contact")
        process.send_signal(signum)
        _, err = process.communicate(timeout=20)
    finally:
        process.kill()
        process.communicate()  # reaped, and its pipes closed, whatever happened

    assert process.returncode == 0, before + err
    assert "stopped before starting: it needs a contact" in err
    assert "Traceback" not in before + err


def test_settings_saved_by_another_process_reach_a_running_serve(
    data_dir: Path,
) -> None:
    old_port, new_port = free_port(), free_port()
    process = pushdesk(
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(old_port),
        "--http",
        "--vapid-subject",
        SUBJECT,
        data_dir=data_dir,
    )
    try:
        wait_for_health(old_port, process)
        # As `pushdesk settings set port …` would, in a process of its own.
        other = Store.open(data_dir / "pushdesk.db")
        services = Services(other, EventHub(), system_clock)
        services.settings.save(replace(services.settings.current(), port=new_port))
        other.close()

        moved = wait_for_health(new_port, process)
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(f"http://127.0.0.1:{old_port}/api/health", timeout=2)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=20)
    finally:
        process.kill()

    assert moved["status"] == "ok"
    assert process.returncode == 0, err
    assert "server restarted with the new settings" in err
