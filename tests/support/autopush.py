"""A loopback push service that a real Firefox uses, for end-to-end tests.

Firefox talks to its push service over a WebSocket (autopush's protocol, JSON
frames, sub-protocol ``push-notification``); an application server posts
encrypted messages to the HTTP endpoint the service handed out. This double
speaks both sides on 127.0.0.1, forwards each message to Firefox untouched
(or with one bit flipped, to see Firefox refuse it) and records Firefox's
acknowledgements: code 100 delivered, 101 could not decrypt, 102 other.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web


@dataclass
class Ack:
    channel_id: str
    version: str
    code: int | None


@dataclass
class AutopushDouble:
    uaid: str = field(default_factory=lambda: uuid.uuid4().hex)
    acks: list[Ack] = field(default_factory=list)
    nacks: list[dict[str, Any]] = field(default_factory=list)
    forwarded: int = 0
    flip_a_bit: bool = False
    _channels: dict[str, str] = field(default_factory=dict)  # token -> channelID
    _socket: web.WebSocketResponse | None = None
    _runner: web.AppRunner | None = None
    _origin: str = ""
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _connected: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def origin(self) -> str:
        return self._origin

    @property
    def websocket_url(self) -> str:
        return self._origin.replace("http://", "ws://") + "/"

    def launch_url(self, page: str) -> str:
        """Give Firefox this to open: it goes on to ``page`` once Firefox has
        connected to us, since a subscribe made earlier can hang for good."""
        return f"{self._origin}/launch?to={page}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/", self._connection)
        app.router.add_post("/push/{token}", self._push)
        app.router.add_get("/launch", self._launch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self._origin = f"http://{host}:{port}"

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_for_ack(self, count: int, seconds: float) -> list[Ack]:
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: len(self.acks) >= count), seconds
            )
        return self.acks

    async def _connection(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(protocols=("push-notification",))
        await socket.prepare(request)
        self._socket = socket
        async for message in socket:
            if message.type != WSMsgType.TEXT:
                continue
            frame = json.loads(message.data)
            reply = await self._answer(frame)
            if reply is not None:
                await socket.send_json(reply)
        return socket

    async def _answer(self, frame: dict[str, Any]) -> dict[str, Any] | None:
        kind = frame.get("messageType")
        if kind is None:
            return {}  # a ping
        if kind == "hello":
            self._connected.set()
            return {
                "messageType": "hello",
                "uaid": self.uaid,
                "status": 200,
                "use_webpush": True,
            }
        if kind == "register":
            token = secrets.token_urlsafe(16)
            self._channels[token] = frame["channelID"]
            return {
                "messageType": "register",
                "channelID": frame["channelID"],
                "status": 200,
                "pushEndpoint": f"{self._origin}/push/{token}",
            }
        if kind == "unregister":
            return {
                "messageType": "unregister",
                "channelID": frame["channelID"],
                "status": 200,
            }
        if kind == "ack":
            for update in frame.get("updates", []):
                self.acks.append(
                    Ack(update["channelID"], update["version"], update.get("code"))
                )
            async with self._changed:
                self._changed.notify_all()
            return None
        if kind == "nack":
            self.nacks.append(frame)
            return None
        return None

    async def _launch(self, request: web.Request) -> web.Response:
        await asyncio.wait_for(self._connected.wait(), timeout=90)
        raise web.HTTPFound(request.query["to"])

    async def _push(self, request: web.Request) -> web.Response:
        channel = self._channels.get(request.match_info["token"])
        if channel is None or self._socket is None:
            return web.Response(status=404, text="no such subscription")
        body = bytearray(await request.read())
        if self.flip_a_bit and body:
            body[-1] ^= 0x01
        await self._socket.send_json(
            {
                "messageType": "notification",
                "channelID": channel,
                "version": uuid.uuid4().hex,
                "data": base64.urlsafe_b64encode(bytes(body)).rstrip(b"=").decode(),
                "headers": {"encoding": request.headers.get("Content-Encoding", "")},
            }
        )
        self.forwarded += 1
        return web.Response(status=201)
