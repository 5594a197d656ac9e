import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from pushdesk.errors import InvalidInput
from pushdesk.scheduling.recurrence import (
    Recurrence,
    next_occurrence,
    occurrences_between,
    parse_rule,
)

BERLIN = ZoneInfo("Europe/Berlin")


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def berlin(
    year: int, month: int, day: int, hour: int, minute: int, fold: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN, fold=fold)


def following(rule: Recurrence, anchor: datetime, count: int) -> list[datetime]:
    """The anchor and the ``count - 1`` occurrences after it."""
    found = [next_occurrence(rule, anchor, anchor - timedelta(microseconds=1))]
    while len(found) < count:
        found.append(next_occurrence(rule, anchor, found[-1]))
    return found


def in_year(
    rule: Recurrence, anchor: datetime, year: int, zone: ZoneInfo
) -> list[datetime]:
    """Every occurrence whose local date falls in ``year``."""
    found: list[datetime] = []
    moment = anchor - timedelta(microseconds=1)
    while True:
        moment = next_occurrence(rule, anchor, moment)
        if moment.astimezone(zone).year > year:
            return found
        found.append(moment)


def clock_times(moments: list[datetime], zone: ZoneInfo = BERLIN) -> list[str]:
    return [f"{moment.astimezone(zone):%m-%d %H:%M%z}" for moment in moments]


# Wall clock and daylight saving time


def test_daily_keeps_its_local_time_across_the_autumn_change() -> None:
    rule = parse_rule("daily", "Europe/Berlin")
    anchor = berlin(2026, 10, 15, 21, 0)

    before = next_occurrence(rule, anchor, utc(2026, 10, 24, 12))
    on_the_day = next_occurrence(rule, anchor, before)
    day_after = next_occurrence(rule, anchor, on_the_day)

    assert before == utc(2026, 10, 24, 19)
    assert on_the_day == utc(2026, 10, 25, 20)
    assert day_after == utc(2026, 10, 26, 20)
    assert day_after.tzinfo is UTC


def test_a_skipped_wall_time_fires_once_when_the_clocks_jump() -> None:
    rule = parse_rule("daily", "Europe/Berlin")
    anchor = berlin(2026, 3, 20, 2, 30)

    found = occurrences_between(rule, anchor, utc(2026, 3, 28, 12), utc(2026, 3, 31))

    assert clock_times(found) == [
        "03-29 03:00+0200",
        "03-30 02:30+0200",
    ]
    assert found[0] == utc(2026, 3, 29, 1)


def test_a_repeated_wall_time_fires_once_on_the_first_pass() -> None:
    rule = parse_rule("daily", "Europe/Berlin")
    anchor = berlin(2026, 10, 1, 2, 30)

    found = occurrences_between(rule, anchor, utc(2026, 10, 24, 12), utc(2026, 10, 27))

    assert found == [utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)]


def test_daily_fires_exactly_once_on_every_day_of_a_year_with_two_changes() -> None:
    rule = parse_rule("daily", "Europe/Berlin")
    anchor = berlin(2026, 1, 1, 2, 30)

    found = in_year(rule, anchor, 2026, BERLIN)

    per_day = Counter(moment.astimezone(BERLIN).date() for moment in found)
    assert len(found) == 365
    assert set(per_day.values()) == {1}
    assert per_day[date(2026, 3, 29)] == per_day[date(2026, 10, 25)] == 1
    assert found == sorted(set(found))


def test_the_skipped_time_is_the_jump_in_other_zones_too() -> None:
    new_york = ZoneInfo("America/New_York")
    lord_howe = ZoneInfo("Australia/Lord_Howe")  # moves its clocks by 30 minutes

    us = next_occurrence(
        parse_rule("daily", "America/New_York"),
        datetime(2026, 3, 1, 2, 30, tzinfo=new_york),
        utc(2026, 3, 8),
    )
    australia = next_occurrence(
        parse_rule("daily", "Australia/Lord_Howe"),
        datetime(2026, 9, 1, 2, 15, tzinfo=lord_howe),
        utc(2026, 10, 3, 12),
    )

    assert us == utc(2026, 3, 8, 7)
    assert f"{us.astimezone(new_york):%H:%M}" == "03:00"
    assert f"{australia.astimezone(lord_howe):%m-%d %H:%M}" == "10-04 02:30"


