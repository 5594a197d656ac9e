"""Open pages as the live-events socket sees them: connected, then saying
which device they are (or none), then hearing events."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

from aiohttp import ClientWebSocketResponse
from aiohttp.test_utils import TestServer

from pushdesk.server.app import LIVE_EVENTS
from tests.support.visitors import Client, Proof

ANSWER_SECONDS = 5

Socket = ClientWebSocketResponse


@asynccontextmanager
async def live_page(client: Client) -> AsyncIterator[Socket]:
    """An open page's live-events socket, once the server holds it."""
    live = cast(TestServer, client.server).app[LIVE_EVENTS]
    before = live.connected
    async with client.ws_connect("/api/events") as socket:
        for _ in range(100):
            if live.connected > before:
                break
            await asyncio.sleep(0)  # the server adds it after the handshake
        assert live.connected > before, "the WebSocket never opened"
        yield socket


async def say(socket: Socket, message: Any) -> dict[str, Any]:
    """Send what a page would (JSON, or raw text or bytes) and return the
    server's answer."""
    if isinstance(message, bytes):
        await socket.send_bytes(message)
    elif isinstance(message, str):
        await socket.send_str(message)
    else:
        await socket.send_json(message)
    return await next_message(socket)


async def identify(socket: Socket, proof: Proof | None) -> dict[str, Any]:
    return await say(socket, {"type": "identify", "device": proof})


async def next_message(socket: Socket) -> dict[str, Any]:
    message: dict[str, Any] = await socket.receive_json(timeout=ANSWER_SECONDS)
    return message
