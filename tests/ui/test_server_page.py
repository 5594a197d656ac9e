"""The Server and phones tab: QR codes a phone can read, the HTTPS status in
words, and the live count from a real server."""

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import zxingcpp
from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication, QImage
from pytestqt.qtbot import QtBot

from pushdesk.app import Runtime, open_store
from pushdesk.config import TlsMode
from pushdesk.ui.desktop import server_status
from pushdesk.ui.pages.server import ServerPage, ServerStatus, UrlCard
from pushdesk.validation import parse_subscription
from tests.support.push_service import BrowserSubscription, PushServiceDouble
from tests.support.visitors import proof_of
from tests.ui.conftest import RunOnQtLoop, gui_config

LAN_STATUS = ServerStatus(
    urls=(
        "https://192.168.1.20:8443/",
        "https://[fd00::20]:8443/",
        "https://localhost:8443/",
    ),
    setup_urls=("http://192.168.1.20:8080/", "http://localhost:8080/"),
    tls=TlsMode.OWN_CA,
    certificate=None,
    live_connections=0,
)


def decoded(card: UrlCard) -> list[str]:
    """What a phone's camera reads from the card's QR code."""
    image = card.qr_label.pixmap().toImage()
    gray = image.convertToFormat(QImage.Format.Format_Grayscale8)
    return [barcode.text for barcode in zxingcpp.read_barcodes(gray)]


@pytest.fixture
def page(qtbot: QtBot) -> ServerPage:
    shown = ServerPage(lambda: LAN_STATUS)
    qtbot.addWidget(shown)
    return shown


def test_each_phone_address_has_a_qr_code_that_reads_back(page: ServerPage) -> None:
    for url in (
        "https://192.168.1.20:8443/",
        "https://[fd00::20]:8443/",
        "http://192.168.1.20:8080/",
    ):
        card = page.card_for(url)
        assert decoded(card) == [url]
        # Big enough to scan from a screen at arm's length.
        assert card.qr_label.pixmap().width() >= 200


def test_addresses_of_this_computer_are_listed_without_a_qr_code(
    page: ServerPage,
) -> None:
    card = page.card_for("https://localhost:8443/")

    assert card.qr_label.pixmap().isNull()
    assert [c.url for c in page.cards if c.url.startswith("http://localhost")] == []


@pytest.mark.parametrize(
    ("tls", "certificate", "words"),
    [
        (TlsMode.OWN_CA, None, "HTTPS with pushdesk's own certificate authority"),
        (
            TlsMode.OWN_CERTIFICATE,
            Path("/etc/ssl/pushdesk.pem"),
            "HTTPS with your own certificate (/etc/ssl/pushdesk.pem)",
        ),
        (
            TlsMode.PLAIN_HTTP,
            None,
            "Plain HTTP — phones on the LAN cannot receive push",
        ),
    ],
)
def test_the_https_status_is_said_in_words(
    qtbot: QtBot, tls: TlsMode, certificate: Path | None, words: str
) -> None:
    status = ServerStatus(("http://192.168.1.20:8080/",), (), tls, certificate, 0)
    page = ServerPage(lambda: status)
    qtbot.addWidget(page)

    assert page.tls_label.text() == words


def test_copy_puts_the_address_on_the_clipboard(page: ServerPage) -> None:
    card = page.card_for("https://192.168.1.20:8443/")

    card.copy_button.click()

    assert QGuiApplication.clipboard().text() == "https://192.168.1.20:8443/"


class Browser(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.opened.append(url.toString())


def test_open_hands_the_address_to_the_browser(page: ServerPage) -> None:
    browser = Browser()
    QDesktopServices.setUrlHandler("https", browser, "open")
    try:
        page.card_for("https://192.168.1.20:8443/").open_button.click()
    finally:
        QDesktopServices.unsetUrlHandler("https")

    assert browser.opened == ["https://192.168.1.20:8443/"]


def test_qr_codes_are_drawn_again_only_when_the_addresses_change(
    qtbot: QtBot,
) -> None:
    statuses = [LAN_STATUS]
    page = ServerPage(lambda: statuses[-1])
    qtbot.addWidget(page)
    before = list(page.cards)

    page.refresh()
    assert page.cards == before

    statuses.append(
        ServerStatus(("https://10.0.0.7:8443/",), (), TlsMode.OWN_CA, None, 0)
    )
    page.refresh()
    assert [card.url for card in page.cards] == ["https://10.0.0.7:8443/"]
    assert decoded(page.cards[0]) == ["https://10.0.0.7:8443/"]


def test_a_server_that_is_not_running_is_said_so(qtbot: QtBot) -> None:
    page = ServerPage(lambda: None)
    qtbot.addWidget(page)

    assert page.tls_label.text() == "The server is not running."
    assert page.cards == []


def identify(browser: BrowserSubscription) -> dict[str, Any]:
    """What the page says on its live-events socket once subscribed."""
    return {"type": "identify", "device": proof_of(browser)}


async def until(condition: Callable[[], bool], seconds: float = 5) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "the page never said it"
        await asyncio.sleep(0.02)


def test_the_live_count_follows_pages_connecting_and_leaving(
    qtbot: QtBot, qt_loop: RunOnQtLoop[None], data_dir: Path
) -> None:
    async def scenario() -> None:
        async with PushServiceDouble() as push:
            config = gui_config(data_dir, push.origin)
            runtime = Runtime(config, open_store(config))
            await runtime.start()
            page = ServerPage(lambda: server_status(runtime), refresh_ms=50)
            qtbot.addWidget(page)

            async def says(words: str) -> None:
                await until(lambda: page.live_label.text() == words)

            assert runtime.server is not None
            events = f"http://127.0.0.1:{runtime.server.port}/api/events"
            try:
                assert page.live_label.text() == "No page is connected live right now."
                assert page.tls_label.text().startswith("Plain HTTP")

                phone, tablet = push.new_subscription(), push.new_subscription()
                for device in (phone, tablet):
                    runtime.services.subscriptions.register(
                        parse_subscription(device.to_json(), [push.origin])
                    )
                async with aiohttp.ClientSession() as session:
                    first = await session.ws_connect(events)
                    await says(
                        "1 page is connected live right now, from no subscribed device."
                    )
                    second = await session.ws_connect(events)
                    await second.send_json(identify(phone))
                    await says(
                        "2 pages are connected live right now, "
                        "from 1 subscribed device."
                    )
                    # Two pages of one device count as one device.
                    third = await session.ws_connect(events)
                    await third.send_json(identify(phone))
                    await says(
                        "3 pages are connected live right now, "
                        "from 1 subscribed device."
                    )
                    await first.send_json(identify(tablet))
                    await says(
                        "3 pages are connected live right now, "
                        "from 2 subscribed devices."
                    )
                    for socket in (first, second, third):
                        await socket.close()
                await says("No page is connected live right now.")
            finally:
                await runtime.stop()

    qt_loop(scenario())
