"""The operator's settings, checked and stored with the data."""

from pushdesk.events import EventHub
from pushdesk.store import Store


class SettingsService:
    def __init__(self, store: Store, hub: EventHub) -> None:
        self._store = store
        self._hub = hub
