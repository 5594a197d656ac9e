"""Work through the send queue: encrypt, post, classify, record, retry.

Sends are claimed from the database a few at a time so that any number of
devices fits in bounded memory, posted with a bounded number in flight over
the one shared session, and settled in batches: one transaction records many
outcomes. A process killed at any moment leaves its claimed sends behind; they
are released after a lease and go out again, so only what was in flight can be
sent twice and nothing is lost.

While the operator holds all sending, nothing is claimed: queued sends and
retries wait in the database, and sends already on the wire finish.
"""

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Protocol

from pushdesk.clock import Clock
from pushdesk.domain import (
    DEFAULT_CONCURRENCY,
    ENGINE_SILENCE,
    HEARTBEAT,
    CredentialsRefused,
    Delivered,
    Failed,
    Gone,
    Outcome,
    Reminder,
    ReminderStatus,
    RetryLater,
    Subscription,
    Urgency,
)
from pushdesk.errors import StorageError
from pushdesk.events import (
    Alert,
    Event,
    EventHub,
    ReminderChanged,
    ReminderSent,
    SendingPaused,
    SubscriptionsChanged,
)
from pushdesk.log import SCHEDULER
from pushdesk.push.payload import reminder_payload
from pushdesk.push.receipts import ReceiptSigner
from pushdesk.scheduling.alarm import Alarm
from pushdesk.scheduling.outage import StorageOutage
from pushdesk.scheduling.retry import RetryPolicy
from pushdesk.services.sending import SendingControl
from pushdesk.store import Store
from pushdesk.store.sends import SendJob, Settlement

# How stale the engine's view of cancelled reminders may be.
CANCEL_CHECK_SECONDS = 0.2

# How many sends may be claimed (and encrypted ahead) per request slot: enough
# that the encryption worker never leaves the request slots idle.
LOOKAHEAD = 4

# A chunk goes to the encryption worker in waves this size, so that its posts
# start a wave at a time rather than up to `concurrency` in one turn of the
# loop. The longest stall of a 5,000-device fan-out (benchmarks/fanout.py) was
# 38-61 ms with whole chunks, 32-50 ms with waves of 32 and 35-43 ms with 16;
# with the window open (benchmarks/window.py), 66-136 ms with 32 and 66-79 ms
# with 16, at the same sending rate.
ENCRYPTION_WAVE = 16

# Outcomes are written in batches of at most this many, or this often.
SETTLE_BATCH = 256
SETTLE_INTERVAL_SECONDS = 0.2

# How often the queue is looked at when nothing wakes the engine: sends queued
# by another process (the CLI's "send now", a second pushdesk) are seen by it.
POLL_SECONDS = 1.0

FINAL_STATE = {
    Delivered: "delivered",
    Gone: "gone",
    CredentialsRefused: "refused",
    Failed: "failed",
}


class Sender(Protocol):
    async def encrypt_all(
        self, items: list[tuple[Subscription, bytes]]
    ) -> list[bytes | str]: ...

    async def post(
        self,
        subscription: Subscription,
        body: bytes | str,
        *,
        ttl: int,
        urgency: Urgency = ...,
        topic: str | None = ...,
    ) -> Outcome: ...


