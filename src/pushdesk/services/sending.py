"""Holding all sending, and letting it go again.

The switch is kept with the data, not in memory: it survives a restart, and a
``pushdesk serve`` on the same data holds its sending too.
"""

from pushdesk.events import EventHub, SendingPaused
from pushdesk.log import SCHEDULER
from pushdesk.store import Store

SENDING_PAUSED = "sending_paused"


class SendingControl:
    """The operator's "pause all sending" switch.

    While paused no due reminder fires and no queued send is claimed; on
    resume the scheduler treats what fell due meanwhile as late (or missed).
    """

    def __init__(self, store: Store, hub: EventHub) -> None:
        self._store = store
        self._hub = hub

    @property
    def paused(self) -> bool:
        """Read from the database each time, so another process's switch counts."""
        return self._store.settings.get(SENDING_PAUSED) == "1"

    def pause(self) -> None:
        self.set_paused(True)

    def resume(self) -> None:
        self.set_paused(False)

    def set_paused(self, paused: bool) -> None:
        """Hold or release all sending; telling the hub only when it changed."""
        if paused == self.paused:
            return

        self._store.settings.set(SENDING_PAUSED, "1" if paused else "0")

        if paused:
            SCHEDULER.warning("all sending paused by the operator")
        else:
            SCHEDULER.info("sending resumed by the operator")
        self._hub.publish(SendingPaused(paused))
