"""The PyInstaller bundle, built by packaging/build.sh and run as a user would:
the executable alone, with none of this checkout's Python on its path.

Building takes about half a minute. ``PUSHDESK_BUNDLE=dist/pushdesk`` runs the
tests against a bundle built before, e.g. while working on them.
"""

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from pushdesk import __version__
from tests.support.push_service import PushServiceDouble

pytestmark = [
    pytest.mark.frozen,
    pytest.mark.skipif(sys.platform != "linux", reason="the Linux bundle is built"),
]

ROOT = Path(__file__).resolve().parents[2]
SUBJECT = "mailto:ops@example.org"
# Generous: the first start of a bundle unpacks nothing, but a loaded CI
# machine may take seconds to load Qt.
START_SECONDS = 60


@pytest.fixture(scope="session")
def bundle() -> Path:
    """The bundle's folder, built once for the whole test run."""
    given = os.environ.get("PUSHDESK_BUNDLE")
    if given:
        return Path(given).resolve()

    build = subprocess.run(
        ["bash", str(ROOT / "packaging" / "build.sh")],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    return ROOT / "dist" / "pushdesk"


@pytest.fixture
def executable(bundle: Path) -> Path:
    return bundle / "pushdesk"


def clean_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a user's shell: no virtualenv, no source on the path."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
    }
    env["PATH"] = "/usr/bin:/bin"
    env["PUSHDESK_DATA_DIR"] = str(data_dir)
    return env | extra


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Running:
    """A started bundle whose stderr is read line by line as it comes."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            args,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,  # pushdesk logs to stderr
            stderr=subprocess.PIPE,
            text=True,
            cwd="/",
        )
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self.lines.append("")  # the end: nothing more will come
            self._changed.notify_all()

    def wait_for(self, text: str, timeout: float = START_SECONDS) -> None:
        """Until a line holds ``text``; fails if the process ends first."""

        def seen() -> bool:
            return any(text in line for line in self.lines) or (
                bool(self.lines) and self.lines[-1] == ""
            )

        with self._changed:
            self._changed.wait_for(seen, timeout)
        if not any(text in line for line in self.lines):
            raise AssertionError(f"never said {text!r}:\n{self.log}")

    def stop(self, signum: int = signal.SIGTERM) -> int:
        self.process.send_signal(signum)
        code = self.process.wait(timeout=30)
        self._reader.join(timeout=5)
        return code

    def close(self) -> None:
        """Kill it if it still runs, and let go of its pipe."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._reader.join(timeout=5)
        assert self.process.stderr is not None
        self.process.stderr.close()

    @property
    def log(self) -> str:
        return "".join(self.lines)


