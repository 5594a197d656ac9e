"""Holding all sending, and letting it go again."""

from pushdesk.events import EventHub
from pushdesk.store import Store


class SendingControl:
    def __init__(self, store: Store, hub: EventHub) -> None:
        self._store = store
        self._hub = hub
