"""A tiny in-process publish/subscribe hub.

Core code publishes plain dataclasses here; the UI bridges them to Qt signals
and the server to WebSocket messages, so nothing below the UI imports Qt.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

_log = logging.getLogger("pushdesk.app")


@dataclass(frozen=True)
class ReminderChanged:
    """A reminder was added, cancelled or changed status."""

    id: int


@dataclass(frozen=True)
class ReminderSent:
    id: int
    sent_at: datetime
    title: str
    body: str
    delivered: int
    total: int
    visitor_device: int | None = None  # set by a visitor from this device
    # The devices it was sent to that are still subscribed.
    devices: frozenset[int] = frozenset()
    # Sends that failed for good; devices found gone are in ``total`` only.
    failed: int = 0


@dataclass(frozen=True)
class Alert:
    """Something the operator must act on, said once (not once per push)."""

    key: str
    message: str


@dataclass(frozen=True)
class SubscriptionsChanged:
    """A device subscribed, refreshed, unsubscribed or was found gone."""


@dataclass(frozen=True)
class DeviceReplaced:
    """A browser renewed its subscription: device ``new`` took over from
    ``old`` (proven with the old one's secret), whose row is gone."""

    old: int
    new: int


@dataclass(frozen=True)
class SendingPaused:
    """The operator held all sending (``paused``) or let it go again."""

    paused: bool


@dataclass(frozen=True)
class SettingsChanged:
    """The operator saved settings; ``names`` are the OperatorSettings fields
    that changed."""

    names: tuple[str, ...]


Event = (
    ReminderChanged
    | ReminderSent
    | SubscriptionsChanged
    | DeviceReplaced
    | Alert
    | SendingPaused
    | SettingsChanged
)
Listener = Callable[[Event], None]


class EventHub:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Add a listener; the returned function removes it again."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def publish(self, event: Event) -> None:
        # A broken listener must not stop the others, nor the sender that
        # published: delivery has already happened by the time we get here.
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                _log.exception("event listener failed on %s", type(event).__name__)
