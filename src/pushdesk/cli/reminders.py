"""Reminders from the command line: ``remind`` and ``reminders``."""

import argparse
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pushdesk.cli.common import (
    Verbs,
    add_common_options,
    open_services,
    parse_datetime,
    parse_duration,
    print_rows,
)
from pushdesk.clock import system_clock
from pushdesk.domain import DEFAULT_TTL_SECONDS, Target, Urgency
from pushdesk.errors import PushdeskError
from pushdesk.scheduling.recurrence import Recurrence, parse_rule
from pushdesk.store.db import to_db_time
from pushdesk.timezones import local_zone_name


def add_commands(verbs: Verbs) -> None:
    remind = verbs.add_parser(
        "remind",
        help="schedule a reminder",
        description="Schedule a reminder for every subscribed device. "
        'Example: pushdesk remind "Stand-up in the big room" --in 10m',
    )
    add_common_options(remind, top=False)
    remind.add_argument("message", help="the notification's text")
    when = remind.add_mutually_exclusive_group(required=True)
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
        help="ISO 8601, local time unless it has an offset: 2026-12-24T18:00",
    )
    remind.add_argument(
        "--title",
        default="pushdesk",
        help="the notification's title (default: pushdesk)",
    )
    remind.add_argument("--url", help="page to open when the notification is clicked")
    remind.add_argument(
        "--to",
        dest="groups",
        action="append",
        default=[],
        metavar="GROUP",
        help="send to this group (repeatable; default: everyone)",
    )
    remind.add_argument(
        "--to-subscription",
        dest="subscription_ids",
        action="append",
        type=int,
        default=[],
        metavar="ID",
        help="send to this device, by the id `pushdesk subscribers` shows (repeatable)",
    )
    remind.add_argument(
        "--repeat",
        metavar="RULE",
        help='"every 15m", "every 2h", "daily", "every 2 days", "weekdays", '
        '"weekly mon,thu", "monthly" or "cron MIN HOUR DAY MONTH WEEKDAY"',
    )
    remind.add_argument(
        "--tz",
        metavar="ZONE",
        help="IANA time zone of --at and of a repeat rule (default: this machine's)",
    )
    remind.add_argument(
        "--ttl",
        type=parse_duration,
        default=timedelta(seconds=DEFAULT_TTL_SECONDS),
        metavar="DURATION",
        help="how long a push service keeps it for an offline device (default: 1d)",
    )
    remind.add_argument(
        "--urgency",
        choices=[u.value for u in Urgency],
        default=Urgency.NORMAL.value,
        help="how eagerly a device wakes for it (default: normal)",
    )
    remind.set_defaults(command=run_remind)

    listing = verbs.add_parser(
        "reminders",
        help="list reminders",
        description="List reminders. Example: pushdesk reminders --json",
    )
    add_common_options(listing, top=False)
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(command=run_list_reminders)


# A reminder given "at" a moment just gone (a script that computed it a little
# early) is still sent; anything older is almost surely a mistake.
PAST_GRACE = timedelta(minutes=1)


def run_remind(args: argparse.Namespace) -> int:
    now = system_clock()
    zone = args.tz or local_zone_name()
    try:
        if args.at is None:
            due_at = now + args.delay
        elif args.at.tzinfo is None:
            due_at = args.at.replace(tzinfo=ZoneInfo(zone))
        else:
            due_at = args.at
    except OverflowError:
        raise PushdeskError("That is too far in the future.") from None
    except (ZoneInfoNotFoundError, ValueError):
        raise PushdeskError(
            f"{zone!r} is not a time zone, like Europe/Berlin."
        ) from None
    if due_at < now - PAST_GRACE:
        raise PushdeskError(
            f"{due_at.astimezone():%Y-%m-%d %H:%M} is in the past; "
            "give a time to come, or --in 0s to send it now."
        )

    repeat = parse_rule(args.repeat, zone) if args.repeat else None
    if any(not name.strip() for name in args.groups):
        raise PushdeskError("--to needs a group name.")

    services = open_services(args)
    reminder = services.reminders.schedule(
        args.title,
        args.message,
        args.url,
        due_at,
        target=Target(tuple(args.groups), tuple(args.subscription_ids)),
        ttl=int(args.ttl.total_seconds()),
        urgency=Urgency(args.urgency),
        repeat=repeat,
    )
    print(reminder.id)
    return 0


def run_list_reminders(args: argparse.Namespace) -> int:
    services = open_services(args, existing=True)
    reminders = services.reminders.all()
    reach = services.reminders.reach()
    rows = [
        {
            "id": r.id,
            "title": r.title,
            "message": r.message,
            "url": r.url,
            "due_at": to_db_time(r.due_at),
            "status": r.status.value,
            "sent_at": to_db_time(r.sent_at) if r.sent_at else None,
            "late": r.late,
            "target": {
                "groups": list(r.target.groups),
                "subscriptions": list(r.target.subscription_ids),
            },
            "repeat": Recurrence.from_text(r.repeat).describe() if r.repeat else None,
            # The device whose visitor set it from the page; null: the operator's.
            "visitor_device": r.visitor_device,
            "ttl": r.ttl,
            "urgency": r.urgency.value,
            "delivered": reach[r.id].delivered if r.id in reach else 0,
            "displayed": reach[r.id].displayed if r.id in reach else 0,
            "clicked": reach[r.id].clicked if r.id in reach else 0,
        }
        for r in reminders
    ]
    print_rows(rows, args.json, ["id", "due_at", "status", "title", "message"])
    return 0
