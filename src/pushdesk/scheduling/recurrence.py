"""Repeat rules for reminders, on the wall clock of an IANA time zone.

A rule names local wall-clock times ("21:00 every day in Europe/Berlin"), never a
fixed number of seconds, so a reminder keeps its local time across daylight
saving changes. Everything here is pure: the current time is always a parameter.

Where the wall clock and real time disagree, these rules hold:

* A wall time skipped when the clocks go forward fires once, at the first instant
  after the jump (02:30 on a night that jumps from 02:00 to 03:00 fires at 03:00).
  Several wall times inside one jump fire as that one occurrence.
* A wall time the clocks pass twice when they go back fires once, on the first
  pass, for "daily", "weekly", "monthly" and cron expressions with a fixed minute
  and hour. "every N minutes/hours" and cron expressions with ``*`` in the minute
  or hour field fire on both passes, so their rhythm in real time does not stop
  for the repeated hour; this is also how Vixie cron treats such jobs.
* "monthly" repeats on the anchor's day of the month; in months without that day
  (the 31st in April, the 30th in February) it fires on the month's last day.
* The anchor, the first occurrence, always counts as one, even when the rule
  itself would not produce it (a weekly rule anchored on a day it does not name).

Rules are stored with ``Recurrence.to_text``: compact JSON with sorted keys and a
format version, e.g.
``{"interval":15,"kind":"every","timezone":"Europe/Berlin","unit":"minutes","v":1}``.
"""

import json
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal, Self, TypeGuard, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, CroniterError, croniter
from dateutil.relativedelta import relativedelta
from dateutil.rrule import MONTHLY, WEEKLY, rrule

from pushdesk.errors import InvalidInput

Kind = Literal["every", "daily", "weekly", "monthly", "cron"]
Unit = Literal["minutes", "hours"]

FIELD: Final = "repeat"
MAX_INTERVAL: Final = 10_000
TEXT_VERSION: Final = 1

_DAY_NAMES: Final = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
_WORKDAYS: Final = (0, 1, 2, 3, 4)
_TICK: Final = timedelta(microseconds=1)
_TEXT_KEYS: Final = frozenset(
    {"v", "kind", "interval", "unit", "weekdays", "cron", "timezone"}
)
_UNITS: Final[dict[str, str]] = {
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), "minutes"),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "hours"),
    **dict.fromkeys(("d", "day", "days"), "days"),
    **dict.fromkeys(("w", "week", "weeks"), "weeks"),
    **dict.fromkeys(("month", "months"), "months"),
}
_EVERY = re.compile(r"every(?:\s+(\d+))?\s*([a-z]+)(?:\s+(.+))?")
_EXAMPLES: Final = (
    "try 'every 15m', 'every 2h', 'daily', 'every 2 days', 'weekly mon,wed,fri', "
    "'weekdays', 'monthly' or 'cron */5 * * * *'"
)
# Any fixed start will do: a cron expression that matches no date in the 50 years
# croniter searches from here matches none at all.
_CRON_PROBE: Final = datetime(2000, 1, 1)


def _is_kind(value: object) -> TypeGuard[Kind]:
    return value in get_args(Kind)


def _is_unit(value: object) -> TypeGuard[Unit]:
    return value in get_args(Unit)


def _is_weekday(value: object) -> bool:
    # bool is an int, and 1.0 == 1: neither belongs in a stored rule.
    return type(value) is int and 0 <= value <= 6