class DeliveryEngine:
    def __init__(
        self,
        store: Store,
        sender: Sender,
        hub: EventHub,
        clock: Clock,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        retry: RetryPolicy | None = None,
        receipts: ReceiptSigner | None = None,
        sending: SendingControl | None = None,
    ) -> None:
        self._store = store
        self._sender = sender
        self._hub = hub
        self._clock = clock
        self._concurrency = concurrency
        self._retry = retry or RetryPolicy()
        self._receipts = receipts
        self._sending = sending or SendingControl(store, hub)
        self._alarm = Alarm()
        self._settled: list[Settlement] = []
        self._slots = asyncio.Semaphore(concurrency)
        self._claimed = 0  # sends claimed by this engine and not yet answered
        self._dropped: list[int] = []  # claimed sends of reminders cancelled since
        self._cancelled_ids: set[int] = set()
        self._cancel_checked_at = float("-inf")
        self.outage = StorageOutage(store, hub, clock, "work through the send queue")

        # Names this process in its claims, so that a second process on the
        # same data can tell live claims from abandoned ones.
        self.owner = uuid.uuid4().hex
        self._last_beat = datetime.min.replace(tzinfo=UTC)

    def wake(self) -> None:
        self._alarm.wake()

    def request_stop(self) -> None:
        """Finish the sends on the wire, record them, then leave ``run``."""
        self._alarm.stop()

    async def run(self) -> None:
        SCHEDULER.info("delivery started")
        unsubscribe = self._hub.subscribe(self._wake_on_resume)
        try:
            while not self._alarm.stopping:
                await self._alarm.sleep(await self.run_once())
        finally:
            unsubscribe()
        self._leave()

    async def run_once(self) -> float:
        """One pass over the queue; return the seconds to wait for the next.

        A database that cannot be written leaves its work to the next pass:
        outcomes not yet written are kept, and sends not yet claimed wait.
        """
        try:
            self._beat(force=True)
            self.release_abandoned()
            await self.drain()
            self.finish_settled()
            wait = self._seconds_to_next_retry()
        except StorageError as exc:
            self.outage.failed(exc)
            return POLL_SECONDS
        except Exception:
            SCHEDULER.exception("unable to work through the send queue; trying again")
            return POLL_SECONDS
        self.outage.passed()
        return wait

    def _leave(self) -> None:
        """At stop: write the outcomes still kept, then give up the claims."""
        try:
            self._settle()
        except StorageError as exc:
            # Their sends stay claimed; the next pushdesk to start puts them
            # back, so they go out twice rather than never.
            SCHEDULER.error(
                "unable to record %d push outcomes before stopping (%s); "
                "those pushes will be sent again",
                len(self._settled),
                exc,
            )
        try:
            self._store.sends.retire(self.owner)
        except StorageError as exc:
            SCHEDULER.warning("unable to sign off: %s", exc)

    def _wake_on_resume(self, event: Event) -> None:
        # A resume in another process is seen at the next poll instead.
        if isinstance(event, SendingPaused) and not event.paused:
            self.wake()

    def release_abandoned(self) -> int:
        released = self._store.sends.release_abandoned(self._clock() - ENGINE_SILENCE)
        if released:
            SCHEDULER.warning(
                "%d sends were left in flight by a pushdesk that stopped; "
                "sending them again",
                released,
            )
        return released

    def _beat(self, *, force: bool = False) -> None:
        now = self._clock()
        if force or now - self._last_beat >= HEARTBEAT:
            self._store.sends.heartbeat(self.owner, now)
            self._last_beat = now

    async def drain(self) -> int:
        """Send everything whose time has come; return how many attempts were made.

        Sends are claimed in chunks; a chunk is encrypted (in the sender's
        worker process) while earlier chunks are on the wire, and at most
        ``concurrency`` requests are in flight at once. Nothing is claimed
        while sending is paused; sends already claimed go on.
        """
        chunks: set[asyncio.Task[None]] = set()
        attempts = 0
        loop = asyncio.get_running_loop()
        last_settle = loop.time()
        # A database that cannot be written stops the claiming, never the
        # waiting for sends already on the wire: their answers are kept.
        fault: StorageError | None = None
        while True:
            if fault is None:
                try:
                    self._beat()
                    jobs = self._claim()
                except StorageError as exc:
                    fault, jobs = exc, []
                if jobs:
                    self._claimed += len(jobs)
                    chunks.add(asyncio.create_task(self._attempt_chunk(jobs)))
                attempts += len(jobs)
            if not chunks:
                break

            _, chunks = await asyncio.wait(
                chunks,
                timeout=SETTLE_INTERVAL_SECONDS,
                return_when=asyncio.FIRST_COMPLETED,
            )
            now = loop.time()
            due = now - last_settle >= SETTLE_INTERVAL_SECONDS
            if len(self._settled) >= SETTLE_BATCH or due:
                try:
                    self._settle()
                except StorageError as exc:
                    fault = exc
                last_settle = now
        self._settle()
        if fault is not None:
            raise fault
        return attempts

    def _claim(self) -> list[SendJob]:
        """Sends whose time has come, as many as there is room for."""
        room = LOOKAHEAD * self._concurrency - self._claimed
        if room < max(1, self._concurrency) or not self._may_claim():
            return []
        return self._store.sends.claim_ready(self.owner, self._clock(), room)

    def _may_claim(self) -> bool:
        # The pause is read from the database, so another process's counts.
        return not self._alarm.stopping and not self._sending.paused

    async def _attempt_chunk(self, jobs: list[SendJob]) -> None:
        attempts: list[asyncio.Task[None]] = []
        for start in range(0, len(jobs), ENCRYPTION_WAVE):
            wave = jobs[start : start + ENCRYPTION_WAVE]
            bodies = await self._encrypted(wave)
            attempts += [
                asyncio.create_task(self._attempt(job, body))
                for job, body in zip(wave, bodies, strict=True)
            ]
        await asyncio.gather(*attempts)

    async def _encrypted(self, jobs: list[SendJob]) -> list[bytes | str]:
        try:
            return await self._sender.encrypt_all(
                [(job.subscription, self._payload(job)) for job in jobs]
            )
        except Exception as exc:  # a broken worker process, say
            SCHEDULER.exception("unable to encrypt %d pushes", len(jobs))
            return [f"cannot encrypt: {type(exc).__name__}"] * len(jobs)

    async def _attempt(self, job: SendJob, body: bytes | str) -> None:
        """Post one send; whatever happens, its claim is settled."""
        reminder = job.reminder
        try:
            async with self._slots:
                if self._cancelled(reminder.id):
                    self._dropped.append(job.id)
                    return
                outcome = await self._sender.post(
                    job.subscription,
                    body,
                    ttl=reminder.ttl,
                    urgency=reminder.urgency,
                    topic=reminder.topic,
                )
            settlement = self._settlement(job, outcome)
        except Exception as exc:
            SCHEDULER.exception("unable to send %s", job.subscription.short_endpoint)
            settlement = Settlement(job, Failed(None, type(exc).__name__), "failed")
        finally:
            self._claimed -= 1
        self._settled.append(settlement)

    def _cancelled(self, reminder_id: int) -> bool:
        """Was the reminder cancelled (here or by the CLI) since it was claimed?

        Read at most every CANCEL_CHECK_SECONDS, not once per push.
        """
        now = asyncio.get_running_loop().time()
        if now - self._cancel_checked_at >= CANCEL_CHECK_SECONDS:
            self._cancel_checked_at = now
            try:
                self._cancelled_ids = self._store.reminders.cancelled_ids()
            except StorageError as exc:
                # Sending on what was known is better than failing the push.
                self.outage.failed(exc)
        return reminder_id in self._cancelled_ids

    def _payload(self, job: SendJob) -> bytes:
        """What this device's worker gets, with its own receipt token."""
        if self._receipts is None:
            return reminder_payload(job.reminder)
        device = job.subscription.id
        token = self._receipts.token(job.reminder.id, device)
        return reminder_payload(job.reminder, device, token)

    def _settlement(self, job: SendJob, outcome: Outcome) -> Settlement:
        now = self._clock()
        if isinstance(outcome, RetryLater):
            retry_at = self._retry.next_attempt(outcome, job.attempts + 1, now)
            if retry_at is None:
                return Settlement(job, outcome, "failed")
            return Settlement(job, outcome, "pending", retry_at)
        if isinstance(outcome, CredentialsRefused | Delivered | Gone | Failed):
            return Settlement(job, outcome, FINAL_STATE[type(outcome)])
        return Settlement(job, outcome, "rejected")

    def _settle(self) -> None:
        """Write the outcomes kept so far in one transaction, then act on them.

        When the database cannot take them they are kept for the next try:
        a send whose outcome is never written would go out a second time.
        """
        if self._dropped:
            dropped, self._dropped = self._dropped, []
            try:
                self._store.sends.mark_cancelled(dropped)
            except Exception:
                self._dropped = dropped + self._dropped
                raise
        if not self._settled:
            return
        batch, self._settled = self._settled, []
        now = self._clock()
        try:
            self._store.sends.settle(batch, now)
        except Exception:
            self._settled = batch + self._settled
            raise
        self._follow_up(batch, now)

    def _follow_up(self, batch: list[Settlement], now: datetime) -> None:
        """Alerts and finished reminders after a batch was written.

        A database fault here loses nothing: the outcomes are written, and a
        one-shot left unfinished is closed by ``finish_settled`` next pass.
        The first fault is raised once every other follow-up was tried.
        """
        if any(isinstance(s.outcome, Gone) for s in batch):
            self._hub.publish(SubscriptionsChanged())
        fault: StorageError | None = None
        for settlement in batch:
            subscription = settlement.job.subscription
            try:
                if isinstance(settlement.outcome, CredentialsRefused):
                    self._alert_refused(subscription, settlement.outcome, now)
                elif (
                    isinstance(settlement.outcome, Delivered)
                    and subscription.flag_reason
                ):
                    # Our credentials work there again: the alert has done its job.
                    self._store.alerts.clear(f"credentials:{subscription.origin}")
            except StorageError as exc:
                fault = fault or exc
        for reminder, occurrence_at in {
            (s.job.reminder, s.job.occurrence_at) for s in batch
        }:
            try:
                self.finish_if_done(reminder, occurrence_at, now)
            except StorageError as exc:
                fault = fault or exc
        if fault is not None:
            raise fault

    def _alert_refused(
        self, subscription: Subscription, outcome: CredentialsRefused, now: datetime
    ) -> None:
        """One alert per push service, however many devices and reminders."""
        key = f"credentials:{subscription.origin}"
        message = (
            f"{subscription.endpoint_host} refuses pushdesk's VAPID credentials "
            f"({outcome.error}); its devices are flagged. Check the contact "
            "(VAPID subject) and that the key file was not replaced."
        )
        if self._store.alerts.raise_once(key, message, now):
            SCHEDULER.error("%s", message)
            self._hub.publish(Alert(key, message))
        self._hub.publish(SubscriptionsChanged())

    def finish_settled(self) -> None:
        """Close one-shots in ``sending`` with nothing left to go (no targets,
        or sends settled by a process that stopped before closing them)."""
        now = self._clock()
        for reminder in self._store.reminders.sending():
            self.finish_if_done(reminder, reminder.due_at, now)

    def finish_if_done(
        self, reminder: Reminder, occurrence_at: datetime, now: datetime
    ) -> None:
        """Close the occurrence once none of its sends is left to go."""
        if self._store.sends.is_open(reminder.id, occurrence_at):
            return
        current = self._store.reminders.get(reminder.id)
        if current.repeat is None and occurrence_at != current.due_at:
            # An occurrence from before an edit turned a repeating reminder
            # into a one-shot: it must not close the one-shot.
            return

        states = self._store.sends.states(reminder.id, occurrence_at)
        delivered = states["delivered"]
        failed = states["failed"] + states["rejected"] + states["refused"]
        total = delivered + failed + states["gone"]
        if failed == 0:
            status = ReminderStatus.SENT
        elif delivered:
            status = ReminderStatus.PARTLY_SENT
        else:
            status = ReminderStatus.FAILED

        if reminder.repeat is None and not self._store.reminders.finish(
            reminder.id, status, now
        ):
            return  # cancelled while its last sends were on the wire
        SCHEDULER.info(
            "reminder %d %s: delivered to %d of %d devices",
            reminder.id,
            status.value.replace("_", " "),
            delivered,
            total,
        )
        if total == 0:
            SCHEDULER.warning(
                "reminder %d reached nobody: no device was targeted", reminder.id
            )
        self._hub.publish(ReminderChanged(reminder.id))
        self._hub.publish(
            ReminderSent(
                reminder.id,
                now,
                reminder.title,
                reminder.message,
                delivered,
                total,
                reminder.visitor_device,
                self._store.sends.devices(reminder.id, occurrence_at),
                failed,
            )
        )

    def _seconds_to_next_retry(self) -> float:
        # While paused, a retry past its time stays there: waiting for it
        # would spin.
        if self._sending.paused:
            return POLL_SECONDS
        next_attempt = self._store.sends.next_attempt_at()
        if next_attempt is None:
            return POLL_SECONDS
        return min(
            POLL_SECONDS, max((next_attempt - self._clock()).total_seconds(), 0.0)
        )
