"""Live events for open pages over a WebSocket at /api/events."""

import asyncio
import weakref
from typing import Any

from aiohttp import WSMsgType, web

from pushdesk.events import Event, EventHub, ReminderSent
from pushdesk.log import WEB
from pushdesk.store.db import to_db_time


class LiveEvents:
    """Keeps the open sockets and forwards hub events to them as JSON."""

    def __init__(self, hub: EventHub) -> None:
        self._sockets: weakref.WeakSet[web.WebSocketResponse] = weakref.WeakSet()
        self._sends: set[asyncio.Task[None]] = set()
        self._unsubscribe = hub.subscribe(self._on_event)

    @property
    def connected(self) -> int:
        return len(self._sockets)

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(heartbeat=30)
        await socket.prepare(request)
        self._sockets.add(socket)
        try:
            # Pages only listen; anything they send is read and dropped so the
            # connection notices when they close it.
            async for message in socket:
                if message.type == WSMsgType.ERROR:
                    break
        finally:
            self._sockets.discard(socket)
        return socket

    async def close(self) -> None:
        self._unsubscribe()
        for socket in list(self._sockets):
            await socket.close(message=b"pushdesk is stopping")

    def _on_event(self, event: Event) -> None:
        message = _message(event)
        if message is None:
            return
        for socket in list(self._sockets):
            task = asyncio.get_running_loop().create_task(_send(socket, message))
            self._sends.add(task)
            task.add_done_callback(self._sends.discard)


def _message(event: Event) -> dict[str, Any] | None:
    if isinstance(event, ReminderSent):
        return {
            "type": "reminder_sent",
            "id": event.id,
            "sent_at": to_db_time(event.sent_at),
            "title": event.title,
            "body": event.body,
        }
    return None


async def _send(socket: web.WebSocketResponse, message: dict[str, Any]) -> None:
    try:
        await socket.send_json(message)
    except (ConnectionError, RuntimeError) as exc:
        WEB.debug("dropping a live event for a closed socket: %s", exc)
