"""Window benchmark: the operator's tables with 100,000 reminders and 10,000 devices.

Builds that data folder, starts the real runtime (server, scheduler, sender)
with the real main window on a qasync loop, offscreen, and prints:

- time from creating the window (or switching to a tab) to the first paint of
  each tab's table;
- the slowest repaint while jumping through each table from top to bottom,
  and the slowest sort by each sortable column;
- the longest event-loop stall during all of that, and during a fan-out of one
  reminder to 5,000 devices (sent to the loopback push-service double) while
  the window stays open and refreshes.

    .venv/bin/python benchmarks/window.py
    .venv/bin/python benchmarks/window.py --reminders 20000 --devices 6000
"""

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from fanout import SUBJECT, LoopStall, admin  # noqa: E402

STATUSES = ("sent", "sent", "sent", "partly_sent", "failed", "cancelled", "missed")
OUTCOMES = ("delivered", "delivered", "delivered", "gone", "failed", "rejected")
FAN_OUT = 5000


def start_push_service() -> tuple[subprocess.Popen[str], str, str]:
    double = subprocess.Popen(
        [sys.executable, str(HERE / "push_service_process.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert double.stdout is not None
    origin, admin_base = double.stdout.readline().split()
    return double, origin, admin_base


def fill(
    services: Any, store: Any, origin: str, subscriptions: list[Any], n: int
) -> None:
    """Devices through the import service; old reminders and their log in bulk.

    The history is written straight with sqlite-utils: going through the
    scheduler for 100,000 past reminders would take the better part of an hour.
    """
    text = "\n".join(json.dumps(s) for s in subscriptions)
    report = services.subscriptions.import_text(text, [origin])
    assert not report.rejected, report.rejected[:3]
    devices = [s.id for s in services.subscriptions.all()]
    with store.transaction():
        for device in devices[:FAN_OUT]:
            store.subscriptions.set_groups(device, ["fan-out"])

    rng = random.Random(5)
    now = datetime.now(UTC)
    reminders, deliveries = [], []
    for number in range(1, n + 1):
        due = now - timedelta(minutes=number * 7)
        status = "scheduled" if number % 50 == 0 else rng.choice(STATUSES)
        if status == "scheduled":
            due = now + timedelta(days=number % 400 + 1)
        stamp = due.strftime("%Y-%m-%dT%H:%M:%SZ")
        reminders.append(
            {
                "id": number,
                "title": f"Reminder {number}",
                "message": rng.choice(("Stand-up", "Lunch", "Fire drill", "Backups"))
                + f" number {number}",
                "due_at": stamp,
                "status": status,
                "created_at": stamp,
                "sent_at": None if status == "scheduled" else stamp,
                "ttl": 86400,
                "urgency": "normal",
            }
        )
        if status != "scheduled" and number % 5 == 0:
            for device in rng.sample(devices, 3):
                deliveries.append(
                    {
                        "reminder_id": number,
                        "subscription_id": device,
                        "endpoint_host": "127.0.0.1",
                        "outcome": rng.choice(OUTCOMES),
                        "status_code": 201,
                        "attempted_at": stamp,
                    }
                )
    with store.transaction():
        store.db["reminders"].insert_all(reminders, batch_size=5000)
        store.db["deliveries"].insert_all(deliveries, batch_size=5000)


class FirstPaint:
    """When a widget next paints, measured from ``mark()``."""

    def __init__(self, widget: Any) -> None:
        from PySide6.QtCore import QEvent, QObject

        class Filter(QObject):
            def eventFilter(inner, _obj: Any, event: Any) -> bool:  # noqa: N802, N805
                if event.type() == QEvent.Type.Paint and self.painted is None:
                    self.painted = time.perf_counter()
                    self._event.set()
                return False

        self.painted: float | None = None
        self.started = time.perf_counter()
        self._event = asyncio.Event()
        self._filter = Filter()
        widget.installEventFilter(self._filter)

    def mark(self) -> None:
        self.started, self.painted = time.perf_counter(), None
        self._event.clear()

    async def wait(self) -> float:
        await self._event.wait()
        assert self.painted is not None
        return (self.painted - self.started) * 1000


async def exercise_table(view: Any) -> tuple[float, float]:
    """The slowest repaint jumping through the table, and the slowest sort."""
    bar = view.verticalScrollBar()
    worst_scroll = 0.0
    for step in range(41):
        bar.setValue(bar.maximum() * step // 40)
        started = time.perf_counter()
        view.viewport().repaint()
        worst_scroll = max(worst_scroll, time.perf_counter() - started)
        await asyncio.sleep(0)

    from PySide6.QtCore import Qt

    worst_sort = 0.0
    model = view.model()
    for column in range(model.columnCount()):
        if getattr(model.columns[column], "sort_key", None) is None:
            continue
        for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
            started = time.perf_counter()
            view.sortByColumn(column, order)
            view.viewport().repaint()
            worst_sort = max(worst_sort, time.perf_counter() - started)
            await asyncio.sleep(0)
    return worst_scroll * 1000, worst_sort * 1000


async def run(reminders: int, device_count: int) -> None:
    from PySide6.QtWidgets import QTableView

    from pushdesk.app import Runtime, open_store
    from pushdesk.config import Config, ServerOptions
    from pushdesk.domain import Target
    from pushdesk.events import ReminderSent
    from pushdesk.ui.main_window import MainWindow

    double, origin, admin_base = start_push_service()
    try:
        subscriptions = admin(admin_base, "/subscriptions", {"count": device_count})
        config = Config(
            data_dir=Path(tempfile.mkdtemp(prefix="pushdesk-window-")),
            server=ServerOptions(
                host="127.0.0.1", port=0, http=True, allowed_push_origins=(origin,)
            ),
            vapid_subject=SUBJECT,
        )
        runtime = Runtime(config, open_store(config))
        started = time.perf_counter()
        fill(runtime.services, runtime.store, origin, subscriptions, reminders)
        print(
            f"data: {reminders:,} reminders, {device_count:,} devices "
            f"(made in {time.perf_counter() - started:.0f} s)\n"
        )
        await runtime.start()
        stall = LoopStall()
        stall.start()

        created = time.perf_counter()
        window = MainWindow(runtime.services, [], runtime.clock)
        views = [
            (window.tabs.tabText(i), window.tabs.widget(i).findChild(QTableView))
            for i in range(window.tabs.count())
        ]
        first_view = views[0][1]
        probe = FirstPaint(first_view.viewport())
        probe.started = created
        window.show()
        print(f"{'table':<22}{'first paint':>12}{'worst scroll':>14}{'worst sort':>12}")
        for index, (name, view) in enumerate(views):
            if view is None:
                continue
            if index:
                probe = FirstPaint(view.viewport())
                window.tabs.setCurrentIndex(index)
            first = await probe.wait()
            scroll, sort = await exercise_table(view)
            print(
                f"{name:<22}{first:>10.0f} ms{scroll:>12.0f} ms{sort:>10.0f} ms",
                flush=True,
            )
        browsing_stall = stall.worst * 1000

        stall.worst = 0.0
        window.tabs.setCurrentIndex(0)
        sent: asyncio.Future[ReminderSent] = asyncio.get_running_loop().create_future()
        runtime.hub.subscribe(
            lambda e: (
                sent.set_result(e)
                if isinstance(e, ReminderSent) and not sent.done()
                else None
            )
        )
        runtime.services.reminders.schedule(
            "Fan-out",
            "To every device in the group",
            None,
            datetime.now(UTC),
            target=Target(groups=("fan-out",)),
        )
        fan_started = time.perf_counter()
        event = await asyncio.wait_for(sent, timeout=900)
        fan_seconds = time.perf_counter() - fan_started
        # The window's refresh after the last settle belongs to the fan-out too.
        await asyncio.sleep(0.5)
        stall.stop()

        print(f"\nlongest event-loop stall while browsing: {browsing_stall:.0f} ms")
        print(
            f"fan-out to {event.total:,} devices with the window open: "
            f"{event.delivered:,} delivered in {fan_seconds:.1f} s, longest "
            f"event-loop stall {stall.worst * 1000:.0f} ms"
        )
        window.close()
        await runtime.stop()
    finally:
        assert double.stdin is not None
        double.stdin.close()
        double.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reminders", type=int, default=100_000)
    parser.add_argument("--devices", type=int, default=10_000)
    args = parser.parse_args()

    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    qasync.run(run(args.reminders, args.devices))


if __name__ == "__main__":
    main()
