"""The "Server and phones" tab: where a phone opens pushdesk, how it is
served, and how many pages are connected live."""

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import segno
from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication, QPixmap
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from pushdesk.config import TlsMode


@dataclass(frozen=True)
class ServerStatus:
    """What the page shows, read from the running server each refresh."""

    urls: tuple[str, ...]  # the page, LAN addresses first
    setup_urls: tuple[str, ...]  # the certificate set-up page (own CA only)
    tls: TlsMode
    certificate: Path | None  # the operator's own certificate, if used
    live_connections: int  # pages with the live-events socket open
    live_devices: int = 0  # subscribed devices among them (a device may have two)


# None: the server is not running (it could not be restarted).
StatusSource = Callable[[], ServerStatus | None]

REFRESH_MS = 3000

# About 6 cm on a desktop screen: phone cameras read it from arm's length.
QR_SIZE_PX = 240
MIN_MODULE_PX = 4
# The white margin the QR standard asks for, in modules; readers need it.
QR_QUIET_ZONE = 4
CARD_COLUMNS = 3


def tls_wording(status: ServerStatus) -> str:
    if status.tls is TlsMode.OWN_CA:
        return "HTTPS with pushdesk's own certificate authority"
    if status.tls is TlsMode.OWN_CERTIFICATE:
        return f"HTTPS with your own certificate ({status.certificate})"
    return "Plain HTTP — phones on the LAN cannot receive push"


def tls_advice(status: ServerStatus) -> str:
    if status.tls is TlsMode.OWN_CA:
        return (
            "A phone first opens the set-up page below and installs pushdesk's "
            "certificate authority; then it opens the page and turns on "
            "notifications."
        )
    if status.tls is TlsMode.OWN_CERTIFICATE:
        return "Phones open the page directly and turn on notifications."
    return (
        "Browsers allow push only over HTTPS (or on this computer itself). "
        "Choose HTTPS in Settings to reach phones."
    )


def live_wording(pages: int, devices: int) -> str:
    if pages == 0:
        return "No page is connected live right now."
    opened = "1 page is" if pages == 1 else f"{pages} pages are"
    if devices == 0:
        return f"{opened} connected live right now, from no subscribed device."
    whose = "1 subscribed device" if devices == 1 else f"{devices} subscribed devices"
    return f"{opened} connected live right now, from {whose}."


def qr_pixmap(text: str, size: int = QR_SIZE_PX) -> QPixmap:
    """A QR code of ``text``, black on white with its quiet zone, about
    ``size`` pixels wide and never finer than MIN_MODULE_PX per module."""
    code = segno.make(text, error="m", micro=False)
    modules, _ = code.symbol_size(scale=1, border=QR_QUIET_ZONE)
    buffer = io.BytesIO()
    code.save(
        buffer,
        kind="png",
        scale=max(MIN_MODULE_PX, size // modules),
        border=QR_QUIET_ZONE,
        dark="black",
        light="white",
    )
    pixmap = QPixmap()
    pixmap.loadFromData(buffer.getvalue(), "PNG")
    return pixmap


def on_this_computer(url: str) -> bool:
    """A loopback address: useful here, never on a phone."""
    host = urlsplit(url).hostname or ""
    return host == "localhost" or host.startswith("127.") or host == "::1"


class UrlCard(QWidget):
    """One address: its QR code (if a phone can use it), copy and open."""

    def __init__(
        self, url: str, *, with_qr: bool, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.url = url
        self.qr_label = QLabel()
        self.qr_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        if with_qr:
            self.qr_label.setPixmap(qr_pixmap(url))
            self.qr_label.setToolTip(f"Scan with the phone's camera to open {url}")
        else:
            self.qr_label.hide()
        self.url_label = QLabel(url)
        self.url_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
        )
        self.url_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip(f"Copy {url}")
        self.copy_button.clicked.connect(self.copy)
        self.open_button = QPushButton("Open in browser")
        self.open_button.clicked.connect(self.open)

        buttons = QHBoxLayout()
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.open_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.qr_label)
        layout.addWidget(self.url_label)
        layout.addLayout(buttons)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.url)

    def open(self) -> None:
        QDesktopServices.openUrl(QUrl(self.url))


class ServerPage(QWidget):
    """Reads the server's status through ``status`` and never touches the
    server itself; refreshes every ``refresh_ms``."""

    def __init__(
        self,
        status: StatusSource,
        parent: QWidget | None = None,
        *,
        refresh_ms: int = REFRESH_MS,
    ) -> None:
        super().__init__(parent)
        self._status = status
        self._shown_urls: tuple[tuple[str, ...], tuple[str, ...]] | None = None
        self.cards: list[UrlCard] = []

        self.tls_label = QLabel()
        self.tls_label.setStyleSheet("font-weight: bold; font-size: 14px;")
        self.advice_label = QLabel(wordWrap=True)
        self.live_label = QLabel()
        self._cards_widget = QWidget()
        self._cards_layout = QVBoxLayout(self._cards_widget)
        self._cards_layout.setAlignment(Qt.AlignmentFlag.AlignTop)
        scroll = QScrollArea(widgetResizable=True)
        scroll.setWidget(self._cards_widget)

        layout = QVBoxLayout(self)
        layout.addWidget(self.tls_label)
        layout.addWidget(self.advice_label)
        layout.addWidget(self.live_label)
        layout.addWidget(scroll, 1)

        self._timer = QTimer(self, interval=refresh_ms)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self.refresh()

    def card_for(self, url: str) -> UrlCard:
        return next(card for card in self.cards if card.url == url)

    def refresh(self) -> None:
        status = self._status()
        if status is None:
            self.tls_label.setText("The server is not running.")
            self.advice_label.setText("Fix its address or ports in Settings.")
            self.live_label.clear()
            self._show_urls((), ())
            return

        self.tls_label.setText(tls_wording(status))
        self.advice_label.setText(tls_advice(status))
        self.live_label.setText(
            live_wording(status.live_connections, status.live_devices)
        )
        self._show_urls(status.urls, status.setup_urls)

    def _show_urls(self, urls: tuple[str, ...], setup_urls: tuple[str, ...]) -> None:
        # Rendering QR codes is not free: only when the addresses changed.
        if self._shown_urls == (urls, setup_urls):
            return
        self._shown_urls = (urls, setup_urls)
        while (item := self._cards_layout.takeAt(0)) is not None:
            if (widget := item.widget()) is not None:
                widget.deleteLater()
        self.cards = []

        phone = [u for u in urls if not on_this_computer(u)]
        local = [u for u in urls if on_this_computer(u)]
        if setup_urls:
            self._section(
                "First time on a phone: open the set-up page to install "
                "pushdesk's certificate",
                [u for u in setup_urls if not on_this_computer(u)],
                with_qr=True,
            )
        self._section("Open pushdesk on a phone", phone, with_qr=True)
        self._section("On this computer", local, with_qr=False)

    def _section(self, title: str, urls: Sequence[str], *, with_qr: bool) -> None:
        if not urls:
            return
        section = QWidget()
        heading = QLabel(title, wordWrap=True)
        heading.setStyleSheet("font-weight: bold; margin-top: 8px;")
        grid = QGridLayout()
        for index, url in enumerate(urls):
            card = UrlCard(url, with_qr=with_qr)
            self.cards.append(card)
            grid.addWidget(card, index // CARD_COLUMNS, index % CARD_COLUMNS)
        layout = QVBoxLayout(section)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(heading)
        layout.addLayout(grid)
        self._cards_layout.addWidget(section)
