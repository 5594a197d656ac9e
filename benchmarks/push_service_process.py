"""The loopback push-service double in a process of its own, for benchmarks.

Prints its origin on the first line of stdout, then serves until stdin closes.
Admin routes let the benchmark make subscriptions and read what arrived.
Every 50th message is checked in full (VAPID and decryption); checking all of
them would make the double, not the sender, what the benchmark measures.
"""

import asyncio
import sys
import time
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.push_service import PushServiceDouble

CHECK_EVERY = 50


async def main() -> None:
    double = PushServiceDouble(check_every=CHECK_EVERY)
    await double.start()
    first_at: list[float] = []

    async def subscriptions(request: web.Request) -> web.Response:
        count = int((await request.json())["count"])
        return web.json_response(
            [double.new_subscription().to_json() for _ in range(count)]
        )

    async def stats(_request: web.Request) -> web.Response:
        accepted = double.accepted_unchecked + len(double.received)
        if accepted and not first_at:
            first_at.append(min(a.at for a in double.attempts).timestamp())
        return web.json_response(
            {
                "accepted": accepted,
                "checked": len(double.received),
                "attempts": len(double.attempts),
                "problems": double.problems[:5],
                "first_at": first_at[0] if first_at else None,
                "last_at": double.attempts[-1].at.timestamp()
                if double.attempts
                else None,
                "now": time.time(),
            }
        )

    async def reset(_request: web.Request) -> web.Response:
        double.received.clear()
        double.attempts.clear()
        double.problems.clear()
        double.accepted_unchecked = 0
        first_at.clear()
        return web.json_response({})

    admin = web.Application()
    admin.router.add_post("/subscriptions", subscriptions)
    admin.router.add_get("/stats", stats)
    admin.router.add_post("/reset", reset)
    runner = web.AppRunner(admin, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    admin_port = runner.addresses[0][1]

    print(double.origin, f"http://127.0.0.1:{admin_port}", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await runner.cleanup()
    await double.stop()


if __name__ == "__main__":
    asyncio.run(main())