def test_a_skipped_day_fires_once_at_the_jump() -> None:
    apia = ZoneInfo("Pacific/Apia")  # went from 29 to 31 December 2011
    rule = parse_rule("daily", "Pacific/Apia")
    anchor = datetime(2011, 12, 27, 9, 0, tzinfo=apia)

    found = following(rule, anchor, 5)

    assert clock_times(found, apia) == [
        "12-27 09:00-1000",
        "12-28 09:00-1000",
        "12-29 09:00-1000",
        "12-31 00:00+1400",
        "12-31 09:00+1400",
    ]


def test_an_anchor_on_the_second_pass_is_the_first_occurrence() -> None:
    rule = parse_rule("daily", "Europe/Berlin")
    anchor = berlin(2026, 10, 25, 2, 30, fold=1)

    found = following(rule, anchor, 2)

    assert found == [utc(2026, 10, 25, 1, 30), utc(2026, 10, 26, 1, 30)]


# "every N minutes/hours"


@pytest.mark.parametrize(
    "night", [utc(2026, 3, 28, 22), utc(2026, 10, 24, 22)], ids=["spring", "autumn"]
)
def test_every_15_minutes_keeps_its_real_rhythm_through_the_change(
    night: datetime,
) -> None:
    rule = parse_rule("every 15m", "Europe/Berlin")

    found = following(rule, night, 6 * 4 + 1)

    assert all(
        later - earlier == timedelta(minutes=15) for earlier, later in pairwise(found)
    )


def test_every_hours_fires_on_both_passes_of_the_repeated_hour() -> None:
    rule = parse_rule("every 1h", "Europe/Berlin")

    found = following(rule, berlin(2026, 10, 25, 0, 30), 5)

    assert clock_times(found) == [
        "10-25 00:30+0200",
        "10-25 01:30+0200",
        "10-25 02:30+0200",
        "10-25 02:30+0100",
        "10-25 03:30+0100",
    ]


def test_every_hours_folds_skipped_times_into_the_jump() -> None:
    rule = parse_rule("every 2h", "Europe/Berlin")

    found = following(rule, berlin(2026, 3, 28, 22, 30), 4)

    assert clock_times(found) == [
        "03-28 22:30+0100",
        "03-29 00:30+0100",
        "03-29 03:00+0200",
        "03-29 04:30+0200",
    ]


@pytest.mark.parametrize("text", ["every 45m", "every 90m", "every 5h"])
def test_every_is_strictly_increasing_on_its_grid_all_year(text: str) -> None:
    rule = parse_rule(text, "Europe/Berlin")
    anchor = berlin(2026, 1, 1, 0, 10)
    step = rule.interval * (60 if rule.unit == "hours" else 1)

    found = in_year(rule, anchor, 2026, BERLIN)

    assert all(earlier < later for earlier, later in pairwise(found))
    off_grid = [
        moment
        for moment in found
        if _minutes_since(anchor, moment.astimezone(BERLIN)) % step
    ]
    assert {f"{moment.astimezone(BERLIN):%m-%d %H:%M}" for moment in off_grid} <= {
        "03-29 03:00"
    }


def _minutes_since(anchor: datetime, local: datetime) -> int:
    """Wall-clock minutes, ignoring offsets, as the rule counts them."""
    wall = local.replace(tzinfo=None) - anchor.replace(tzinfo=None)
    return int(wall.total_seconds()) // 60


# Weekly, monthly and cron


def test_weekly_fires_on_the_named_days_at_the_anchors_time() -> None:
    rule = parse_rule("weekly mon,wed,fri", "Europe/Berlin")

    found = following(rule, berlin(2026, 3, 23, 9, 0), 5)

    assert clock_times(found) == [
        "03-23 09:00+0100",
        "03-25 09:00+0100",
        "03-27 09:00+0100",
        "03-30 09:00+0200",
        "04-01 09:00+0200",
    ]


def test_weekly_on_sunday_at_a_changing_hour() -> None:
    rule = parse_rule("weekly sun", "Europe/Berlin")
    anchor = berlin(2026, 3, 1, 2, 30)

    spring = next_occurrence(rule, anchor, utc(2026, 3, 28))
    autumn = next_occurrence(rule, anchor, utc(2026, 10, 24))

    assert spring == utc(2026, 3, 29, 1)
    assert autumn == utc(2026, 10, 25, 0, 30)