def get(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as reply:
        return reply.status, reply.headers.get_content_type(), reply.read()


def test_the_bundle_says_its_version(executable: Path, data_dir: Path) -> None:
    done = subprocess.run(
        [str(executable), "--version"],
        env=clean_env(data_dir),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"pushdesk {__version__}"


def test_the_bundle_keeps_its_data_where_the_source_version_does(
    executable: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    env = clean_env(tmp_path / "unused")
    del env["PUSHDESK_DATA_DIR"]
    env.pop("XDG_DATA_HOME", None)
    env["HOME"] = str(home)
    given = tmp_path / "given"

    by_default = subprocess.run(
        [str(executable), "remind", "Tea", "--in", "5m"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    by_option = subprocess.run(
        [str(executable), "remind", "Tea", "--in", "5m", "--data-dir", str(given)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert by_default.returncode == 0, by_default.stderr
    assert (home / ".local" / "share" / "pushdesk" / "pushdesk.db").is_file()
    assert by_option.returncode == 0, by_option.stderr
    assert (given / "pushdesk.db").is_file()


def test_the_bundle_carries_the_page_icons_and_no_unused_qt(bundle: Path) -> None:
    inside = bundle / "_internal"

    for name in ("index.html", "sw.js", "manifest.webmanifest", "app.js"):
        assert (inside / "web" / name).is_file(), name
    assert (inside / "resources" / "icons" / "pushdesk-256.png").is_file()
    qt = inside / "PySide6"
    assert not list(qt.glob("QtQml*")) + list(qt.glob("QtWebEngine*"))
    assert not (qt / "Qt" / "translations").exists()
    # Test tools never ship.
    assert not (inside / "pytest").exists()
    assert not (inside / "hypothesis").exists()
    assert not (inside / "yaml").exists()


def test_the_linux_archive_holds_the_bundle_and_its_desktop_files(
    bundle: Path,
) -> None:
    [archive] = bundle.parent.glob(f"pushdesk-{__version__}-linux-*.tar.gz")

    with tarfile.open(archive) as tar:
        names = set(tar.getnames())

    top = f"pushdesk-{__version__}"
    assert f"{top}/pushdesk/pushdesk" in names
    assert f"{top}/pushdesk.desktop" in names
    assert f"{top}/install.sh" in names
    assert f"{top}/icons/pushdesk-256.png" in names


@pytest.fixture
def serve_args(executable: Path) -> list[str]:
    return [str(executable), "serve", "--http", "--host", "127.0.0.1"]


async def test_serve_from_the_bundle_answers_pushes_and_stops_on_sigterm(
    serve_args: list[str], executable: Path, data_dir: Path
) -> None:
    port = free_port()
    async with PushServiceDouble() as push:
        args = [
            *serve_args,
            *("--port", str(port), "--vapid-subject", SUBJECT),
            *("--allow-push-origin", push.origin),
        ]
        running = Running(args, clean_env(data_dir))
        try:
            await asyncio.to_thread(running.wait_for, "pushdesk started")
            base = f"http://127.0.0.1:{port}"
            answers = {
                path: await asyncio.to_thread(get, base + path)
                for path in ("/api/health", "/", "/sw.js", "/manifest.webmanifest")
            }

            # A browser subscribes over HTTP; the bundle's own CLI schedules.
            browser = push.new_subscription()
            subscribe = urllib.request.Request(
                base + "/api/subscriptions",
                data=json.dumps(browser.to_json()).encode(),
                headers={"Content-Type": "application/json"},
            )
            await asyncio.to_thread(urllib.request.urlopen, subscribe, None, 10)
            remind = await asyncio.to_thread(
                subprocess.run,
                [str(executable), "remind", "From the bundle", "--in", "1s"],
                env=clean_env(data_dir),
                capture_output=True,
                text=True,
                timeout=60,
            )
            [received] = await push.wait_for(1, timeout=30)

            code = await asyncio.to_thread(running.stop)
        finally:
            running.close()

    assert answers["/api/health"][0] == 200
    assert json.loads(answers["/api/health"][2])["version"] == __version__
    assert answers["/"][1] == "text/html"
    assert answers["/sw.js"][1] == "application/javascript"
    assert answers["/manifest.webmanifest"][1] == "application/manifest+json"
    assert remind.returncode == 0, remind.stderr
    # The double checked the VAPID signature and decrypted the payload.
    assert received.json()["body"] == "From the bundle"
    assert push.problems == []
    assert code == 0, running.log
    assert "pushdesk stopped" in running.log
    assert "Traceback" not in running.log
    # Encryption ran in its worker process, started from the bundle itself.
    assert "no encryption worker" not in running.log


@pytest.fixture
def x_display() -> Iterator[str]:
    """A virtual X screen of its own, as a desktop without a monitor has."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.fail("Xvfb is missing: install Debian's xvfb (.ci/run does)")
    read, write = os.pipe()
    server = subprocess.Popen(
        [
            xvfb,
            "-displayfd",
            str(write),
            "-screen",
            "0",
            "1280x800x24",
            "-nolisten",
            "tcp",
        ],
        pass_fds=(write,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as chosen:
        number = chosen.readline().strip()
    try:
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_window_starts_on_x_and_quits_cleanly(
    executable: Path, data_dir: Path, x_display: str
) -> None:
    env = clean_env(data_dir, DISPLAY=x_display, QT_QPA_PLATFORM="xcb")
    args = [str(executable), "--http", "--host", "127.0.0.1"]
    args += ["--port", str(free_port()), "--vapid-subject", SUBJECT]
    running = Running(args, env)
    try:
        running.wait_for("window open")
        code = running.stop()
    finally:
        running.close()

    assert code == 0, running.log
    assert "pushdesk stopped" in running.log
    assert "Traceback" not in running.log
    assert "Could not load the Qt platform plugin" not in running.log
