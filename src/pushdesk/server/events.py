"""Live events for open pages over a WebSocket at /api/events.

A page tells the socket which device it is, proven as on every visitor route
(endpoint and auth secret), and hears only of reminders sent to that device:
what the operator sends to one group is no business of another's open pages.
"""

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, hdrs, web
from yarl import URL

from pushdesk.domain import Replacement, Subscription
from pushdesk.errors import InvalidInput, StorageError, StorageKind
from pushdesk.events import DeviceReplaced, Event, EventHub, ReminderSent
from pushdesk.log import WEB
from pushdesk.server.api import parse_json
from pushdesk.server.limits import ClientLimits, refusal
from pushdesk.server.schemas import LiveIdentifyMessage
from pushdesk.services.self_reminders import NOT_SUBSCRIBED
from pushdesk.store.db import to_db_time
from pushdesk.validation import check

# The most a page may send in one message: an identify is well under it.
MAX_MESSAGE_BYTES = 4096

# When a page may say again who it is after the database could not check it.
BUSY_RETRY_SECONDS = 5


class LiveEvents:
    """Keeps the open sockets, each with the device its page proved to be,
    and forwards hub events to the pages they concern, as JSON.

    ``find_device`` looks a proof up (None when it proves nothing);
    ``allowed_origins`` are the push origins the operator allowed by hand.
    """

    def __init__(
        self,
        hub: EventHub,
        limits: ClientLimits,
        find_device: Callable[[Replacement], Subscription | None],
        allowed_origins: tuple[str, ...] = (),
    ) -> None:
        self._devices: dict[web.WebSocketResponse, int | None] = {}
        self._sends: set[asyncio.Task[None]] = set()
        self._limits = limits
        self._find_device = find_device
        self._allowed_origins = allowed_origins
        self._open_from: Counter[str] = Counter()
        self._unsubscribe = hub.subscribe(self._on_event)

    @property
    def connected(self) -> int:
        """Open pages."""
        return len(self._devices)

    @property
    def devices_connected(self) -> int:
        """Subscribed devices with at least one page open that proved it."""
        return len({device for device in self._devices.values() if device is not None})

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if not same_origin(request):
            WEB.debug("WebSocket from %r refused", request.headers.get(hdrs.ORIGIN))
            return refusal(403, "Live events are only for pushdesk's own page.")
        address = request.remote or "?"
        if self._open_from[address] >= self._limits.websockets_per_address:
            return refusal(429, "Too many pages are open from this address.")
        # Pages send only their identity, so no message needs more than a few
        # bytes, nor compression (which would let a small frame unpack to a
        # large one).
        socket = web.WebSocketResponse(
            heartbeat=30, max_msg_size=MAX_MESSAGE_BYTES, compress=False
        )
        if not socket.can_prepare(request).ok:
            # aiohttp's own refusal would say no more than "Bad Request".
            return refusal(400, "Live events take only a WebSocket connection.")

        # Counted before the handshake awaits, so parallel ones cannot all pass.
        self._open_from[address] += 1
        try:
            return await self._listen(request, socket, address)
        finally:
            self._open_from[address] -= 1
            if not self._open_from[address]:
                del self._open_from[address]

    async def _listen(
        self, request: web.Request, socket: web.WebSocketResponse, address: str
    ) -> web.WebSocketResponse:
        await socket.prepare(request)
        self._devices[socket] = None
        try:
            async for message in socket:
                if message.type == WSMsgType.ERROR:
                    break
                answer = self._identify(socket, message, address)
                await _send(socket, answer)
        finally:
            del self._devices[socket]
        return socket

    def _identify(
        self, socket: web.WebSocketResponse, message: Any, address: str
    ) -> dict[str, Any]:
        """The answer to what a page said: the device it now counts as, or
        why not.

        A refusal that will pass (asked too often, the database busy) carries
        ``retry_after`` and changes nothing: the device already proven stays,
        as others at the same address (a household's NAT) may have used up
        the allowance. Any other refusal leaves the socket as no device, so a
        page whose subscription was removed stops hearing that device's
        events.
        """
        wait = self._limits.live_identify_wait(address)
        if wait is not None:
            return _refused(
                f"This address said who it is too often; try again in {wait} seconds.",
                retry_after=wait,
            )

        try:
            device = self._proven_device(message)
        except InvalidInput as exc:
            self._devices[socket] = None
            return _refused(str(exc), exc.field)
        except StorageError as exc:
            # Pages are not told where the operator keeps their files. Only a
            # busy database will pass; one that cannot be read proves nothing.
            WEB.warning("a page could not be identified: %s", exc)
            if exc.kind is StorageKind.BUSY:
                return _refused(exc.public_message, retry_after=BUSY_RETRY_SECONDS)
            self._devices[socket] = None
            return _refused(exc.public_message)

        self._devices[socket] = device
        return {"type": "identified", "device": device}

    def _proven_device(self, message: Any) -> int | None:
        """The device an identify message proves, None for "no device"."""
        if message.type != WSMsgType.TEXT:
            raise InvalidInput("Live events take JSON text messages only.")
        said = check(
            LiveIdentifyMessage,
            parse_json(message.data, "The message"),
            self._allowed_origins,
        )
        if said.device is None:
            return None
        found = self._find_device(said.device.replacement())
        if found is None:
            raise InvalidInput(NOT_SUBSCRIBED, "device")
        return found.id

    async def close(self) -> None:
        self._unsubscribe()
        for socket in list(self._devices):
            await socket.close(message=b"pushdesk is stopping")

    def _on_event(self, event: Event) -> None:
        if isinstance(event, DeviceReplaced):
            # The page stays open across its browser's renewal, and its
            # worker tells it nothing: it goes on as the device that took over.
            for socket, device in self._devices.items():
                if device == event.old:
                    self._devices[socket] = event.new
            return
        if not isinstance(event, ReminderSent):
            return
        for socket, device in list(self._devices.items()):
            if device is None or device not in event.devices:
                continue
            task = asyncio.get_running_loop().create_task(
                _send(socket, _message(event, device))
            )
            self._sends.add(task)
            task.add_done_callback(self._sends.discard)