def test_every_other_week_matches_a_count_of_weeks_for_three_years() -> None:
    rule = parse_rule("every 2 weeks tue,sat", "Europe/Berlin")
    anchor = berlin(2026, 1, 6, 7, 45)  # a Tuesday

    found = following(rule, anchor, 157)

    expected = [
        berlin(day.year, day.month, day.day, 7, 45)
        for day in (date(2026, 1, 5) + timedelta(days=n) for n in range(3 * 366))
        if day.weekday() in (1, 5) and (day - date(2026, 1, 5)).days // 7 % 2 == 0
    ]
    assert found == expected[: len(found)]


def test_the_anchor_counts_even_on_a_day_the_rule_does_not_name() -> None:
    rule = parse_rule("weekly mon", "UTC")

    found = following(rule, utc(2026, 1, 7, 8), 3)  # a Wednesday

    assert found == [utc(2026, 1, 7, 8), utc(2026, 1, 12, 8), utc(2026, 1, 19, 8)]


def test_weekdays_skip_the_weekend() -> None:
    rule = parse_rule("weekdays", "UTC")

    found = following(rule, utc(2026, 1, 8, 8), 4)  # a Thursday

    assert [moment.day for moment in found] == [8, 9, 12, 13]


def test_monthly_on_the_31st_falls_back_to_the_last_day_of_shorter_months() -> None:
    rule = parse_rule("monthly", "Europe/Berlin")

    found = following(rule, berlin(2027, 12, 31, 9, 0), 6)

    assert clock_times(found) == [
        "12-31 09:00+0100",
        "01-31 09:00+0100",
        "02-29 09:00+0100",
        "03-31 09:00+0200",
        "04-30 09:00+0200",
        "05-31 09:00+0200",
    ]


def test_every_two_months_counts_from_the_anchor_month() -> None:
    rule = parse_rule("every 2 months", "UTC")

    found = following(rule, utc(2026, 1, 30, 12), 4)

    assert found == [
        utc(2026, 1, 30, 12),
        utc(2026, 3, 30, 12),
        utc(2026, 5, 30, 12),
        utc(2026, 7, 30, 12),
    ]


def test_cron_is_evaluated_on_the_zones_wall_clock() -> None:
    rule = parse_rule("cron 0 9 * * mon-fri", "Europe/Berlin")

    found = occurrences_between(
        rule, berlin(2026, 3, 26, 9, 0), utc(2026, 3, 26, 12), utc(2026, 3, 31, 12)
    )

    assert found == [utc(2026, 3, 27, 8), utc(2026, 3, 30, 7), utc(2026, 3, 31, 7)]


def test_cron_every_five_minutes() -> None:
    rule = parse_rule("cron */5 * * * *", "UTC")

    found = next_occurrence(rule, utc(2026, 1, 1), utc(2026, 5, 5, 10, 7, 30))

    assert found == utc(2026, 5, 5, 10, 10)


def test_a_fixed_time_cron_fires_once_on_each_change_day() -> None:
    rule = parse_rule("cron 30 2 * * *", "Europe/Berlin")

    found = in_year(rule, berlin(2026, 1, 1, 2, 30), 2026, BERLIN)

    per_day = Counter(moment.astimezone(BERLIN).date() for moment in found)
    assert len(found) == 365
    assert set(per_day.values()) == {1}
    assert utc(2026, 3, 29, 1) in found
    assert utc(2026, 10, 25, 0, 30) in found


def test_an_hourly_cron_fires_on_both_passes_of_the_repeated_hour() -> None:
    rule = parse_rule("cron 0 * * * *", "Europe/Berlin")

    found = occurrences_between(
        rule, utc(2026, 10, 1), utc(2026, 10, 24, 23, 30), utc(2026, 10, 25, 3)
    )

    assert found == [utc(2026, 10, 25, hour) for hour in range(4)]


# Distance, missed occurrences


@pytest.mark.parametrize(
    "text",
    ["every 15m", "every 7h", "daily", "every 3 days", "weekly mon,thu", "monthly"],
)
def test_a_far_after_gives_the_same_answer_as_walking_there(text: str) -> None:
    rule = parse_rule(text, "Europe/Berlin")
    anchor = berlin(2026, 1, 31, 2, 30)
    walked = following(rule, anchor, 400)

    for earlier, later in pairwise(walked):
        assert next_occurrence(rule, anchor, earlier + timedelta(seconds=1)) == later


