"""How a device looks to the operator: its browser, platform and status.

Plain types for the Devices table and anything else that lists devices; no Qt,
no SQL. The store filters by the same status rules in SQL.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import ua_parser

from pushdesk.domain import Subscription

# A device not seen for this long has most likely been reset, uninstalled the
# page or lost its subscription without telling us.
# FIXME:settings: a fixed number until the operator can choose it in Settings.
STALE_AFTER_DAYS = 60

# Failures older than this say little about whether the device works today.
RECENT_FAILURES_DAYS = 7

UNKNOWN_BROWSER = "Unknown browser"


class DeviceStatus(StrEnum):
    ACTIVE = "active"
    FLAGGED = "flagged"  # the push service refused our credentials for it
    EXPIRED = "expired"  # not seen for STALE_AFTER_DAYS


class DeviceSort(StrEnum):
    """The orders a device listing offers; the store maps each to indexed SQL."""

    LABEL = "label"
    CREATED = "created"
    LAST_SEEN = "last_seen"


@dataclass(frozen=True)
class DeviceQuery:
    """Which devices to list and in what order. Empty fields filter nothing."""

    text: str = ""  # found in the label or the user agent
    group: str | None = None
    status: DeviceStatus | None = None
    sort: DeviceSort = DeviceSort.CREATED
    descending: bool = False


@dataclass(frozen=True)
class Software:
    """Browser and platform as read from a user agent."""

    browser: str
    platform: str

    def describe(self) -> str:
        if not self.platform:
            return self.browser
        return f"{self.browser} on {self.platform}"


@dataclass(frozen=True)
class DeviceRow:
    """One device as the operator sees it in a listing."""

    subscription: Subscription
    status: DeviceStatus
    software: Software
    recent_failures: int

    @property
    def id(self) -> int:
        return self.subscription.id

    @property
    def name(self) -> str:
        return self.subscription.label or f"Device {self.subscription.id}"


def stale_before(now: datetime) -> datetime:
    """Devices last seen before this moment count as expired."""
    return now - timedelta(days=STALE_AFTER_DAYS)


def status_of(subscription: Subscription, now: datetime) -> DeviceStatus:
    # Flagged wins: refused credentials need the operator, an old device not.
    if subscription.flag_reason is not None:
        return DeviceStatus.FLAGGED
    if subscription.last_seen_at < stale_before(now):
        return DeviceStatus.EXPIRED
    return DeviceStatus.ACTIVE


def software_of(user_agent: str | None) -> Software:
    """Browser and platform with their major versions, from a User-Agent header."""
    if not user_agent:
        return Software(UNKNOWN_BROWSER, "")

    parsed = ua_parser.parse(user_agent)
    browser = UNKNOWN_BROWSER
    if parsed.user_agent is not None and parsed.user_agent.family != "Other":
        browser = _versioned(parsed.user_agent.family, parsed.user_agent.major, None)
    platform = ""
    if parsed.os is not None and parsed.os.family != "Other":
        platform = _versioned(parsed.os.family, parsed.os.major, parsed.os.minor)
    return Software(browser, platform)


def describe(
    subscription: Subscription, now: datetime, recent_failures: int = 0
) -> DeviceRow:
    return DeviceRow(
        subscription=subscription,
        status=status_of(subscription, now),
        software=software_of(subscription.user_agent),
        recent_failures=recent_failures,
    )


def _versioned(family: str, major: str | None, minor: str | None) -> str:
    if not major:
        return family
    if not minor or minor == "0":
        return f"{family} {major}"
    return f"{family} {major}.{minor}"