@dataclass(frozen=True)
class Recurrence:
    """How a reminder repeats; the time of day comes from its anchor."""

    kind: Kind
    interval: int = 1
    unit: Unit | None = None
    weekdays: tuple[int, ...] = ()
    cron: str | None = None
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        _check(self)

        # Rules that mean the same must compare and store the same, however the
        # days or the cron fields were written.
        object.__setattr__(self, "weekdays", tuple(sorted(set(self.weekdays))))
        if self.cron is not None:
            object.__setattr__(self, "cron", " ".join(self.cron.split()))

    def to_text(self) -> str:
        fields: dict[str, object] = {
            "v": TEXT_VERSION,
            "kind": self.kind,
            "timezone": self.timezone,
        }
        if self.kind != "cron":
            fields["interval"] = self.interval
        if self.unit is not None:
            fields["unit"] = self.unit
        if self.weekdays:
            fields["weekdays"] = list(self.weekdays)
        if self.cron is not None:
            fields["cron"] = self.cron

        return json.dumps(fields, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_text(cls, text: str) -> Self:
        fields = _load_object(text)

        kind = fields.get("kind")
        weekdays = fields.get("weekdays", [])
        timezone = fields.get("timezone")
        if not (
            _is_kind(kind) and isinstance(weekdays, list) and isinstance(timezone, str)
        ):
            raise InvalidInput("The stored repeat rule is damaged.", FIELD)

        # The constructor checks the remaining fields' types along with their values.
        return cls(
            kind,
            fields.get("interval", 1),
            fields.get("unit"),
            tuple(weekdays),
            fields.get("cron"),
            timezone,
        )

    def describe(self, anchor: datetime | None = None) -> str:
        """A phrase for people; with the anchor it includes the time of day."""
        wall = None
        if anchor is not None:
            _require_aware(anchor, "anchor")
            wall = _wall(anchor, ZoneInfo(self.timezone))

        if self.kind == "every":
            unit = "minute" if self.unit == "minutes" else "hour"
            return f"every {_counted(self.interval, unit)}"
        if self.kind == "cron":
            return f"cron {self.cron} ({self.timezone})"

        phrase = self._calendar_phrase(wall)
        if wall is not None:
            phrase += f" at {_clock_time(wall)}"
        return f"{phrase} ({self.timezone})"

    def _calendar_phrase(self, wall: datetime | None) -> str:
        if self.kind == "daily":
            return "daily" if self.interval == 1 else f"every {self.interval} days"

        if self.kind == "weekly":
            if self.weekdays == _WORKDAYS and self.interval == 1:
                return "every weekday"
            days = _listed([_DAY_NAMES[day][:3].title() for day in self.weekdays])
            every = "weekly" if self.interval == 1 else f"every {self.interval} weeks"
            return f"{every} on {days}"

        every = "monthly" if self.interval == 1 else f"every {self.interval} months"
        if wall is None:
            return every
        phrase = f"{every} on the {_ordinal(wall.day)}"
        if wall.day > 28:
            phrase += " (or the month's last day)"
        return phrase


def parse_rule(text: str, timezone: str) -> Recurrence:
    """A rule as written on the command line, e.g. "every 15m" or "weekdays"."""
    words = " ".join(text.lower().split())
    _zone(timezone)

    if words == "cron" or words.startswith("cron "):
        expression = text.strip()[len("cron") :].strip()
        return Recurrence("cron", cron=expression, timezone=timezone)
    if words in ("daily", "every day"):
        return Recurrence("daily", timezone=timezone)
    if words in ("weekdays", "every weekday"):
        return Recurrence("weekly", weekdays=_WORKDAYS, timezone=timezone)
    if words == "monthly":
        return Recurrence("monthly", timezone=timezone)
    if words == "weekly" or words.startswith("weekly "):
        days = _weekdays(words.removeprefix("weekly"))
        return Recurrence("weekly", weekdays=days, timezone=timezone)

    every = _EVERY.fullmatch(words)
    if every is None:
        raise InvalidInput(
            f"{text.strip()!r} is not a repeat rule; {_EXAMPLES}.", FIELD
        )
    return _every(every, timezone)


def next_occurrence(rule: Recurrence, anchor: datetime, after: datetime) -> datetime:
    """The first occurrence strictly after ``after``, in UTC.

    ``anchor`` is the first occurrence; its wall-clock time in the rule's zone
    is the time of day of all the others (and its day, the day of the month).
    """
    _require_aware(anchor, "anchor")
    _require_aware(after, "after")
    if after < anchor:
        return anchor.astimezone(UTC)

    zone = ZoneInfo(rule.timezone)
    walls = _walls_of(rule, _wall(anchor, zone))
    folds = (0, 1) if _fires_on_both_passes(rule) else (0,)

    # Each fold maps wall times to instants in order, so the earliest of the two
    # searches is the next occurrence, and the repeated hour cannot reorder them.
    return min(_first_after(walls, zone, after, fold) for fold in folds)


def occurrences_between(
    rule: Recurrence,
    anchor: datetime,
    start: datetime,
    end: datetime,
    *,
    limit: int = 100,
) -> list[datetime]:
    """Occurrences after ``start`` up to and including ``end``, in UTC.

    At most ``limit`` of them, the earliest; a full list means there may be more.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")

    found: list[datetime] = []
    moment = start
    while len(found) < limit:
        moment = next_occurrence(rule, anchor, moment)
        if moment > end:
            break
        found.append(moment)
    return found


def _check(rule: Recurrence) -> None:
    """Raise InvalidInput for a rule that cannot be evaluated or stored."""
    if not _is_kind(rule.kind):
        raise InvalidInput(f"{rule.kind!r} is not a kind of repeat rule.", FIELD)
    if isinstance(rule.interval, bool) or not isinstance(rule.interval, int):
        raise InvalidInput("The repeat interval must be a whole number.", FIELD)
    if not 1 <= rule.interval <= MAX_INTERVAL:
        raise InvalidInput(
            f"The repeat interval must be from 1 to {MAX_INTERVAL}.", FIELD
        )

    if rule.kind == "every" and not _is_unit(rule.unit):
        raise InvalidInput("An 'every' rule counts minutes or hours.", FIELD)
    if rule.kind != "every" and rule.unit is not None:
        raise InvalidInput("Only 'every' rules have a unit.", FIELD)
    if rule.kind == "weekly" and not rule.weekdays:
        raise InvalidInput("A weekly rule needs at least one weekday.", FIELD)
    if rule.kind != "weekly" and rule.weekdays:
        raise InvalidInput("Only weekly rules name weekdays.", FIELD)
    if not all(_is_weekday(day) for day in rule.weekdays):
        raise InvalidInput("Weekdays run from 0 (Monday) to 6 (Sunday).", FIELD)

    if rule.kind == "cron":
        if rule.interval != 1 or not isinstance(rule.cron, str):
            raise InvalidInput("A cron rule is its expression, nothing more.", FIELD)
        _check_cron(rule.cron)
    elif rule.cron is not None:
        raise InvalidInput("Only cron rules have a cron expression.", FIELD)

    _zone(rule.timezone)


def _check_cron(expression: str) -> None:
    fields = expression.split()
    if len(fields) != 5:
        raise InvalidInput(
            "A cron expression has 5 fields (minute hour day month weekday); "
            f"{expression.strip()!r} has {len(fields)}.",
            FIELD,
        )

    try:
        croniter(expression, _CRON_PROBE).get_next(datetime)
    except CroniterBadDateError:
        raise InvalidInput(
            f"The cron expression {expression!r} never matches a date.", FIELD
        ) from None
    except (CroniterError, ValueError, TypeError, KeyError):
        raise InvalidInput(
            f"{expression!r} is not a valid cron expression.", FIELD
        ) from None


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        raise InvalidInput(
            f"{name!r} is not an IANA time zone such as Europe/Berlin.", "timezone"
        ) from None


def _load_object(text: str) -> dict[str, Any]:
    try:
        fields = json.loads(text)
    except ValueError:
        raise InvalidInput("The stored repeat rule is not JSON.", FIELD) from None

    if not isinstance(fields, dict) or fields.get("v") != TEXT_VERSION:
        raise InvalidInput(
            "The stored repeat rule is in a format this pushdesk does not know.", FIELD
        )
    if not _TEXT_KEYS.issuperset(fields):
        raise InvalidInput("The stored repeat rule has unknown fields.", FIELD)
    return fields


def _every(match: re.Match[str], timezone: str) -> Recurrence:
    """Build a rule from "every [N] UNIT [DAYS]"."""
    count, word, rest = match.groups()
    interval = 1 if count is None else int(count)
    unit = _UNITS.get(word)
    if unit is None:
        raise InvalidInput(
            f"{word!r} is not a unit; use m, h, days, weeks or months.", FIELD
        )
    if rest is not None and unit != "weeks":
        raise InvalidInput(f"Unexpected {rest!r} after 'every {word}'.", FIELD)

    if _is_unit(unit):
        return Recurrence("every", interval, unit, timezone=timezone)
    if unit == "days":
        return Recurrence("daily", interval, timezone=timezone)
    if unit == "weeks":
        days = _weekdays(rest or "")
        return Recurrence("weekly", interval, weekdays=days, timezone=timezone)
    return Recurrence("monthly", interval, timezone=timezone)


def _weekdays(text: str) -> tuple[int, ...]:
    """Days such as "mon,wed,fri", "mon-fri" or "tuesday thursday"."""
    items = [item for item in re.split(r"[,\s]+", text) if item]
    if not items:
        raise InvalidInput(
            "Name the weekdays, e.g. 'weekly mon,wed,fri' or 'weekly mon-fri'.", FIELD
        )

    days: set[int] = set()
    for item in items:
        first, _, last = item.partition("-")
        if not last:
            days.add(_weekday(first))
            continue
        start, stop = _weekday(first), _weekday(last)
        # A range may wrap past Sunday, as in "fri-mon".
        days.update((start + step) % 7 for step in range((stop - start) % 7 + 1))
    return tuple(sorted(days))


def _weekday(name: str) -> int:
    if len(name) >= 3:
        for number, full_name in enumerate(_DAY_NAMES):
            if full_name.startswith(name):
                return number
    raise InvalidInput(f"{name!r} is not a weekday; write mon, tue, … sun.", FIELD)


def _require_aware(moment: datetime, name: str) -> None:
    if moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")


def _wall(moment: datetime, zone: ZoneInfo) -> datetime:
    """What a clock on the wall in ``zone`` shows at ``moment``, as a naive time."""
    return moment.astimezone(zone).replace(tzinfo=None, fold=0)


def _instant(wall: datetime, zone: ZoneInfo, fold: int) -> datetime:
    """The instant, in UTC, at which the wall clock in ``zone`` shows ``wall``.

    ``fold`` picks the pass of a repeated wall time; a skipped one is the instant
    the clocks jumped forward, whatever the fold.
    """
    moment = wall.replace(tzinfo=zone, fold=fold).astimezone(UTC)
    if _wall(moment, zone) == wall:
        return moment
    return _end_of_gap(wall, zone)


def _end_of_gap(wall: datetime, zone: ZoneInfo) -> datetime:
    """The instant the clocks jumped over the skipped ``wall``, in UTC."""
    # Read with the offsets from just before and just after the jump, the skipped
    # time lands on either side of it; halve that bracket down to the microsecond.
    earlier, later = sorted(
        wall.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)
    )

    while later - earlier > _TICK:
        middle = earlier + (later - earlier) // 2
        if _wall(middle, zone) > wall:
            later = middle
        else:
            earlier = middle
    return later


class _WallTimes(ABC):
    """The wall times a rule fires at, the first being the anchor's (``start``)."""

    def __init__(self, start: datetime) -> None:
        self.start = start

    def at_or_before(self, wall: datetime) -> datetime | None:
        if wall < self.start:
            return None
        found = self._latest(wall)
        return found if found is not None and found > self.start else self.start

    def after(self, wall: datetime) -> datetime:
        if wall < self.start:
            return self.start
        return self._next(wall)

    @abstractmethod
    def _latest(self, wall: datetime) -> datetime | None:
        """The rule's latest wall time at or before ``wall`` (>= start)."""

    @abstractmethod
    def _next(self, wall: datetime) -> datetime:
        """The rule's first wall time after ``wall`` (>= start)."""


class _Steps(_WallTimes):
    """Equal steps of the wall clock; computed, so any distance costs the same."""

    def __init__(self, start: datetime, step: timedelta) -> None:
        super().__init__(start)
        self.step = step

    def _latest(self, wall: datetime) -> datetime:
        return self.start + self.step * ((wall - self.start) // self.step)

    def _next(self, wall: datetime) -> datetime:
        return self._latest(wall) + self.step


class _RRuleTimes(_WallTimes):
    """Wall times from a dateutil rrule restarted near each question asked.

    rrule walks from its dtstart, so each question builds one that starts a
    period or two earlier than needed; whole periods keep the rule's phase.
    rrule also drops microseconds, which are taken off and put back here.
    """

    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self.fraction = timedelta(microseconds=start.microsecond)

    def _latest(self, wall: datetime) -> datetime | None:
        found = self._rule_near(wall).before(wall - self.fraction, inc=True)
        return None if found is None else found + self.fraction

    def _next(self, wall: datetime) -> datetime:
        found = self._rule_near(wall).after(wall - self.fraction)
        if found is None:
            raise AssertionError("an rrule without an end ran out of dates")
        return found + self.fraction

    @abstractmethod
    def _rule_near(self, wall: datetime) -> rrule:
        """A rule with the same dates from a period before ``wall`` on."""


class _Weekly(_RRuleTimes):
    def __init__(
        self, start: datetime, interval: int, weekdays: tuple[int, ...]
    ) -> None:
        super().__init__(start)
        self.interval = interval
        self.weekdays = weekdays

    def _rule_near(self, wall: datetime) -> rrule:
        period = timedelta(weeks=self.interval)
        periods = max(0, (wall - self.start) // period - 1)
        return rrule(
            WEEKLY,
            dtstart=self.start.replace(microsecond=0) + period * periods,
            interval=self.interval,
            byweekday=self.weekdays,
            wkst=0,
        )


class _Monthly(_RRuleTimes):
    def __init__(self, start: datetime, interval: int) -> None:
        super().__init__(start)
        self.interval = interval

    def _rule_near(self, wall: datetime) -> rrule:
        months = (wall.year - self.start.year) * 12 + wall.month - self.start.month
        periods = max(0, months // self.interval - 1)
        first_of_month = self.start.replace(day=1, microsecond=0)

        # Days 29-31 ask for the last of those that the month has, so a month
        # too short for the anchor's day fires on its last day instead.
        day = self.start.day
        return rrule(
            MONTHLY,
            dtstart=first_of_month + relativedelta(months=self.interval * periods),
            interval=self.interval,
            bymonthday=tuple(range(min(day, 28), day + 1)),
            bysetpos=-1 if day > 28 else None,
        )


class _Cron(_WallTimes):
    def __init__(self, start: datetime, expression: str) -> None:
        super().__init__(start)
        self.expression = expression

    def _latest(self, wall: datetime) -> datetime:
        # get_prev is strictly earlier than its start; a tick later includes wall.
        return croniter(self.expression, wall + _TICK).get_prev(datetime)

    def _next(self, wall: datetime) -> datetime:
        return croniter(self.expression, wall).get_next(datetime)


def _walls_of(rule: Recurrence, start: datetime) -> _WallTimes:
    if rule.kind == "every":
        unit = timedelta(hours=1) if rule.unit == "hours" else timedelta(minutes=1)
        return _Steps(start, unit * rule.interval)
    if rule.kind == "daily":
        return _Steps(start, timedelta(days=rule.interval))
    if rule.kind == "weekly":
        return _Weekly(start, rule.interval, rule.weekdays)
    if rule.kind == "monthly":
        return _Monthly(start, rule.interval)
    assert rule.cron is not None  # _check makes every cron rule carry one
    return _Cron(start, rule.cron)


def _fires_on_both_passes(rule: Recurrence) -> bool:
    if rule.kind == "every":
        return True
    if rule.kind == "cron" and rule.cron is not None:
        minute, hour = rule.cron.split()[:2]
        return minute.startswith("*") or hour.startswith("*")
    return False


def _first_after(
    walls: _WallTimes, zone: ZoneInfo, after: datetime, fold: int
) -> datetime:
    """The earliest instant after ``after`` among the wall times read with ``fold``.

    Read with one fold, a later wall time is never an earlier instant, which is
    what lets this step from a nearby wall time instead of from the anchor.
    """
    wall = walls.at_or_before(_wall(after, zone))
    if wall is None:
        wall = walls.start

    # Read on the second pass, wall times in the repeated hour are instants later
    # than ``after`` when it falls in the first pass; earlier ones may be too.
    while _instant(wall, zone, fold) > after:
        earlier = walls.at_or_before(wall - _TICK)
        if earlier is None:
            break
        wall = earlier

    moment = _instant(wall, zone, fold)
    while moment <= after:
        wall = walls.after(wall)
        moment = _instant(wall, zone, fold)
    return moment


def _counted(count: int, noun: str) -> str:
    return noun if count == 1 else f"{count} {noun}s"


def _listed(items: list[str]) -> str:
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} and {items[-1]}"


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10)
    return f"{day}{suffix or 'th'}"


def _clock_time(wall: datetime) -> str:
    return f"{wall:%H:%M:%S}" if wall.second else f"{wall:%H:%M}"