@pytest.mark.parametrize(
    "text",
    ["every 15m", "every 1h", "daily", "weekly mon", "monthly", "cron */5 * * * *"],
)
def test_three_years_ahead_is_computed_directly(text: str) -> None:
    rule = parse_rule(text, "Europe/Berlin")
    anchor = berlin(2026, 1, 31, 9, 0)

    started = time.perf_counter()
    found = next_occurrence(rule, anchor, utc(2029, 6, 1, 0, 1))
    elapsed = time.perf_counter() - started

    assert utc(2029, 6, 1, 0, 1) < found < utc(2029, 7, 1)
    assert elapsed < 0.5


def test_occurrences_between_lists_those_missed_in_a_window() -> None:
    rule = parse_rule("every 15m", "UTC")
    anchor = utc(2026, 1, 1)

    missed = occurrences_between(rule, anchor, utc(2026, 1, 1, 9), utc(2026, 1, 1, 10))

    assert missed == [utc(2026, 1, 1, 9, 15 * n) for n in (1, 2, 3)] + [
        utc(2026, 1, 1, 10)
    ]


def test_occurrences_between_stops_at_the_limit() -> None:
    rule = parse_rule("every 1m", "UTC")
    anchor = utc(2026, 1, 1)

    capped = occurrences_between(rule, anchor, anchor, utc(2036, 1, 1), limit=50)

    assert len(capped) == 50
    assert capped[-1] == utc(2026, 1, 1, 0, 50)
    with pytest.raises(ValueError, match="limit"):
        occurrences_between(rule, anchor, anchor, utc(2036, 1, 1), limit=0)


def test_before_the_anchor_the_anchor_is_next() -> None:
    rule = parse_rule("daily", "Europe/Berlin")
    anchor = berlin(2026, 5, 1, 8, 0)

    assert next_occurrence(rule, anchor, utc(2020, 1, 1)) == utc(2026, 5, 1, 6)
    assert next_occurrence(rule, anchor, anchor) == utc(2026, 5, 2, 6)


def test_fractions_of_a_second_in_the_anchor_are_kept() -> None:
    anchor = utc(2026, 1, 5, 9).replace(microsecond=250_000)

    for text in ["daily", "weekly mon", "monthly"]:
        later = following(parse_rule(text, "UTC"), anchor, 2)[1]
        assert later.microsecond == 250_000


def test_naive_times_are_refused() -> None:
    rule = parse_rule("daily", "UTC")

    with pytest.raises(ValueError, match="after"):
        next_occurrence(rule, utc(2026, 1, 1), datetime(2026, 2, 1))
    with pytest.raises(ValueError, match="anchor"):
        next_occurrence(rule, datetime(2026, 1, 1), utc(2026, 2, 1))


# Parsing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("every 15m", Recurrence("every", 15, "minutes")),
        ("Every 15 Minutes", Recurrence("every", 15, "minutes")),
        ("every minute", Recurrence("every", 1, "minutes")),
        ("every 2h", Recurrence("every", 2, "hours")),
        ("every hour", Recurrence("every", 1, "hours")),
        ("daily", Recurrence("daily")),
        ("every day", Recurrence("daily")),
        ("every 2 days", Recurrence("daily", 2)),
        ("weekly mon,wed,fri", Recurrence("weekly", weekdays=(0, 2, 4))),
        ("weekly  Friday, monday", Recurrence("weekly", weekdays=(0, 4))),
        ("weekly fri-mon", Recurrence("weekly", weekdays=(0, 4, 5, 6))),
        ("every 2 weeks sat", Recurrence("weekly", 2, weekdays=(5,))),
        ("weekdays", Recurrence("weekly", weekdays=(0, 1, 2, 3, 4))),
        ("monthly", Recurrence("monthly")),
        ("every 3 months", Recurrence("monthly", 3)),
        ("cron */5 * * * *", Recurrence("cron", cron="*/5 * * * *")),
        ("cron  0  9 * *  MON-FRI", Recurrence("cron", cron="0 9 * * MON-FRI")),
    ],
)
def test_parse_rule_reads_the_cli_syntax(text: str, expected: Recurrence) -> None:
    assert parse_rule(text, "UTC") == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "not a repeat rule"),
        ("sometimes", "not a repeat rule"),
        ("every 15x", "'x' is not a unit"),
        ("every 0m", "from 1 to"),
        ("every 100000h", "from 1 to"),
        ("every 2 days mon", "Unexpected 'mon'"),
        ("weekly", "Name the weekdays"),
        ("every 2 weeks", "Name the weekdays"),
        ("weekly mon,funday", "'funday' is not a weekday"),
        ("weekly mo", "'mo' is not a weekday"),
        ("cron", "5 fields"),
        ("cron */5 * * *", "has 4"),
        ("cron 0 0 * * * *", "has 6"),
        ("cron @daily", "has 1"),
        ("cron 61 * * * *", "not a valid cron expression"),
        ("cron 0 0 31 4 *", "never matches"),
    ],
)
def test_parse_rule_names_the_problem(text: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem) as raised:
        parse_rule(text, "UTC")

    assert raised.value.field == "repeat"


