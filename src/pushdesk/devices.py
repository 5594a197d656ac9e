"""How a device looks to the operator: its browser, platform and status.

Plain types for the Devices table and anything else that lists devices; no Qt,
no SQL. The store filters by the same status rules in SQL.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import ua_parser

from pushdesk.domain import Subscription
from pushdesk.settings import (
    DEFAULT_REMOVE_AFTER_WARNING_DAYS,
    DEFAULT_STALE_AFTER_DAYS,
    OperatorSettings,
)

# Failures older than this say little about whether the device works today.
RECENT_FAILURES_DAYS = 7

UNKNOWN_BROWSER = "Unknown browser"


class DeviceStatus(StrEnum):
    ACTIVE = "active"
    FLAGGED = "flagged"  # the push service refused our credentials for it
    EXPIRED = "expired"  # not seen for the stale_after_days setting
    WARNED = "warned"  # told by a push that it is removed unless seen again


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
    removal_at: datetime | None = None  # when a warned device is removed

    @property
    def id(self) -> int:
        return self.subscription.id

    @property
    def name(self) -> str:
        return self.subscription.label or f"Device {self.subscription.id}"


@dataclass(frozen=True)
class Staleness:
    """When an unseen device counts as quiet (and is warned), and how long
    after the warning a device that stays quiet is removed."""

    quiet_after: timedelta = timedelta(days=DEFAULT_STALE_AFTER_DAYS)
    grace: timedelta = timedelta(days=DEFAULT_REMOVE_AFTER_WARNING_DAYS)

    @classmethod
    def of(cls, settings: OperatorSettings) -> "Staleness":
        return cls(
            timedelta(days=settings.stale_after_days),
            timedelta(days=settings.remove_after_warning_days),
        )

    def quiet_before(self, now: datetime) -> datetime:
        """Devices last seen before this moment are quiet (shown as expired)."""
        return now - self.quiet_after

    def removal_at(self, warned_at: datetime) -> datetime:
        return warned_at + self.grace

    def warned_before(self, now: datetime) -> datetime:
        """Devices warned before this moment (and quiet since) are removed."""
        return now - self.grace


DEFAULT_STALENESS = Staleness()


def status_of(
    subscription: Subscription,
    now: datetime,
    staleness: Staleness = DEFAULT_STALENESS,
    warned_at: datetime | None = None,
) -> DeviceStatus:
    # Flagged wins: refused credentials need the operator, an old device not.
    # A warning is cleared when the device posts again, so it is always quiet.
    if subscription.flag_reason is not None:
        return DeviceStatus.FLAGGED
    if warned_at is not None:
        return DeviceStatus.WARNED
    if subscription.last_seen_at < staleness.quiet_before(now):
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
    subscription: Subscription,
    now: datetime,
    recent_failures: int = 0,
    staleness: Staleness = DEFAULT_STALENESS,
    warned_at: datetime | None = None,
) -> DeviceRow:
    """The device as listed; ``warned_at`` is when hygiene warned it, if it did."""
    status = status_of(subscription, now, staleness, warned_at)
    removal_at = None
    if status is DeviceStatus.WARNED and warned_at is not None:
        removal_at = staleness.removal_at(warned_at)
    return DeviceRow(
        subscription=subscription,
        status=status,
        software=software_of(subscription.user_agent),
        recent_failures=recent_failures,
        removal_at=removal_at,
    )


def _versioned(family: str, major: str | None, minor: str | None) -> str:
    if not major:
        return family
    if not minor or minor == "0":
        return f"{family} {major}"
    return f"{family} {major}.{minor}"
