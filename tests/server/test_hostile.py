"""A hostile client on the network, byte by byte: what it sends on the wire
goes to the real server unchanged (no client library tidies the path or the
headers), and whatever it is, the server answers below 500, serves nothing
outside web/, and keeps serving everyone else.

Generated bodies and headers are test_fuzz's; this file is about the request
line, framing, static files and the WebSocket.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import WSCloseCode, WSMsgType
from aiohttp.test_utils import TestClient, TestServer

from pushdesk.server.app import LIVE_EVENTS, create_app
from pushdesk.server.events import MAX_MESSAGE_BYTES
from pushdesk.services import Services

PUBLIC_KEY = "B" + "A" * 86

Client = TestClient[Any, Any]

# Only a safety net for a server that never answers; nothing here waits on it.
NO_ANSWER_SECONDS = 5


@pytest_asyncio.fixture
async def client(services: Services) -> AsyncIterator[Client]:
    app = create_app(services, PUBLIC_KEY)
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        yield test_client


@dataclass(frozen=True)
class Raw:
    status: int
    headers: dict[str, str]
    body: bytes


async def send_raw(client: Client, request: bytes) -> Raw:
    """Write ``request`` as it is and read the answer to the end (every
    request here asks the server to close, or is refused and closed)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", client.server.port)
    try:
        writer.write(request)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), NO_ANSWER_SECONDS)
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Raw(int(status_line.split()[1]), headers, body)


def request(
    method: str, target: bytes, headers: dict[bytes, bytes] | None = None
) -> bytes:
    lines = [method.encode() + b" " + target + b" HTTP/1.1", b"Host: 127.0.0.1"]
    lines += [name + b": " + value for name, value in (headers or {}).items()]
    return b"\r\n".join([*lines, b"Connection: close", b"", b""])


async def still_serving(client: Client) -> bool:
    return (await client.get("/api/health")).status == 200


# --- static files ------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        b"/icons/../../pyproject.toml",
        b"/icons/..%2f..%2fpyproject.toml",
        b"/icons/%2e%2e/%2e%2e/pyproject.toml",
        b"/icons/..%5c..%5cpyproject.toml",
        b"/icons/%2fetc%2fpasswd",
        b"/icons//etc/passwd",
        b"/icons/icon-192.png%00.txt",
        b"/icons/.",
        b"/icons/",
        b"/icons",
        b"/..%2f..%2fetc/passwd",
        b"/%2e%2e/%2e%2e/etc/passwd",
        b"/%2e%2e%2fpyproject.toml",
        b"/app.js/..%2f..%2fpyproject.toml",
        b"/onboarding.html",
        b"/index.html",
        b"/%ff%fe",
        b"/icons/%ff",
        b"/icons/%e2%80%ae.png",
    ],
)
async def test_no_path_reaches_a_file_outside_the_served_ones(
    client: Client, target: bytes
) -> None:
    answer = await send_raw(client, request("GET", target))

    assert answer.status == 404
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert b"pushdesk" not in answer.body  # neither pyproject.toml nor a page


@pytest.mark.parametrize("length", [255, 256, 300, 4000])
async def test_an_icon_name_too_long_for_the_file_system_is_a_404(
    client: Client, length: int
) -> None:
    # Named as the fix: the static route once looked it up on disk, a 500.
    response = await client.get("/icons/" + "a" * length)

    assert response.status == 404


async def test_the_shipped_icons_are_served_and_only_those(client: Client) -> None:
    icon = await client.get("/icons/icon-192.png")
    badge = await client.head("/icons/badge-72.png")
    missing = await client.get("/icons/icon-193.png")

    assert (icon.status, icon.content_type) == (200, "image/png")
    assert (await icon.read()).startswith(b"\x89PNG")
    assert badge.status == 200
    assert missing.status == 404