def same_origin(request: web.Request) -> bool:
    """Whether the page that opened this socket was served from the address
    the request was sent to (scheme, host and port of its Host header).

    Browsers always send Origin with a WebSocket, so this keeps other sites'
    pages off the socket. A request without Origin is not from a browser
    page, and such a client could send any Origin it liked: it is let
    through. An https page in front of a plain-HTTP pushdesk (a TLS proxy) is
    accepted too: its Host is then read as https.

    The Host is not checked against this machine's names, so over plain HTTP
    a page whose name was made to resolve to this machine (DNS rebinding)
    counts as the same origin. It can open a socket (counted against its
    visitor's address) but hears nothing: events go only to a page that
    proved a device with that device's secret. HTTPS stops it outright, as
    the certificate names only this machine.
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


def _message(event: ReminderSent, device: int) -> dict[str, Any]:
    if event.visitor_device is not None:
        # The visitor's page keeps its own list of these: it is asked to
        # read it again rather than shown the text.
        return {"type": "self_reminder_sent", "id": event.id, "device": device}
    return {
        "type": "reminder_sent",
        "id": event.id,
        "sent_at": to_db_time(event.sent_at),
        "title": event.title,
        "body": event.body,
    }


def _refused(
    message: str, field: str | None = None, retry_after: int | None = None
) -> dict[str, Any]:
    refusal: dict[str, Any] = {"type": "refused", "error": message, "field": field}
    if retry_after is not None:
        refusal["retry_after"] = retry_after
    return refusal


async def _send(socket: web.WebSocketResponse, message: dict[str, Any]) -> None:
    try:
        await socket.send_json(message)
    except (ConnectionError, RuntimeError) as exc:
        WEB.debug("dropping a live event for a closed socket: %s", exc)
