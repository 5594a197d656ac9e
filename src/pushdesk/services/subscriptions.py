"""Devices: registering, proving ownership, importing and exporting them, and
what the operator does with them (naming, grouping, testing, removing)."""

import hmac
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from pushdesk.clock import Clock
from pushdesk.devices import (
    RECENT_FAILURES_DAYS,
    DeviceQuery,
    DeviceRow,
    Staleness,
    describe,
)
from pushdesk.domain import (
    Reminder,
    ReminderDraft,
    Replacement,
    Subscription,
    SubscriptionInput,
    Target,
    Urgency,
)
from pushdesk.errors import DeviceLimitReached, InvalidInput, NotFound, NotOwner
from pushdesk.events import (
    DeviceReplaced,
    EventHub,
    ReminderChanged,
    SubscriptionsChanged,
)
from pushdesk.log import UI, WEB
from pushdesk.services.settings import SettingsService
from pushdesk.settings import OperatorSettings
from pushdesk.store import Store
from pushdesk.transfer import ImportReport, check_item, export_document, read_items
from pushdesk.validation import device_label, parse_groups

TEST_TITLE = "pushdesk test"
TEST_MESSAGE = "This is a test notification. If you can read it, reminders reach you."

# A test is about now: one that arrives hours later only confuses.
TEST_TTL_SECONDS = 60 * 60


