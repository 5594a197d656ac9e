"""Fan-out benchmark: one ~200-byte reminder to N subscriptions.

Compares pushdesk's delivery path (started as the app starts it) with
pywebpush's ``webpush()`` in a sequential loop and ``webpush_async()`` with 64
requests in flight over one shared aiohttp session. Every path sends to the
same loopback push-service double, which runs in a process of its own. Each
measurement runs in a fresh process so that peak memory is its own.

    .venv/bin/python benchmarks/fanout.py                 # N = 1000 and 5000
    .venv/bin/python benchmarks/fanout.py --sizes 1000 --memory-size 0

It prints messages per second, peak memory, pushdesk's ratio to each path,
how late reminders fire (due time to first request) and the longest stall of
the event loop during pushdesk's largest fan-out.
"""

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SUBJECT = "mailto:bench@example.org"
PAYLOAD = json.dumps(
    {
        "title": "Stand-up",
        "body": "The stand-up starts in five minutes in the big room. "
        "Bring the numbers for the quarterly review, please.",
        "url": "https://intranet.example.org/standup",
        "tag": "pushdesk-reminder-1",
        "id": 1,
    }
)
CONCURRENCY = 64


def admin(base: str, path: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        base + path,
        data=data,
        method="POST" if body is not None else "GET",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.load(response)


def peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


# -- the three paths, each run in its own process ----------------------------


def run_sequential(subscriptions: list[dict[str, Any]]) -> dict[str, Any]:
    from py_vapid import Vapid02
    from pywebpush import webpush

    vapid = Vapid02()
    vapid.generate_keys()
    started = time.perf_counter()
    for info in subscriptions:
        webpush(info, PAYLOAD, vapid, {"sub": SUBJECT}, ttl=86400, timeout=10)
    return {"seconds": time.perf_counter() - started}


def run_async(subscriptions: list[dict[str, Any]]) -> dict[str, Any]:
    import aiohttp
    from py_vapid import Vapid02
    from pywebpush import webpush_async

    vapid = Vapid02()
    vapid.generate_keys()

    async def main() -> float:
        slots = asyncio.Semaphore(CONCURRENCY)
        connector = aiohttp.TCPConnector(limit=CONCURRENCY)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def one(info: dict[str, Any]) -> None:
                async with slots:
                    await webpush_async(
                        info,
                        PAYLOAD,
                        vapid,
                        {"sub": SUBJECT},
                        ttl=86400,
                        timeout=10,
                        aiohttp_session=session,
                    )

            started = time.perf_counter()
            await asyncio.gather(*(one(info) for info in subscriptions))
            return time.perf_counter() - started

    return {"seconds": asyncio.run(main())}


def run_pushdesk(
    subscriptions: list[dict[str, Any]], origin: str, lateness: bool
) -> dict[str, Any]:
    sys.path.insert(0, str(HERE.parent / "src"))
    from pushdesk.app import Runtime, open_store
    from pushdesk.config import Config, ServerOptions
    from pushdesk.domain import Target
    from pushdesk.events import ReminderSent

    async def main() -> dict[str, Any]:
        data_dir = Path(tempfile.mkdtemp(prefix="pushdesk-bench-"))
        config = Config(
            data_dir=data_dir,
            server=ServerOptions(
                host="127.0.0.1",
                port=0,
                http=True,
                allowed_push_origins=(origin,),
            ),
            vapid_subject=SUBJECT,
        )
        runtime = Runtime(config, open_store(config))
        await runtime.start()
        services = runtime.services
        report = services.subscriptions.import_text(
            "\n".join(json.dumps(s) for s in subscriptions), [origin]
        )
        assert not report.rejected, report.rejected[:3]

        first_posts: dict[str, float] = {}
        engine = runtime.engine
        assert engine is not None
        post = engine._sender.post  # type: ignore[attr-defined]

        async def timed_post(subscription: Any, body: Any, **options: Any) -> Any:
            first_posts.setdefault(options.get("topic") or "", time.time())
            return await post(subscription, body, **options)

        engine._sender.post = timed_post  # type: ignore[attr-defined]

        late: list[float] = []
        if lateness:
            late = await measure_lateness(runtime, first_posts)

        sent: asyncio.Future[ReminderSent] = asyncio.get_running_loop().create_future()
        runtime.hub.subscribe(
            lambda e: (
                sent.set_result(e)
                if isinstance(e, ReminderSent)
                and not sent.done()
                and e.total >= len(subscriptions)
                else None
            )
        )
        stall = LoopStall()
        due = whole_second_after(time.time() + 1.5)
        from datetime import UTC, datetime

        services.reminders.schedule(
            "Stand-up",
            PAYLOAD[:120],
            None,
            datetime.fromtimestamp(due, UTC),
            target=Target(),
        )
        stall.start()
        event = await asyncio.wait_for(sent, timeout=600)
        finished = time.time()
        stall.stop()
        await runtime.stop()
        return {
            "seconds": finished - due,
            "delivered": event.delivered,
            "stall_ms": stall.worst * 1000,
            "lateness_ms": [x * 1000 for x in late],
            "extra_messages": 5 * len(late),
        }

    return asyncio.run(main())


async def measure_lateness(runtime: Any, first_posts: dict[str, float]) -> list[float]:
    """Due time to first request, over reminders due in quick succession."""
    from datetime import UTC, datetime

    from pushdesk.domain import Target

    ids = [s.id for s in runtime.services.subscriptions.all()[:5]]
    start = whole_second_after(time.time() + 1.5)
    reminders = []
    for second in range(8):
        for _ in range(5):
            due = datetime.fromtimestamp(start + second, UTC)
            reminders.append(
                runtime.services.reminders.schedule(
                    "Lateness",
                    "probe",
                    None,
                    due,
                    target=Target(subscription_ids=tuple(ids)),
                )
            )
    await asyncio.sleep(start + 8.5 - time.time())
    return [
        first_posts[r.topic] - r.due_at.timestamp()
        for r in reminders
        if r.topic in first_posts
    ]


def whole_second_after(moment: float) -> float:
    return float(int(moment) + 1)


class LoopStall:
    """The worst gap between the ticks of a 5 ms timer: how long the loop froze."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._tick())

    def stop(self) -> None:
        if self._task:
            self._task.cancel()

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(0.005)
            self.worst = max(self.worst, loop.time() - before - 0.005)


# -- the driver ---------------------------------------------------------------


def measure(
    path: str, count: int, subs_file: Path, origin: str, lateness: bool
) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--run",
        path,
        "--subs",
        str(subs_file),
        "--count",
        str(count),
        "--origin",
        origin,
    ]
    if lateness:
        command.append("--lateness")
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=1800, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{path} at N={count} failed:\n{done.stderr[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def row_text(count: int, path: str, rate: float, rss: float) -> str:
    return f"N={count:>5}  {path:<14} {rate:8.0f} msg/s   peak RSS {rss:6.1f} MB"


def drive(sizes: list[int], memory_size: int, sequential_up_to: int) -> None:
    double = subprocess.Popen(
        [sys.executable, str(HERE / "push_service_process.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert double.stdout is not None
    assert double.stdin is not None
    origin, admin_base = double.stdout.readline().split()
    largest = max([*sizes, memory_size])
    subscriptions = admin(admin_base, "/subscriptions", {"count": largest})
    subs_file = Path(tempfile.mkdtemp()) / "subscriptions.json"
    subs_file.write_text(json.dumps(subscriptions))
    print(f"push-service double at {origin} (full check of 1 message in 50)\n")

    rows = []
    lateness: list[float] = []
    stall = 0.0
    try:
        for count in sizes:
            for path in ("pushdesk", "webpush_async", "webpush"):
                if path == "webpush" and count > sequential_up_to:
                    continue
                admin(admin_base, "/reset", {})
                result = measure(
                    path,
                    count,
                    subs_file,
                    origin,
                    lateness=path == "pushdesk" and count == sizes[0],
                )
                stats = admin(admin_base, "/stats")
                expected = count + result.get("extra_messages", 0)
                if stats["accepted"] != expected or stats["problems"]:
                    raise SystemExit(f"{path} at N={count}: the double saw {stats}")
                rate = count / result["seconds"]
                rows.append((count, path, rate, result["peak_rss_mb"]))
                lateness += result.get("lateness_ms", [])
                if path == "pushdesk" and count == max(sizes):
                    stall = result["stall_ms"]
                print(row_text(count, path, rate, result["peak_rss_mb"]), flush=True)
        if memory_size:
            admin(admin_base, "/reset", {})
            result = measure("pushdesk", memory_size, subs_file, origin, lateness=False)
            rate = memory_size / result["seconds"]
            print(row_text(memory_size, "pushdesk", rate, result["peak_rss_mb"]))
    finally:
        double.stdin.close()
        double.wait(timeout=30)

    print()
    for count in sizes:
        by_path = {path: rate for n, path, rate, _ in rows if n == count}
        for other in ("webpush_async", "webpush"):
            if other in by_path:
                ratio = by_path["pushdesk"] / by_path[other]
                print(f"N={count:>5}  pushdesk / {other:<14} {ratio:5.2f}x")
    if lateness:
        ordered = sorted(lateness)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        median = statistics.median(ordered)
        print(
            f"\nfire lateness over {len(ordered)} reminders: "
            f"median {median:.1f} ms, p99 {p99:.1f} ms"
        )
    print(f"longest event-loop stall during the N={max(sizes)} fan-out: {stall:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--memory-size", type=int, default=10000)
    parser.add_argument("--sequential-up-to", type=int, default=5000)
    parser.add_argument("--run", help=argparse.SUPPRESS)
    parser.add_argument("--subs", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--origin", help=argparse.SUPPRESS)
    parser.add_argument("--lateness", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.run is None:
        drive(args.sizes, args.memory_size, args.sequential_up_to)
        return

    subscriptions = json.loads(Path(args.subs).read_text())[: args.count]
    if args.run == "webpush":
        result = run_sequential(subscriptions)
    elif args.run == "webpush_async":
        result = run_async(subscriptions)
    else:
        result = run_pushdesk(subscriptions, args.origin, args.lateness)
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
