"""Reminders visitors set from the page for themselves ("check the oven").

A visitor is known only by their device: its subscription endpoint and the
auth secret that only that browser and pushdesk hold. Everything here starts
by proving that, and a visitor reaches no device they have not proven.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pushdesk.clock import Clock
from pushdesk.domain import Reminder, Replacement, Subscription
from pushdesk.errors import Forbidden, InvalidInput, NotFound
from pushdesk.log import WEB
from pushdesk.services.reminders import ReminderService
from pushdesk.services.settings import SettingsService
from pushdesk.services.subscriptions import SubscriptionService
from pushdesk.settings import OperatorSettings
from pushdesk.validation import visitor_text_problem

# The visitor's clock and the request's way here may differ a little from
# ours: a time this close to the shortest delay is taken as meant.
CLOCK_SLACK = timedelta(seconds=30)

NOT_SUBSCRIBED = "This device is not subscribed here, or its secret does not match."
NOT_THIS_DEVICES = "That reminder is not one this device set."


@dataclass(frozen=True)
class VisitorLimits:
    """What the page needs to know to offer only what will be accepted."""

    max_message_length: int
    min_delay_minutes: int
    max_delay_minutes: int
    max_pending: int


class SelfReminderService:
    def __init__(
        self,
        reminders: ReminderService,
        subscriptions: SubscriptionService,
        settings: SettingsService,
        clock: Clock,
    ) -> None:
        self._reminders = reminders
        self._subscriptions = subscriptions
        self._settings = settings
        self._clock = clock

    def pending(self, device: Replacement) -> list[Reminder]:
        """What this device set that is still to go out, soonest first."""
        return self.own(device)[0]

    def own(self, device: Replacement) -> tuple[list[Reminder], VisitorLimits]:
        """This device's reminders still to go out, soonest first, and the
        limits its page keeps to (the settings read once)."""
        current = self._enabled()
        owner = self._prove(device, "auth")
        return self._reminders.pending_of_visitor(owner.id), _limits(current)

    def create(
        self,
        device: Replacement,
        message: str,
        *,
        in_minutes: int | None = None,
        at: datetime | None = None,
        also: Sequence[Replacement] = (),
    ) -> Reminder:
        """Schedule ``message`` for the proven device, and for each device in
        ``also`` whose secret is given too."""
        current = self._enabled()
        owner = self._prove(device, "auth")
        others = [self._prove(proof, f"also.{i}.auth") for i, proof in enumerate(also)]

        message = message.strip()
        if problem := visitor_text_problem(message):
            raise InvalidInput(problem, "message")
        if len(message) > current.visitor_message_length:
            raise InvalidInput(
                f"The message is longer than {current.visitor_message_length} "
                "characters.",
                "message",
            )
        due_at = self._due_at(current, in_minutes, at)

        devices = list(dict.fromkeys([owner.id, *(other.id for other in others)]))
        reminder = self._reminders.schedule_for_visitor(
            message,
            due_at,
            visitor_device=owner.id,
            devices=devices,
            ttl=int(current.default_ttl.total_seconds()),
            most_pending=current.visitor_pending_per_device,
        )
        if reminder is None:
            most = current.visitor_pending_per_device
            raise Forbidden(
                f"{'This device has' if not others else 'One of these devices has'} "
                f"as many reminders waiting as allowed ({most}); "
                "cancel one first."
            )
        WEB.info(
            "device %d set reminder %d for %s (%d devices)",
            owner.id,
            reminder.id,
            due_at.isoformat(timespec="seconds"),
            len(devices),
        )
        return reminder

    def cancel(self, device: Replacement, reminder_id: int) -> None:
        """Cancel one of this device's own reminders.

        Another device's reminder, the operator's, and one that does not
        exist all get the same answer, so ids reveal nothing.
        """
        self._enabled()
        owner = self._prove(device, "auth")
        try:
            reminder = self._reminders.get(reminder_id)
        except NotFound:
            raise Forbidden(NOT_THIS_DEVICES, "id") from None
        if reminder.visitor_device != owner.id:
            raise Forbidden(NOT_THIS_DEVICES, "id")

        self._reminders.cancel(reminder_id)
        WEB.info("device %d cancelled its reminder %d", owner.id, reminder_id)

    def _enabled(self) -> OperatorSettings:
        current = self._settings.current()
        if not current.visitor_reminders:
            raise Forbidden("Reminders from the page are turned off here.")
        return current

    def _prove(self, proof: Replacement, field: str) -> Subscription:
        device = self._subscriptions.owned(proof)
        if device is None:
            raise Forbidden(NOT_SUBSCRIBED, field)
        return device

    def _due_at(
        self, current: OperatorSettings, in_minutes: int | None, at: datetime | None
    ) -> datetime:
        now = self._clock()
        if in_minutes is not None and at is None:
            field, due_at = "in_minutes", now + timedelta(minutes=in_minutes)
        elif at is not None and in_minutes is None:
            field, due_at = "at", at
        else:
            raise InvalidInput(
                "Say when: either in_minutes or at, not both.", "in_minutes"
            )

        shortest = timedelta(minutes=current.visitor_min_delay_minutes)
        longest = timedelta(days=current.visitor_max_delay_days)
        if due_at - now < shortest - CLOCK_SLACK:
            raise InvalidInput(
                f"A reminder must be at least {_minutes(shortest)} away.", field
            )
        if due_at - now > longest:
            raise InvalidInput(
                f"A reminder may be at most {current.visitor_max_delay_days} "
                f"day{'s' if current.visitor_max_delay_days != 1 else ''} away.",
                field,
            )
        return due_at


def _limits(current: OperatorSettings) -> VisitorLimits:
    return VisitorLimits(
        max_message_length=current.visitor_message_length,
        min_delay_minutes=current.visitor_min_delay_minutes,
        max_delay_minutes=current.visitor_max_delay_days * 24 * 60,
        max_pending=current.visitor_pending_per_device,
    )


def _minutes(delay: timedelta) -> str:
    minutes = int(delay.total_seconds() // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
