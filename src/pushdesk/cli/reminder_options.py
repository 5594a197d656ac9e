"""The options of ``remind``, ``reminders`` and ``reminders edit``.

The reminder dialog's fields, the Reminders tab's filters, and the argument
types that check them (a mistake in one is a usage error: exit 2).
"""

import argparse
import re
from datetime import datetime, timedelta

from pushdesk.cli.common import (
    add_json_option,
    parse_datetime,
    parse_duration,
    row_id,
)
from pushdesk.domain import ReminderQuery, ReminderStatus, Urgency

# "upcoming" is the window's filter of that name: still to go out.
UPCOMING = "upcoming"
STATUS_CHOICES = [UPCOMING, *(status.value for status in ReminderStatus)]
SORT_CHOICES = ["due", "title", "status", "created"]

# What `reminders edit` can change; given none of them it has nothing to do.
EDIT_OPTIONS = (
    "message",
    "title",
    "url",
    "no_url",
    "icon",
    "no_icon",
    "delay",
    "at",
    "repeat",
    "no_repeat",
    "tz",
    "groups",
    "devices",
    "to_everyone",
    "ttl",
    "urgency",
)

_SIGNED_DURATION = re.compile(r"^\s*([+-]?)\s*(\d+\s*[smhd]?)\s*$")


def add_reminder_options(parser: argparse.ArgumentParser, *, editing: bool) -> None:
    """The dialog's fields; when editing, each keeps its value unless given."""

    def default(text: str) -> str:
        return " (default: unchanged)" if editing else f" (default: {text})"

    if editing:
        parser.add_argument("--message", help="the notification's text")
    parser.add_argument(
        "--title",
        default=None if editing else "pushdesk",
        help="the notification's title" + default("pushdesk"),
    )
    _clearable(
        parser,
        "--url",
        "page to open when the notification is clicked" + default("none"),
        "open nothing on a click" if editing else None,
    )
    _clearable(
        parser,
        "--icon",
        "http(s) address of the notification's image" + default("pushdesk's"),
        "show pushdesk's own image" if editing else None,
    )
    _add_when_options(parser, editing=editing)
    _add_target_options(parser, editing=editing)
    parser.add_argument(
        "--ttl",
        type=parse_duration,
        metavar="DURATION",
        help="how long a push service keeps it for an offline device, 0s to 28d"
        + default("as in Settings"),
    )
    parser.add_argument(
        "--urgency",
        choices=[u.value for u in Urgency],
        help="how eagerly a device wakes for it" + default("as in Settings"),
    )


def _clearable(
    parser: argparse.ArgumentParser, option: str, text: str, clear: str | None
) -> None:
    """``--url URL``, and with ``clear`` a ``--no-url`` that cannot go with it."""
    metavar = "URL"
    if clear is None:
        parser.add_argument(option, metavar=metavar, help=text)
        return
    either = parser.add_mutually_exclusive_group()
    either.add_argument(option, metavar=metavar, help=text)
    either.add_argument(f"--no-{option[2:]}", action="store_true", help=clear)


def _add_when_options(parser: argparse.ArgumentParser, *, editing: bool) -> None:
    when = parser.add_mutually_exclusive_group(required=not editing)
    when.add_argument(
        "--in",
        dest="delay",
        type=parse_duration,
        metavar="DURATION",
        help="from now: 90s, 5m, 2h, 1d (a bare number is minutes)",
    )
    when.add_argument(
        "--at",
        type=parse_datetime,
        metavar="DATETIME",
        help="ISO 8601: 2026-12-24T18:00; without an offset, in --tz"
        + (", else the repeat rule's zone," if editing else "")
        + " else this machine's time zone",
    )
    repeat = parser.add_mutually_exclusive_group()
    repeat.add_argument(
        "--repeat",
        metavar="RULE",
        help='"every 15m", "every 2h", "daily", "every 2 days", "weekdays", '
        '"weekly mon,thu", "monthly" or "cron MIN HOUR DAY MONTH WEEKDAY"',
    )
    if editing:
        repeat.add_argument("--no-repeat", action="store_true", help="send it once")
    parser.add_argument(
        "--tz",
        metavar="ZONE",
        help="IANA time zone of --at and of the repeat rule, like Europe/Berlin "
        + (
            "(alone: the same wall-clock time in this zone)"
            if editing
            else "(default: this machine's)"
        ),
    )


def _add_target_options(parser: argparse.ArgumentParser, *, editing: bool) -> None:
    parser.add_argument(
        "--to",
        dest="groups",
        action="append",
        default=[],
        metavar="GROUP",
        help="send to this group (repeatable; "
        + ("replaces the target)" if editing else "default: everyone)"),
    )
    parser.add_argument(
        "--to-device",
        dest="devices",
        action="append",
        type=row_id,
        default=[],
        metavar="ID",
        help="send to this device, by the id `pushdesk devices` shows (repeatable)",
    )
    if editing:
        parser.add_argument(
            "--to-everyone",
            action="store_true",
            help="send to every device, instead of groups or chosen devices",
        )
    else:
        # The option's name before --to-device; kept so old scripts still work.
        parser.add_argument(
            "--to-subscription",
            dest="old_devices",
            action="append",
            type=row_id,
            default=[],
            help=argparse.SUPPRESS,
        )


def add_listing_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--status",
        action="append",
        choices=STATUS_CHOICES,
        default=[],
        help="only these (repeatable; upcoming: scheduled or sending)",
    )
    parser.add_argument(
        "--target",
        type=target_filter,
        metavar="TARGET",
        help="only those sent to: everyone, visitors (set from the page), "
        "group:NAME or device:ID",
    )
    parser.add_argument("--text", default="", help="only those with this text")
    parser.add_argument(
        "--from",
        dest="due_from",
        type=moment,
        metavar="TIME",
        help="only those due at or after this time",
    )
    parser.add_argument(
        "--until",
        dest="due_until",
        type=moment,
        metavar="TIME",
        help="only those due at or before this time",
    )
    parser.add_argument(
        "--sort", choices=SORT_CHOICES, default="due", help="order (default: due)"
    )
    parser.add_argument("--reverse", action="store_true", help="in reverse order")
    parser.add_argument(
        "--limit", type=count, metavar="N", help="at most N reminders (default: all)"
    )
    add_json_option(parser)


def target_filter(text: str) -> ReminderQuery:
    """A query holding only the target filter ``--target`` asks for."""
    kind, colon, value = text.partition(":")
    kind = kind.strip().lower()
    if kind == "everyone" and not colon:
        return ReminderQuery(everyone_only=True)
    if kind == "visitors" and not colon:
        return ReminderQuery(from_visitors=True)
    if kind == "group" and value.strip():
        return ReminderQuery(group=value.strip())
    if kind == "device" and colon:
        return ReminderQuery(device=row_id(value))
    raise argparse.ArgumentTypeError(
        f"{text!r} is not a target; write everyone, visitors, group:NAME or device:ID"
    )


def moment(text: str) -> datetime | timedelta:
    """An ISO 8601 time (naive: local), or a duration from now ("-2h": ago)."""
    match = _SIGNED_DURATION.match(text)
    if match:
        span = parse_duration(match[2])
        return -span if match[1] == "-" else span
    try:
        datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a time like 2026-12-24T18:00 nor a duration like 2h"
        ) from None
    given = parse_datetime(text)
    return given if given.tzinfo else given.astimezone()


def count(text: str) -> int:
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number from 1 up")
    return int(text)