# --- the request line and framing -----------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        # Both lengths: which one a proxy in front believed is the smuggle.
        b"POST /api/receipts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
        b"\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"POST /api/receipts HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
        b"Content-Length: 3\r\n\r\n{}",
        b"POST /api/receipts HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity"
        b"\r\n\r\n{}",
        b"POST /api/receipts HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
        b"\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
        b"POST /api/receipts HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n{}",
        b"POST /api/receipts HTTP/1.1\r\nHost: x\r\n"
        b"Content-Length: 99999999999999999999999\r\n\r\n{}",
        b"GET /api/health HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
        b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n folded\r\n\r\n",
        b"GET /api/health HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n",
        b"GET /api/he\x00alth HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /api/\u00e9 HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
        b"GET /api/health?\xff=1 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /api/" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 9000 + b"\r\n\r\n",
        b"GET /api/health HTTP/1.1\r\nHost: x\r\n"
        + b"".join(b"X-%d: 1\r\n" % i for i in range(200))
        + b"\r\n",
        b"GET /api/health HTTP/9.9\r\nHost: x\r\n\r\n",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    ],
    ids=[
        "length-and-chunked",
        "two-lengths",
        "identity-encoding",
        "bad-chunk",
        "negative-length",
        "overflowing-length",
        "two-hosts",
        "folded-header",
        "space-in-header-name",
        "nul-in-path",
        "raw-utf8-path",
        "raw-byte-in-query",
        "9-kb-url",
        "9-kb-header",
        "200-headers",
        "http-9",
        "http2-preface",
    ],
)
async def test_a_malformed_request_is_refused_whole_and_the_server_goes_on(
    client: Client, raw: bytes
) -> None:
    """aiohttp's parser refuses these before pushdesk sees them: a 400 and
    the connection closed, so what follows is never read as a request."""
    smuggled = request("GET", b"/api/health")

    answer = await send_raw(client, raw + smuggled)

    assert answer.status == 400
    # One answer, to the first request: nothing follows its body.
    assert len(answer.body) == int(answer.headers["content-length"])
    # FIXME:web these 400s are aiohttp's plain text without the security
    # headers (its parser answers before any application hook): harmless as
    # text/plain, but not the API's JSON and not nosniff.
    assert answer.headers["content-type"].startswith("text/plain")
    assert await still_serving(client)


async def test_a_thousand_query_parameters_are_ignored(client: Client) -> None:
    query = "&".join(f"p{i}=1" for i in range(1000))

    response = await client.get(f"/api/health?{query}")

    assert response.status == 200


@pytest.mark.parametrize(
    "target",
    [b"/api/%ff%fe", b"/api/%e2%98%83", b"/api/reminders/%2e%2e", b"/api/%2e%2e/"],
)
async def test_odd_api_paths_get_the_json_404(client: Client, target: bytes) -> None:
    answer = await send_raw(client, request("GET", target))

    assert answer.status == 404
    assert set(json.loads(answer.body)) == {"error", "field"}


async def test_a_half_sent_request_holds_up_no_one_else(client: Client) -> None:
    _, writer = await asyncio.open_connection("127.0.0.1", client.server.port)
    try:
        writer.write(b"POST /api/subscriptions HTTP/1.1\r\nHost: x\r\nContent-Le")
        await writer.drain()

        assert await still_serving(client)
    finally:
        writer.close()
    # FIXME:web aiohttp sets no deadline for a request's headers, so a client
    # that never finishes one holds its connection open; many such clients
    # are limited only by the process's open files.


# --- the WebSocket -------------------------------------------------------------------


async def until_open(client: Client) -> None:
    """The server adds a socket after its handshake; give it that turn."""
    for _ in range(100):
        if client.app[LIVE_EVENTS].connected:
            return
        await asyncio.sleep(0)  # a turn of the loop, not a wait
    raise AssertionError("the WebSocket never opened")


async def test_a_message_larger_than_a_page_would_send_closes_the_socket(
    client: Client,
) -> None:
    socket = await client.ws_connect("/api/events", max_msg_size=0)
    await until_open(client)

    await socket.send_str("x" * (MAX_MESSAGE_BYTES + 1))
    closing = await asyncio.wait_for(socket.receive(), NO_ANSWER_SECONDS)

    assert closing.type == WSMsgType.CLOSE
    assert closing.data == WSCloseCode.MESSAGE_TOO_BIG
    await socket.close()
    assert await still_serving(client)


async def test_small_binary_frames_are_refused_and_the_socket_stays(
    client: Client,
) -> None:
    socket = await client.ws_connect("/api/events")
    await until_open(client)

    await socket.send_bytes(b"\x00\xff" * 100)
    refused = await asyncio.wait_for(socket.receive_json(), NO_ANSWER_SECONDS)
    await socket.ping()
    await socket.send_json({"type": "identify", "device": None})
    answer = await asyncio.wait_for(socket.receive_json(), NO_ANSWER_SECONDS)

    assert refused["type"] == "refused"
    assert answer == {"type": "identified", "device": None}
    await socket.close()


async def test_no_compression_is_agreed_on_the_websocket(client: Client) -> None:
    socket = await client.ws_connect("/api/events", compress=15)

    assert socket.compress == 0
    await socket.close()


async def test_a_plain_get_of_live_events_is_a_json_400(client: Client) -> None:
    response = await client.get("/api/events")

    assert response.status == 400
    body = await response.json()
    assert body == {
        "error": "Live events take only a WebSocket connection.",
        "field": None,
    }


async def test_a_websocket_handshake_on_any_other_path_is_not_upgraded(
    client: Client,
) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/api/health")

    assert refused.value.status == 200  # an answer, not an upgrade
