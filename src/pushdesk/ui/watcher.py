"""Tells the window when the data changed, whoever changed it."""

from PySide6.QtCore import QObject, QTimer, Signal

from pushdesk.events import Event
from pushdesk.services import Services

# How often the window checks whether another process (the CLI) wrote data.
OUTSIDE_WRITES_POLL_MS = 1000
BURST_DELAY_MS = 100


class DataWatcher(QObject):
    """Emits ``changed`` after events from this process and writes by others.

    Events come in bursts (a fan-out, a wave of receipts): the first one is
    passed on at once, the rest of the burst once more when it is over.
    Writes by another process are noticed by polling SQLite's cheap
    ``data_version`` counter.
    """

    changed = Signal()
    happened = Signal(object)  # every hub event, for listeners that need its kind

    def __init__(self, services: Services, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self._seen_version = services.outside_writes()
        self._pending = False

        self._burst = QTimer(self, singleShot=True, interval=BURST_DELAY_MS)
        self._burst.timeout.connect(self._end_of_burst)
        self._unsubscribe = services.hub.subscribe(self._on_event)
        self._poll = QTimer(self, interval=OUTSIDE_WRITES_POLL_MS)
        self._poll.timeout.connect(self._check_outside_writes)
        self._poll.start()

    def stop(self) -> None:
        self._poll.stop()
        self._burst.stop()
        self._unsubscribe()
        self._unsubscribe = lambda: None

    def _on_event(self, event: Event) -> None:
        self.happened.emit(event)
        if self._burst.isActive():
            self._pending = True
            return
        self.changed.emit()
        self._burst.start()

    def _end_of_burst(self) -> None:
        if self._pending:
            self._pending = False
            self.changed.emit()

    def _check_outside_writes(self) -> None:
        version = self._services.outside_writes()
        if version != self._seen_version:
            self._seen_version = version
            self.changed.emit()
