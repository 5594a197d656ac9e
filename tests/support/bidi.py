"""Just enough WebDriver BiDi to use a page in a real Firefox as a person does:
type into a field, press a button, read what the page says.

Firefox speaks WebDriver BiDi itself when started with
``--remote-debugging-port`` (no geckodriver, no browser build of Playwright's
own). Commands go one at a time over a WebSocket; events are not subscribed
to, so every frame that comes back answers the command just sent.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp


class BiDiError(Exception):
    """Firefox refused a command, or a script it ran threw."""


class FirefoxTab:
    """One top-level page of a Firefox driven over WebDriver BiDi."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self._socket = socket
        self._next_id = 0
        self.context = ""

    @classmethod
    @asynccontextmanager
    async def open(cls, port: int, url_prefix: str) -> AsyncIterator[FirefoxTab]:
        """A session with the Firefox listening on ``port``, on its first tab,
        once that tab shows a page whose address starts with ``url_prefix``."""
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(f"ws://127.0.0.1:{port}/session") as socket,
        ):
            tab = cls(socket)
            await tab.command("session.new", {"capabilities": {}})
            tree = await tab.command("browsingContext.getTree", {"maxDepth": 0})
            tab.context = tree["contexts"][0]["context"]
            await tab.wait_for(f"location.href.startsWith({json.dumps(url_prefix)})")
            yield tab
            await tab.command("session.end", {})

    async def command(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self._next_id += 1
        await self._socket.send_json(
            {"id": self._next_id, "method": method, "params": params}
        )
        while True:
            answer = await self._socket.receive_json(timeout=60)
            if answer.get("id") == self._next_id:
                break
        if answer.get("type") == "error":
            raise BiDiError(f"{method}: {answer.get('error')}: {answer.get('message')}")
        result: dict[str, Any] = answer["result"]
        return result

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (awaited if a
        promise); strings, numbers, booleans and null come back as such."""
        result = await self.command(
            "script.evaluate",
            {
                "expression": expression,
                "target": {"context": self.context},
                "awaitPromise": True,
            },
        )
        if result["type"] == "exception":
            details = result["exceptionDetails"]
            raise BiDiError(f"{expression!r} threw: {details.get('text')}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, seconds: float = 30) -> None:
        """Until the expression is true in the page, within a bound."""
        deadline = asyncio.get_running_loop().time() + seconds
        while not await self.evaluate(expression):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{expression!r} never became true")
            await asyncio.sleep(0.1)

    async def click(self, selector: str) -> None:
        """Move the mouse to the middle of the element and press it."""
        element = await self._element(selector)
        await self._perform(
            {
                "type": "pointer",
                "id": "mouse",
                "actions": [
                    {
                        "type": "pointerMove",
                        "x": 0,
                        "y": 0,
                        "origin": {"type": "element", "element": element},
                    },
                    {"type": "pointerDown", "button": 0},
                    {"type": "pointerUp", "button": 0},
                ],
            }
        )

    async def type(self, selector: str, text: str) -> None:
        """Click into the field and type ``text`` key by key."""
        await self.click(selector)
        keys = []
        for character in text:
            keys.append({"type": "keyDown", "value": character})
            keys.append({"type": "keyUp", "value": character})
        await self._perform({"type": "key", "id": "keyboard", "actions": keys})

    async def _element(self, selector: str) -> dict[str, str]:
        # Pointer actions need the element inside the viewport.
        await self.evaluate(
            f"document.querySelector({json.dumps(selector)})"
            ".scrollIntoView({block: 'center'})"
        )
        found = await self.command(
            "browsingContext.locateNodes",
            {
                "context": self.context,
                "locator": {"type": "css", "value": selector},
                "maxNodeCount": 1,
            },
        )
        if not found["nodes"]:
            raise BiDiError(f"nothing in the page matches {selector!r}")
        return {"sharedId": found["nodes"][0]["sharedId"]}

    async def _perform(self, source: dict[str, Any]) -> None:
        await self.command(
            "input.performActions", {"context": self.context, "actions": [source]}
        )
        await self.command("input.releaseActions", {"context": self.context})
