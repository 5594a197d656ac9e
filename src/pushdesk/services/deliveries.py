"""The delivery log: every attempt to reach a device, for the operator to read."""

from pushdesk.clock import Clock
from pushdesk.store import Store


class DeliveryLogService:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock
