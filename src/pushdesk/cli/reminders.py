"""Reminders from the command line: ``remind``, and ``reminders`` with its verbs.

``remind`` and ``reminders edit`` take the reminder dialog's options; the
listing takes the Reminders tab's filters. All of it goes through the reminder
service, as the window does.
"""

import argparse
import sys
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pushdesk.cli.common import (
    Verbs,
    add_command,
    add_command_on_one,
    add_json_option,
    local_time,
    open_services,
    print_one,
    print_rows,
)
from pushdesk.cli.reminder_options import (
    EDIT_OPTIONS,
    UPCOMING,
    add_listing_options,
    add_reminder_options,
)
from pushdesk.cli.reminder_output import (
    TABLE_COLUMNS,
    details,
    json_row,
    table_row,
)
from pushdesk.clock import system_clock
from pushdesk.domain import Reminder, ReminderQuery, ReminderStatus, Target, Urgency
from pushdesk.errors import InvalidInput, PushdeskError
from pushdesk.scheduling.recurrence import Recurrence, parse_rule
from pushdesk.services import Services
from pushdesk.timezones import local_zone_name

# A reminder given "at" a moment just gone (a script that computed it a little
# early) is still sent; anything older is almost surely a mistake.
PAST_GRACE = timedelta(minutes=1)

T = TypeVar("T")


def add_commands(verbs: Verbs) -> None:
    remind = add_command(
        verbs,
        "remind",
        "schedule a reminder",
        "Schedule a reminder: for every subscribed device unless --to or "
        "--to-device say whom. TTL and urgency default to those saved in "
        "Settings. Prints the new reminder's id.",
        'pushdesk remind "Stand-up in the big room" --in 10m',
        'pushdesk remind "Bins out" --at 2026-12-07T19:00 --repeat "weekly mon" '
        "--to Flat",
        run=run_remind,
    )
    remind.add_argument("message", help="the notification's text")
    add_reminder_options(remind, editing=False)

    listing = add_command(
        verbs,
        "reminders",
        "list reminders, or show, edit, cancel, send or delete one",
        "List reminders, soonest first, with the Reminders tab's filters; or act "
        "on one reminder with a verb. A time is ISO 8601 (local unless it has an "
        "offset) or a duration from now; write a past one as --from=-2h.",
        "pushdesk reminders --status upcoming --target group:Kitchen",
        "pushdesk reminders --from=-1d --until 2h --json",
        run=run_list,
    )
    add_listing_options(listing)
    _add_verbs(listing.add_subparsers(title="verbs", metavar="VERB"))


def _add_verbs(actions: Verbs) -> None:
    show = add_command_on_one(
        actions,
        "reminder",
        "show",
        "one reminder, with how far it got",
        "Show one reminder: what it says, whom it goes to, its repeat rule and "
        "its delivery counts.",
        "pushdesk reminders show 12 --json",
        run=run_show,
    )
    add_json_option(show)

    edit = add_command_on_one(
        actions,
        "reminder",
        "edit",
        "change a scheduled reminder",
        "Change a reminder that is still scheduled. Only the options given "
        "change; --no-url, --no-icon, --no-repeat and --to-everyone clear.",
        'pushdesk reminders edit 12 --at 2026-12-24T17:00 --title "Earlier"',
        run=run_edit,
    )
    add_reminder_options(edit, editing=True)
    edit.set_defaults(usage_error=edit.error)

    for name, summary, description, run in (
        (
            "cancel",
            "cancel a reminder",
            "Cancel a scheduled reminder, or the rest of one being sent.",
            run_cancel,
        ),
        (
            "send",
            "send a scheduled reminder now",
            "Send a scheduled reminder now; a repeating one keeps its schedule. "
            "A running pushdesk (the app or serve) sends it.",
            run_send,
        ),
        (
            "delete",
            "remove a reminder from the listings",
            "Remove a reminder from the listings; its delivery log is kept. One "
            "being sent must be cancelled first.",
            run_delete,
        ),
    ):
        add_command_on_one(
            actions,
            "reminder",
            name,
            summary,
            description,
            f"pushdesk reminders {name} 12",
            run=run,
        )


# The commands.


def run_remind(args: argparse.Namespace) -> int:
    now = system_clock()
    zone = _zone(args.tz or local_zone_name())
    due_at = _due_at(args.delay, args.at, zone, now)
    repeat = parse_rule(args.repeat, zone) if args.repeat else None
    if args.old_devices:
        _say("--to-subscription is now called --to-device; the old name still works.")
    target = _target(args.groups, [*args.devices, *args.old_devices])

    # Only now, with the request sound, is the data folder created if need be.
    services = open_services(args)
    defaults = services.settings.defaults()
    reminder = services.reminders.schedule(
        args.title,
        args.message,
        args.url,
        due_at,
        target=target,
        ttl=_seconds(args.ttl) if args.ttl is not None else defaults.ttl,
        urgency=Urgency(args.urgency) if args.urgency else defaults.urgency,
        repeat=repeat,
        icon=args.icon,
    )
    print(reminder.id)
    _say(_saved_sentence(services, reminder, "scheduled"))
    return 0


def run_list(args: argparse.Namespace) -> int:
    services = open_services(args, existing=True)
    query = _query(args, services.now())
    total = services.reminders.count(query)
    if not total and query.group is not None:
        # A mistyped group is an error, not an empty listing. (A group deleted
        # since still lists the reminders that went to it.)
        services.subscriptions.group(query.group)
    shown = total if args.limit is None else min(args.limit, total)
    lines = services.reminders.page(query, 0, shown)

    if args.json:
        print_rows([json_row(line) for line in lines], True, [])
        return 0
    print_rows([table_row(line) for line in lines], False, TABLE_COLUMNS)
    if len(lines) < total:
        _say(f"{len(lines)} of {total} shown; raise --limit to see more.")
    return 0


def run_show(args: argparse.Namespace) -> int:
    line = open_services(args, existing=True).reminders.line(args.id)
    print_one(json_row(line) if args.json else details(line), args.json)
    return 0


def run_edit(args: argparse.Namespace) -> int:
    if all(getattr(args, name) in (None, False, []) for name in EDIT_OPTIONS):
        args.usage_error("give at least one option to change, such as --at or --title")
    if args.to_everyone and (args.groups or args.devices):
        args.usage_error("--to-everyone cannot go with --to or --to-device")

    services = open_services(args, existing=True)
    current = services.reminders.line(args.id).reminder
    if current.status is not ReminderStatus.SCHEDULED:
        raise InvalidInput(
            f"Reminder {current.id} is {current.status.value}; only a scheduled "
            "reminder can be edited."
        )
    repeat, zone = _edited_repeat(args, current)
    due_at = _edited_due_at(args, current, repeat, zone, services.now())

    edited = services.reminders.edit(
        current.id,
        _given(args.title, current.title),
        _given(args.message, current.message),
        None if args.no_url else _given(args.url, current.url),
        due_at,
        target=_edited_target(args, current),
        ttl=_seconds(args.ttl) if args.ttl is not None else current.ttl,
        urgency=Urgency(args.urgency) if args.urgency else current.urgency,
        repeat=repeat,
        icon=None if args.no_icon else _given(args.icon, current.icon),
    )
    _say(_saved_sentence(services, edited, "saved"))
    return 0


def run_cancel(args: argparse.Namespace) -> int:
    open_services(args, existing=True).reminders.cancel(args.id)
    _say(f"Reminder {args.id} cancelled.")
    return 0


def run_send(args: argparse.Namespace) -> int:
    open_services(args, existing=True).reminders.send_now(args.id)
    _say(
        f"Reminder {args.id} is queued to go out now; a running pushdesk "
        "(the app or serve) sends it."
    )
    return 0


def run_delete(args: argparse.Namespace) -> int:
    open_services(args, existing=True).reminders.delete(args.id)
    _say(f"Reminder {args.id} deleted; its delivery log is kept.")
    return 0


# Turning options into what the service takes.


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise PushdeskError(
            f"{name!r} is not a time zone, like Europe/Berlin."
        ) from None
    return name


def _due_at(
    delay: timedelta | None, at: datetime | None, zone: str, now: datetime
) -> datetime:
    try:
        if at is None:
            assert delay is not None
            due_at = now + delay
        elif at.tzinfo is None:
            due_at = at.replace(tzinfo=ZoneInfo(zone))
        else:
            due_at = at
    except OverflowError:
        raise PushdeskError("That is too far in the future.") from None

    if due_at < now - PAST_GRACE:
        raise PushdeskError(
            f"{local_time(due_at)} is in the past; give a time to come, or --in 0s to "
            "send it now."
        )
    return due_at


def _target(groups: list[str], devices: list[int]) -> Target:
    if any(not name.strip() for name in groups):
        raise PushdeskError("--to needs a group name.")
    return Target(tuple(groups), tuple(dict.fromkeys(devices)))


def _seconds(span: timedelta) -> int:
    return int(span.total_seconds())


def _given(value: T | None, current: T) -> T:
    return current if value is None else value


def _edited_repeat(
    args: argparse.Namespace, current: Reminder
) -> tuple[Recurrence | None, str]:
    """The repeat rule after the edit, and the zone the edit's times are in."""
    if args.no_repeat:
        return None, _zone(args.tz or local_zone_name())
    if args.repeat:
        zone = _zone(args.tz or _rule_zone(current) or local_zone_name())
        return parse_rule(args.repeat, zone), zone

    rule = Recurrence.from_text(current.repeat) if current.repeat else None
    zone = _zone(args.tz or (rule.timezone if rule else local_zone_name()))
    return (replace(rule, timezone=zone) if rule else None), zone


def _rule_zone(reminder: Reminder) -> str | None:
    if not reminder.repeat:
        return None
    try:
        return Recurrence.from_text(reminder.repeat).timezone
    except InvalidInput:
        return None  # replaced by the rule being given, so no matter


def _edited_due_at(
    args: argparse.Namespace,
    current: Reminder,
    repeat: Recurrence | None,
    zone: str,
    now: datetime,
) -> datetime:
    if args.delay is not None or args.at is not None:
        return _due_at(args.delay, args.at, zone, now)
    if not args.tz:
        return current.due_at
    if repeat is None:
        raise PushdeskError(
            "--tz applies to --at and to a repeat rule; give one of them too."
        )

    # A new zone alone moves the reminder to the same wall-clock time there, as
    # the dialog does: "09:00 daily" stays 09:00.
    old_zone = ZoneInfo(_rule_zone(current) or local_zone_name())
    wall = current.due_at.astimezone(old_zone).replace(tzinfo=None)
    return wall.replace(tzinfo=ZoneInfo(zone))


def _edited_target(args: argparse.Namespace, current: Reminder) -> Target:
    if args.to_everyone:
        return Target()
    if args.groups or args.devices:
        return _target(args.groups, args.devices)
    return current.target


def _query(args: argparse.Namespace, now: datetime) -> ReminderQuery:
    statuses: dict[ReminderStatus, None] = {}
    for name in args.status:
        if name == UPCOMING:
            statuses.update(
                dict.fromkeys((ReminderStatus.SCHEDULED, ReminderStatus.SENDING))
            )
        else:
            statuses[ReminderStatus(name)] = None
    due_from = _resolve(args.due_from, now)
    due_until = _resolve(args.due_until, now)
    if due_from is not None and due_until is not None and due_from > due_until:
        raise PushdeskError("--from is later than --until.")

    aimed = args.target or ReminderQuery()
    return ReminderQuery(
        text=args.text,
        statuses=tuple(statuses),
        everyone_only=aimed.everyone_only,
        group=aimed.group,
        device=aimed.device,
        from_visitors=aimed.from_visitors,
        due_from=due_from,
        due_until=due_until,
        sort=args.sort,
        descending=args.reverse,
    )


def _resolve(given: datetime | timedelta | None, now: datetime) -> datetime | None:
    if not isinstance(given, timedelta):
        return given
    try:
        return now + given
    except OverflowError:
        raise PushdeskError("That time is beyond the calendar.") from None


# Telling the person at the terminal.


def _saved_sentence(services: Services, reminder: Reminder, done: str) -> str:
    reached = services.reminders.devices_reached(reminder.target)
    reach = (
        f"would reach {reached} device{'s' if reached != 1 else ''} now"
        if reached
        else "no device would receive it now"
    )
    return f"Reminder {reminder.id} {done}: due {local_time(reminder.due_at)}, {reach}."


def _say(sentence: str) -> None:
    """A message for the person at the terminal; data goes to stdout."""
    print(sentence, file=sys.stderr)
