"""Moving devices in and out: ``pushdesk subscribers import`` and ``export``.

The file holds what browsers give (``PushSubscription.toJSON()``), optionally
with ``label`` and ``groups``: a JSON array, or one object per line. Import
uses the very checks of the API, so a file cannot smuggle in what a browser
could not.
"""

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pushdesk.domain import Subscription
from pushdesk.errors import InvalidInput
from pushdesk.validation import parse_groups, parse_subscription


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (where, why)

    def summary(self) -> str:
        return (
            f"{self.added} added, {self.updated} updated, {len(self.rejected)} rejected"
        )


@dataclass(frozen=True)
class ImportItem:
    where: str  # "line 3" or "item 3", for the report
    document: Any


def read_items(text: str) -> Iterator[ImportItem]:
    """Items of a JSON array, or of JSON lines; a broken line is its own item.

    A single (pretty-printed) object is one item.
    """
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("{"):
        try:
            yield ImportItem("item 1", json.loads(stripped))
            return
        except ValueError:
            pass  # several objects, one per line
        except RecursionError:
            raise InvalidInput(
                "The file nests too deeply to be a subscription."
            ) from None
    if stripped.startswith("["):
        try:
            documents = json.loads(stripped)
        except ValueError as exc:
            raise InvalidInput(f"The file is not a valid JSON array: {exc}.") from None
        except RecursionError:
            raise InvalidInput(
                "The file nests too deeply to be a subscription."
            ) from None
        if not isinstance(documents, list):
            raise InvalidInput("The file must hold a JSON array or JSON lines.")
        for number, each in enumerate(documents, start=1):
            yield ImportItem(f"item {number}", each)
        return

    for number, line in enumerate(stripped.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            document: Any = json.loads(line)
        except (ValueError, RecursionError):
            document = _Unreadable()
        yield ImportItem(f"line {number}", document)


class _Unreadable:
    """Stands for a line that is not JSON, so it is reported, not fatal."""


def check_item(
    item: ImportItem, allowed_origins: Iterable[str]
) -> tuple[Any, list[str] | None]:
    """The validated subscription and groups of one item, or InvalidInput.

    Groups are None when the item names none: a known device then keeps its
    own (an item from a browser, or a file written by hand, says nothing of
    them); a list, even empty, replaces them, as an export says them all.
    """
    if isinstance(item.document, _Unreadable):
        raise InvalidInput("This is not valid JSON.")
    subscription = parse_subscription(item.document, allowed_origins)
    if "groups" not in item.document:
        return subscription, None
    return subscription, parse_groups(item.document)


def export_document(subscription: Subscription) -> dict[str, Any]:
    """The same shape import reads (keys included: they are needed to send)."""
    return {
        "endpoint": subscription.endpoint,
        "expirationTime": None,
        "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
        "label": subscription.label,
        "groups": list(subscription.groups),
    }