class SubscriptionService:
    def __init__(self, store: Store, hub: EventHub, clock: Clock) -> None:
        self._store = store
        self._hub = hub
        self._clock = clock

    def register(
        self, subscription: SubscriptionInput, replaces: Replacement | None = None
    ) -> tuple[Subscription, bool]:
        """Store or refresh a device; ``replaces`` names the row it succeeds.

        The old row is taken over (name and groups kept, row deleted) only when
        its auth secret matches: knowing an endpoint alone proves nothing.
        Likewise a known endpoint is refreshed (keys, name, last seen) only by
        a request that carries its auth secret, as its keys or as ``replaces``;
        else NotOwner. Whoever learnt an endpoint could otherwise give it keys
        of their own, and the device, unable to decrypt, would silently get
        nothing while the delivery log showed every push accepted.
        """
        if subscription.label:
            _check_length(subscription.label, self._settings().max_label_length)
        with self._store.transaction():
            self._check_owner(subscription, replaces)
            old = self._owned(replaces) if replaces else None
            if old is None:
                self._check_room_for(subscription)
            if old is not None and subscription.label is None:
                subscription = replace(subscription, label=old.label or "")
            groups = old.groups if old is not None else None
            stored, created = self._store.subscriptions.upsert(
                subscription, self._clock(), groups
            )
            replaced = old if old is not None and old.id != stored.id else None
            if replaced is not None:
                self._store.reminders.move_device(replaced.id, stored.id)
                self._store.sends.move_device(replaced.id, stored.id)
                self._store.subscriptions.delete(replaced.id)
                WEB.info(
                    "%s replaced %s", stored.short_endpoint, replaced.short_endpoint
                )
        if created:
            WEB.info("new subscription %s", stored.short_endpoint)
        if replaced is not None:
            self._hub.publish(DeviceReplaced(replaced.id, stored.id))
        self._hub.publish(SubscriptionsChanged())
        return stored, created

    def _check_owner(
        self, subscription: SubscriptionInput, replaces: Replacement | None
    ) -> None:
        """NotOwner unless the endpoint is new or the request proves it is
        the device subscribed there.

        A browser re-posting its subscription sends the same keys; one whose
        keys changed under the same endpoint proves itself with the old auth
        secret in ``replaces`` (as the page and its worker do).
        """
        known = self._store.subscriptions.find(subscription.endpoint)
        if known is None or hmac.compare_digest(known.auth, subscription.auth):
            return
        proven = self._owned(replaces) if replaces else None
        if proven is not None and proven.id == known.id:
            return
        WEB.info("re-post of %s without its secret refused", known.short_endpoint)
        raise NotOwner(
            "This push endpoint is subscribed here with other keys; "
            "only the device itself can change them."
        )

    def _check_room_for(self, subscription: SubscriptionInput) -> None:
        """DeviceLimitReached when a new endpoint would put its client address
        over the limit; a device posting again always has room."""
        address = subscription.client_address
        known = self._store.subscriptions.find(subscription.endpoint)
        if address is None or known is not None:
            return

        allowed = self._settings().subscriptions_per_address
        if self._store.subscriptions.count_from(address) < allowed:
            return
        WEB.info("new subscription refused: %s has %d devices", address, allowed)
        raise DeviceLimitReached(
            f"This network address already has {allowed} devices subscribed; "
            "whoever runs pushdesk can remove unused ones."
        )

    def _settings(self) -> OperatorSettings:
        return SettingsService(self._store, self._hub).current()

    def owned(self, proof: Replacement) -> Subscription | None:
        """The device at ``proof.endpoint``, if ``proof.auth`` is its secret."""
        return self._owned(proof)

    def _owned(self, replaces: Replacement) -> Subscription | None:
        old = self._store.subscriptions.find(replaces.endpoint)
        if old is None or not hmac.compare_digest(old.auth, replaces.auth):
            return None
        return old

    def remove(self, proof: Replacement) -> Subscription:
        """Delete a device's row at its own request (endpoint and auth secret)."""
        owned = self._owned(proof)
        if owned is None:
            # Unknown, or known with another secret: the same answer, so the
            # API does not tell which endpoints exist.
            raise NotFound("That subscription is not known.")
        removed = self._store.subscriptions.delete_endpoint(owned.endpoint)
        if removed is None:
            raise NotFound("That subscription is not known.")
        WEB.info("subscription %s removed by its device", removed.short_endpoint)
        self._hub.publish(SubscriptionsChanged())
        return removed

    def all(self) -> list[Subscription]:
        return self._store.subscriptions.all()

    def count(self, query: DeviceQuery | None = None) -> int:
        """All devices, or those ``query`` selects."""
        if query is None:
            return self._store.subscriptions.count()
        return self._store.subscriptions.listing_count(
            query, self.staleness().quiet_before(self._clock())
        )

    def page(self, query: DeviceQuery, offset: int, limit: int) -> list[DeviceRow]:
        """Devices ``offset`` to ``offset + limit`` of the listing, described."""
        now = self._clock()
        found = self._store.subscriptions.listing(
            query, self.staleness().quiet_before(now), offset, limit
        )
        return self._described(found, now)

    def every(self, query: DeviceQuery, page_size: int = 500) -> list[DeviceRow]:
        """The whole listing, read a page at a time from one snapshot, so a
        device removed meanwhile by another process shifts no page."""
        rows: list[DeviceRow] = []
        with self._store.snapshot():
            while True:
                page = self.page(query, len(rows), page_size)
                rows += page
                if len(page) < page_size:
                    return rows

    def device_row(self, subscription_id: int) -> DeviceRow:
        """One device as a listing describes it."""
        return self._described([self.get(subscription_id)], self._clock())[0]

    def _described(self, found: list[Subscription], now: datetime) -> list[DeviceRow]:
        staleness = self.staleness()
        ids = [s.id for s in found]
        failures = self._store.subscriptions.recent_failures(
            ids, now - timedelta(days=RECENT_FAILURES_DAYS)
        )
        warned = self._store.subscriptions.warned_at(ids)
        return [
            describe(s, now, failures.get(s.id, 0), staleness, warned.get(s.id))
            for s in found
        ]

    def staleness(self) -> Staleness:
        """When devices count as quiet and are removed, as the settings say."""
        return Staleness.of(SettingsService(self._store, self._hub).current())

    def get(self, subscription_id: int) -> Subscription:
        found = self._store.subscriptions.get(subscription_id)
        if found is None:
            raise NotFound(f"There is no device {subscription_id}; it may be gone.")
        return found

    def rename(self, subscription_id: int, label: str) -> Subscription:
        """Name a device, by the rule for names a page posts; empty is refused."""
        label = _check_label(label, self._settings().max_label_length)
        if not self._store.subscriptions.rename(subscription_id, label):
            raise NotFound(f"There is no device {subscription_id}; it may be gone.")
        UI.info("device %d renamed", subscription_id)
        self._hub.publish(SubscriptionsChanged())
        return self.get(subscription_id)

    def clear_label(self, subscription_id: int) -> Subscription:
        """Take a device's name away: it is listed as unnamed again."""
        if not self._store.subscriptions.rename(subscription_id, None):
            raise NotFound(f"There is no device {subscription_id}; it may be gone.")
        UI.info("device %d name cleared", subscription_id)
        self._hub.publish(SubscriptionsChanged())
        return self.get(subscription_id)

    def groups(self) -> list[str]:
        """Every group's name, in alphabetical order."""
        return self._store.subscriptions.group_names()

    def group_sizes(self) -> dict[str, int]:
        """Every group's name with how many devices are in it, by name."""
        return self._store.subscriptions.group_sizes()

    def group(self, name: str) -> str:
        """The stored spelling of the group ``name`` (case aside); else NotFound."""
        wanted = " ".join(name.split())
        if not wanted:
            raise InvalidInput("The group name is empty.", "groups")
        found = self._store.subscriptions.find_group(wanted)
        if found is None:
            raise NotFound(f"There is no group {wanted}.")
        return found

    def create_group(self, name: str, *, exist_ok: bool = True) -> str:
        """Add a group and return its name as stored.

        An existing group of that name (case aside) is returned as it is, or
        with ``exist_ok`` False refused.
        """
        checked = _group_name(name)
        with self._store.transaction():
            if not exist_ok:
                self._refuse_taken(checked)
            stored = self._store.subscriptions.create_group(checked)
        self._hub.publish(SubscriptionsChanged())
        return stored

    def rename_group(self, old: str, new: str) -> str:
        """Call a group by another name; return it as stored.

        Its devices stay in it, and the scheduled reminders that go to it
        follow the new name. A change of case alone is a rename too.
        """
        wanted = _group_name(new)
        with self._store.transaction():
            current = self.group(old)
            self._refuse_taken(wanted, current)
            # In one transaction: a weekly reminder keeps reaching the group.
            self._store.subscriptions.rename_group(current, wanted)
            following = self._store.reminders.rename_target_group(current, wanted)
        UI.info("group renamed; %d scheduled reminders follow it", len(following))
        self._hub.publish(SubscriptionsChanged())
        for reminder_id in following:
            self._hub.publish(ReminderChanged(reminder_id))
        return wanted

    def _refuse_taken(self, wanted: str, current: str | None = None) -> None:
        """InvalidInput if a group other than ``current`` is called ``wanted``."""
        taken = self._store.subscriptions.find_group(wanted)
        if taken is not None and taken != current:
            raise InvalidInput(f"There is already a group called {taken}.", "groups")

    def delete_group(self, name: str) -> int:
        """Delete a group; its devices stay, in their other groups. Returns
        how many devices were in it.

        Refused while a scheduled reminder goes to it: without the group that
        reminder would reach nobody, and silently.
        """
        with self._store.transaction():
            current = self.group(name)
            waiting = self._store.reminders.scheduled_for_group(current)
            if waiting:
                raise InvalidInput(_still_targeted(current, waiting), "groups")
            members = self._store.subscriptions.delete_group(current)
        UI.info("group deleted; %d devices left it", members)
        self._hub.publish(SubscriptionsChanged())
        return members

    def set_groups(self, subscription_id: int, names: Iterable[str]) -> Subscription:
        """Put a device in exactly these groups, creating the new ones."""
        checked = parse_groups({"groups": list(names)})
        with self._store.transaction():
            self.get(subscription_id)
            self._store.subscriptions.set_groups(subscription_id, checked)
        UI.info("device %d now in %d groups", subscription_id, len(checked))
        self._hub.publish(SubscriptionsChanged())
        return self.get(subscription_id)

    def add_to_groups(self, subscription_id: int, names: Iterable[str]) -> Subscription:
        """Put a device in these groups too, creating the new ones."""
        added = [_group_name(name) for name in names]
        with self._store.transaction():
            device = self.get(subscription_id)
            # The device's own spelling first: adding "kitchen" to a device in
            # "Kitchen" changes nothing.
            checked = parse_groups({"groups": [*device.groups, *added]})
            self._store.subscriptions.set_groups(subscription_id, checked)
        UI.info("device %d now in %d groups", subscription_id, len(checked))
        self._hub.publish(SubscriptionsChanged())
        return self.get(subscription_id)

    def remove_from_groups(
        self, subscription_id: int, names: Iterable[str]
    ) -> Subscription:
        """Take a device out of these groups; the groups stay.

        Every group must exist and hold the device, else nothing changes.
        """
        with self._store.transaction():
            device = self.get(subscription_id)
            leaving = {self.group(name) for name in names}
            outside = sorted(leaving - set(device.groups))
            if outside:
                noun = "group" if len(outside) == 1 else "groups"
                raise InvalidInput(
                    f"Device {subscription_id} is not in {noun} {', '.join(outside)}.",
                    "groups",
                )
            staying = [g for g in device.groups if g not in leaving]
            self._store.subscriptions.set_groups(subscription_id, staying)
        UI.info("device %d now in %d groups", subscription_id, len(staying))
        self._hub.publish(SubscriptionsChanged())
        return self.get(subscription_id)

    def remove_by_operator(self, subscription_id: int) -> Subscription:
        """Delete a device's row; its delivery log stays."""
        with self._store.transaction():
            removed = self.get(subscription_id)
            self._store.subscriptions.delete(subscription_id)
        UI.info("subscription %s removed by the operator", removed.short_endpoint)
        self._hub.publish(SubscriptionsChanged())
        return removed

    def send_test(self, subscription_id: int) -> Reminder:
        """Schedule a test reminder, due now, for this device alone.

        It goes through the scheduler and delivery like any reminder, so the
        outcome is in the delivery log.
        """
        now = self._clock()
        draft = ReminderDraft(
            TEST_TITLE,
            TEST_MESSAGE,
            None,
            now,
            target=Target(subscription_ids=(subscription_id,)),
            ttl=TEST_TTL_SECONDS,
            urgency=Urgency.HIGH,
        )
        with self._store.transaction():
            self.get(subscription_id)
            reminder = self._store.reminders.add(draft, now)
        UI.info("test reminder %d for device %d", reminder.id, subscription_id)
        self._hub.publish(ReminderChanged(reminder.id))
        return reminder

    def import_text(self, text: str, allowed_origins: Iterable[str]) -> ImportReport:
        """Add or update every valid item; report the others with the reason."""
        report = ImportReport()
        now = self._clock()
        longest = self._settings().max_label_length
        with self._store.transaction():
            for item in read_items(text):
                try:
                    subscription, groups = check_item(item, allowed_origins)
                    _check_length(subscription.label or "", longest)
                except InvalidInput as exc:
                    report.rejected.append((item.where, str(exc)))
                    continue
                _, created = self._store.subscriptions.upsert(subscription, now, groups)
                if created:
                    report.added += 1
                else:
                    report.updated += 1
        WEB.info("subscribers imported: %s", report.summary())
        self._hub.publish(SubscriptionsChanged())
        return report

    def export(self) -> list[dict[str, Any]]:
        return [export_document(s) for s in self._store.subscriptions.all()]


def _group_name(name: str) -> str:
    """A group name as stored: trimmed, printable, short, without commas."""
    if not name.strip():
        raise InvalidInput("The group name is empty.", "groups")
    (checked,) = parse_groups({"groups": [name]})
    return checked


def _still_targeted(group: str, reminder_ids: list[int]) -> str:
    numbers = ", ".join(map(str, reminder_ids))
    if len(reminder_ids) == 1:
        return (
            f"Reminder {numbers} still goes to group {group}; edit or cancel it first."
        )
    return f"Reminders {numbers} still go to group {group}; edit or cancel them first."


def _check_label(label: str, longest: int) -> str:
    """Printable text of at most ``longest`` characters, spaces collapsed."""
    try:
        # The rule for names a page posts: printable, no direction overrides,
        # nothing invisible, spaces collapsed.
        label = device_label(label)
    except ValueError as exc:
        raise InvalidInput(f"The name {exc}", "label") from None
    if not label:
        raise InvalidInput("The name is empty.", "label")
    return _check_length(label, longest)


def _check_length(label: str, longest: int) -> str:
    """The operator's limit (a setting) on the length of device names."""
    if len(label) > longest:
        raise InvalidInput(f"The name is longer than {longest} characters.", "label")
    return label
