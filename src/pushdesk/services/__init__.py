"""What the operator and the visitors can do, shared by the UI, CLI and server.

Each service writes through the store and then tells the event hub, so every
window, WebSocket and table sees the change.
"""

from datetime import datetime

from pushdesk.clock import Clock
from pushdesk.events import EventHub
from pushdesk.services.deliveries import DeliveryLogService
from pushdesk.services.health import HealthService
from pushdesk.services.reminders import ReminderService
from pushdesk.services.self_reminders import SelfReminderService
from pushdesk.services.sending import SendingControl
from pushdesk.services.settings import SettingsService
from pushdesk.services.subscriptions import SubscriptionService
from pushdesk.store import Store


class Services:
    """The operator's whole surface, handed to the window and the CLI."""

    def __init__(self, store: Store, hub: EventHub, clock: Clock) -> None:
        self._store = store
        self.hub = hub
        self._clock = clock
        self.reminders = ReminderService(store, hub, clock)
        self.subscriptions = SubscriptionService(store, hub, clock)
        self.deliveries = DeliveryLogService(store, clock)
        self.settings = SettingsService(store, hub)
        self.sending = SendingControl(store, hub)
        self.health = HealthService(store, clock)
        self.self_reminders = SelfReminderService(
            self.reminders, self.subscriptions, self.settings, clock
        )

    def now(self) -> datetime:
        return self._clock()

    def receipt_secret(self) -> str:
        return self._store.receipt_secret()

    def alerts(self) -> list[str]:
        """Standing alerts for the operator, oldest first."""
        return [message for _, message in self._store.alerts.all()]

    def outside_writes(self) -> int:
        """A number that changes when another process (the CLI) wrote data."""
        return self._store.data_version()
