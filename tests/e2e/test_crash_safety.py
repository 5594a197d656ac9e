"""kill -9 during a large fan-out: nothing is lost, only what was in flight repeats."""

import asyncio
import json
import os
import signal
import socket
import sys
from collections import Counter
from pathlib import Path

import psutil
import pytest

from pushdesk.domain import DEFAULT_CONCURRENCY
from pushdesk.scheduling.delivery import LOOKAHEAD, SETTLE_BATCH
from pushdesk.store import Store
from tests.support.push_service import PushServiceDouble

pytestmark = pytest.mark.e2e

DEVICES = 1500


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def pushdesk(data_dir: Path, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pushdesk",
        *args,
        "--data-dir",
        str(data_dir),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )


async def until_logged(
    process: asyncio.subprocess.Process, text: bytes, seconds: float = 30
) -> None:
    """Read serve's log until a line holds ``text``, each within ``seconds``."""
    assert process.stderr is not None
    while True:
        line = await asyncio.wait_for(process.stderr.readline(), timeout=seconds)
        assert line, f"serve exited before it logged {text!r}"
        if text in line:
            return


async def until_listening(process: asyncio.subprocess.Process) -> None:
    await until_logged(process, b"delivery started")


async def test_a_killed_serve_resumes_without_losing_a_device(
    data_dir: Path, push_service: PushServiceDouble, tmp_path: Path
) -> None:
    browsers = [push_service.new_subscription() for _ in range(DEVICES)]
    devices = tmp_path / "devices.jsonl"
    devices.write_text("\n".join(json.dumps(b.to_json()) for b in browsers))
    origin = ("--allow-push-origin", push_service.origin)
    imported = await pushdesk(data_dir, "subscribers", "import", str(devices), *origin)
    assert await imported.wait() == 0

    serve_args = (
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(free_port()),
        "--http",
        "--vapid-subject",
        "mailto:ops@example.org",
        *origin,
    )
    first = await pushdesk(data_dir, *serve_args)
    await until_listening(first)
    remind = await pushdesk(data_dir, "remind", "Fire drill", "--in", "0s")
    assert await remind.wait() == 0

    await push_service.wait_for(DEVICES // 4, timeout=60)
    workers = psutil.Process(first.pid).children(recursive=True)
    first.send_signal(signal.SIGKILL)
    await first.wait()

    # The encryption worker notices its parent is gone and leaves too.
    _, alive = psutil.wait_procs(workers, timeout=10)
    assert workers
    assert alive == []
    before_restart = len(push_service.received)
    assert before_restart < DEVICES, "the fan-out ended before the kill"

    second = await pushdesk(data_dir, *serve_args)
    try:
        await until_listening(second)
        # Not "every device got it": sends the first claimed and had already
        # posted at the kill wait ten seconds of its silence before they go
        # out again, and the reminder is finished only after them.
        await until_logged(second, b"sent: delivered to", seconds=60)
    finally:
        second.send_signal(signal.SIGTERM)
        await second.wait()

    copies = Counter(p.endpoint for p in push_service.received)
    repeated = sum(count - 1 for count in copies.values())
    assert set(copies) == {b.endpoint for b in browsers}
    assert max(copies.values()) <= 2
    # Only sends claimed and not yet recorded at the kill can go out twice.
    assert repeated <= LOOKAHEAD * DEFAULT_CONCURRENCY + SETTLE_BATCH
    assert push_service.problems == []

    store = Store.open(data_dir / "pushdesk.db")
    [reminder] = store.reminders.all()
    states = store.sends.states(reminder.id)
    store.close()
    assert reminder.status.value == "sent"
    assert states == {"delivered": DEVICES}
