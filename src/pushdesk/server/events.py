"""Live events for open pages over a WebSocket at /api/events."""

import asyncio
import weakref
from collections import Counter
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, hdrs, web
from yarl import URL

from pushdesk.events import Event, EventHub, ReminderSent
from pushdesk.log import WEB
from pushdesk.server.limits import refusal
from pushdesk.store.db import to_db_time

# The most a page may send in one message; it has no reason to send any.
MAX_MESSAGE_BYTES = 4096


class LiveEvents:
    """Keeps the open sockets and forwards hub events to them as JSON.

    ``per_address`` is the most sockets one client address may hold open.
    """

    def __init__(self, hub: EventHub, per_address: Callable[[], int]) -> None:
        self._sockets: weakref.WeakSet[web.WebSocketResponse] = weakref.WeakSet()
        self._sends: set[asyncio.Task[None]] = set()
        self._per_address = per_address
        self._open_from: Counter[str] = Counter()
        self._unsubscribe = hub.subscribe(self._on_event)

    @property
    def connected(self) -> int:
        return len(self._sockets)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if not same_origin(request):
            WEB.debug("WebSocket from %r refused", request.headers.get(hdrs.ORIGIN))
            return refusal(403, "Live events are only for pushdesk's own page.")
        address = request.remote or "?"
        if self._open_from[address] >= self._per_address():
            return refusal(429, "Too many pages are open from this address.")
        # Pages send nothing, so no message needs more than a few bytes, nor
        # compression (which would let a small frame unpack to a large one).
        socket = web.WebSocketResponse(
            heartbeat=30, max_msg_size=MAX_MESSAGE_BYTES, compress=False
        )
        if not socket.can_prepare(request).ok:
            # aiohttp's own refusal would say no more than "Bad Request".
            return refusal(400, "Live events take only a WebSocket connection.")

        # Counted before the handshake awaits, so parallel ones cannot all pass.
        self._open_from[address] += 1
        try:
            return await self._listen(request, socket)
        finally:
            self._open_from[address] -= 1
            if not self._open_from[address]:
                del self._open_from[address]

    async def _listen(
        self, request: web.Request, socket: web.WebSocketResponse
    ) -> web.WebSocketResponse:
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


def same_origin(request: web.Request) -> bool:
    """Whether the page that opened this socket was served from the address
    the request was sent to (scheme, host and port of its Host header).

    Browsers always send Origin with a WebSocket, so this is what stops another
    site's page from listening in. A request without Origin is not from a
    browser page, and such a client could send any Origin it liked: it is let
    through. An https page in front of a plain-HTTP pushdesk (a TLS proxy) is
    accepted too: its Host is then read as https.

    FIXME:web the Host is not checked against this machine's names, so over
    plain HTTP a page whose name was made to resolve to this machine (DNS
    rebinding) counts as the same origin and can listen in. HTTPS stops it
    (the certificate names only this machine); a proxy's name would have to
    be allowed too.
    """
    origin = request.headers.get(hdrs.ORIGIN)
    if origin is None:
        return True
    try:
        page = URL(origin)
        addressed = URL(f"{page.scheme}://{request.host}")
        return (
            page.scheme in (request.scheme, "https")
            and page == page.origin()  # nothing but scheme, host and port
            and (page.host, page.port) == (addressed.host, addressed.port)
        )
    except ValueError:
        # "null" (a sandboxed or file: page) and malformed values alike.
        return False


def _message(event: Event) -> dict[str, Any] | None:
    if isinstance(event, ReminderSent) and event.visitor_device is not None:
        # A visitor's own reminder is theirs alone: every page hears that one
        # went out, and only the page of that device (which knows its id)
        # asks for its list again. No text goes to the others.
        return {
            "type": "self_reminder_sent",
            "id": event.id,
            "device": event.visitor_device,
        }
    if isinstance(event, ReminderSent):
        # FIXME:web an operator's reminder for chosen devices or a group also
        # goes, with its text, to every open page: pages are not told apart
        # by device yet.
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