@pytest.mark.parametrize("zone", ["Mars/Olympus", "europe/berlin", "", "../etc/x"])
def test_parse_rule_names_an_unknown_zone(zone: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_rule("daily", zone)

    assert repr(zone) in str(raised.value)
    assert raised.value.field == "timezone"


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "every", "interval": 5},
        {"kind": "daily", "unit": "minutes"},
        {"kind": "weekly"},
        {"kind": "weekly", "weekdays": (7,)},
        {"kind": "weekly", "weekdays": (True,)},
        {"kind": "monthly", "weekdays": (1,)},
        {"kind": "cron"},
        {"kind": "cron", "cron": "* * * * *", "interval": 2},
        {"kind": "daily", "cron": "* * * * *"},
        {"kind": "yearly"},
        {"kind": "daily", "interval": 1.5},
    ],
)
def test_a_rule_that_makes_no_sense_is_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        Recurrence(**fields)


# Storage and description


@pytest.mark.parametrize(
    "text",
    [
        "every 15m",
        "every 2h",
        "daily",
        "every 2 days",
        "weekly fri,mon",
        "weekdays",
        "monthly",
        "every 6 months",
        "cron */5 * * * *",
    ],
)
def test_text_round_trips(text: str) -> None:
    rule = parse_rule(text, "Europe/Berlin")

    stored = rule.to_text()

    assert Recurrence.from_text(stored) == rule
    assert Recurrence.from_text(stored).to_text() == stored


def test_the_stored_text_is_compact_and_stable() -> None:
    rule = Recurrence("weekly", weekdays=(4, 0, 4), timezone="Europe/Berlin")

    assert rule.to_text() == (
        '{"interval":1,"kind":"weekly","timezone":"Europe/Berlin","v":1,'
        '"weekdays":[0,4]}'
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "daily",
        "[]",
        '{"kind":"daily","timezone":"UTC"}',
        '{"v":2,"kind":"daily","timezone":"UTC"}',
        '{"v":1,"kind":"daily","timezone":"UTC","colour":"red"}',
        '{"v":1,"kind":"daily"}',
        '{"v":1,"kind":"daily","timezone":"Nowhere/City"}',
        '{"v":1,"kind":"weekly","timezone":"UTC","weekdays":3}',
        '{"v":1,"kind":"weekly","timezone":"UTC","weekdays":["mon"]}',
        '{"v":1,"kind":"every","timezone":"UTC","interval":"5","unit":"minutes"}',
    ],
)
def test_damaged_stored_text_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        Recurrence.from_text(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("every 15m", "every 15 minutes"),
        ("every 1h", "every hour"),
        ("daily", "daily at 21:00 (Europe/Berlin)"),
        ("every 2 days", "every 2 days at 21:00 (Europe/Berlin)"),
        ("weekly mon,wed,fri", "weekly on Mon, Wed and Fri at 21:00 (Europe/Berlin)"),
        ("every 2 weeks sun", "every 2 weeks on Sun at 21:00 (Europe/Berlin)"),
        ("weekdays", "every weekday at 21:00 (Europe/Berlin)"),
        (
            "monthly",
            "monthly on the 31st (or the month's last day) at 21:00 (Europe/Berlin)",
        ),
        ("cron */5 * * * *", "cron */5 * * * * (Europe/Berlin)"),
    ],
)
def test_describe_with_the_anchor(text: str, expected: str) -> None:
    rule = parse_rule(text, "Europe/Berlin")

    assert rule.describe(utc(2026, 10, 31, 20)) == expected


def test_describe_without_an_anchor_leaves_out_the_time() -> None:
    assert parse_rule("daily", "Europe/Berlin").describe() == "daily (Europe/Berlin)"
    assert parse_rule("monthly", "UTC").describe() == "monthly (UTC)"
    assert (
        parse_rule("monthly", "UTC").describe(utc(2026, 1, 2, 7, 5, 9))
        == "monthly on the 2nd at 07:05:09 (UTC)"
    )
