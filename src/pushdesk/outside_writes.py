"""Changes another process made to the data (the CLI, a second pushdesk).

The services of this process tell the event hub what they change; a write by
the ``pushdesk`` command in another process reaches the database only. SQLite
counts other connections' commits (``PRAGMA data_version``), so a look once a
second is cheap, and what changed is announced here as if made in-process.
"""

from pushdesk.events import Event, SettingsChanged
from pushdesk.services import Services
from pushdesk.settings import OperatorSettings, changed_names

# How often a running pushdesk looks; the issue promises "within a second".
CHECK_SECONDS = 1.0


class OutsideWrites:
    def __init__(self, services: Services) -> None:
        self._services = services
        self._version = services.outside_writes()
        self._settings: OperatorSettings = services.settings.current()
        services.hub.subscribe(self._on_event)

    def check(self) -> None:
        """Announce settings another process saved since the last look."""
        version = self._services.outside_writes()
        if version == self._version:
            return
        self._version = version

        current = self._services.settings.current()
        changed = changed_names(self._settings, current)
        self._settings = current
        if changed:
            self._services.hub.publish(SettingsChanged(changed))

    def _on_event(self, event: Event) -> None:
        # Saved in this process (and announced by its service): the new
        # values are the ones to compare with from now on.
        if isinstance(event, SettingsChanged):
            self._settings = self._services.settings.current()
