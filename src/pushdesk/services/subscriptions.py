"""Devices: registering, proving ownership, importing and exporting them."""

import hmac
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from pushdesk.clock import Clock
from pushdesk.domain import (
    Replacement,
    Subscription,
    SubscriptionInput,
)
from pushdesk.errors import InvalidInput, NotFound
from pushdesk.events import EventHub, SubscriptionsChanged
from pushdesk.log import WEB
from pushdesk.store import Store
from pushdesk.transfer import ImportReport, check_item, export_document, read_items


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
        """
        with self._store.transaction():
            old = self._owned(replaces) if replaces else None
            if old is not None and subscription.label is None:
                subscription = replace(subscription, label=old.label or "")
            groups = old.groups if old is not None else None
            stored, created = self._store.subscriptions.upsert(
                subscription, self._clock(), groups
            )
            if old is not None and old.id != stored.id:
                self._store.subscriptions.delete(old.id)
                WEB.info("%s replaced %s", stored.short_endpoint, old.short_endpoint)
        if created:
            WEB.info("new subscription %s", stored.short_endpoint)
        self._hub.publish(SubscriptionsChanged())
        return stored, created

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

    def count(self) -> int:
        return self._store.subscriptions.count()

    def import_text(self, text: str, allowed_origins: Iterable[str]) -> ImportReport:
        """Add or update every valid item; report the others with the reason."""
        report = ImportReport()
        now = self._clock()
        with self._store.transaction():
            for item in read_items(text):
                try:
                    subscription, groups = check_item(item, allowed_origins)
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
