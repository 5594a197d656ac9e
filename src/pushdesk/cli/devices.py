"""Devices from the command line: ``devices`` (and its older name
``subscribers``), what the Devices tab does with one, import and export."""

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from pushdesk.cli.common import (
    Verbs,
    add_command,
    add_command_on_one,
    add_json_option,
    cell,
    complete_as_file,
    local_time,
    open_services,
    origin,
    print_one,
    print_rows,
)
from pushdesk.devices import (
    RECENT_FAILURES_DAYS,
    UNKNOWN_BROWSER,
    DeviceQuery,
    DeviceRow,
    DeviceSort,
    DeviceStatus,
)
from pushdesk.errors import PushdeskError
from pushdesk.store.db import to_db_time

UNNAMED = "(unnamed)"
FAILURES_COLUMN = f"failures_{RECENT_FAILURES_DAYS}d"
TABLE_COLUMNS = ["id", "name", "browser", "groups", "last_seen_at", "status"]

# What `subscribers --json` printed before `devices` existed; scripts rely on it.
SUBSCRIBERS_FIELDS = (
    "id",
    "label",
    "endpoint",
    "endpoint_host",
    "created_at",
    "last_seen_at",
    "groups",
    "flagged",
)


def add_commands(verbs: Verbs) -> None:
    devices = add_command(
        verbs,
        "devices",
        "list devices, or act on one",
        "List subscribed devices, filtered as in the window's Devices tab, or act "
        "on one with a verb below.",
        "pushdesk devices --status flagged",
        "pushdesk devices --group Kitchen --json",
        run=run_list_devices,
    )
    _add_listing_options(devices)
    actions = devices.add_subparsers(title="verbs", metavar="VERB")
    _add_device_verbs(actions)
    _add_transfer_verbs(actions, "devices")

    subscribers = add_command(
        verbs,
        "subscribers",
        "list devices (as `devices`, with its first JSON fields)",
        "List subscribed devices: the listing of `pushdesk devices`, whose --json "
        "prints only the fields it printed first.",
        "pushdesk subscribers --json",
        run=run_list_subscribers,
    )
    _add_listing_options(subscribers)
    transfer = subscribers.add_subparsers(title="moving devices", metavar="VERB")
    _add_transfer_verbs(transfer, "subscribers")


def _add_listing_options(listing: argparse.ArgumentParser) -> None:
    add_json_option(listing)
    listing.add_argument(
        "--text", default="", help="only devices whose name or user agent holds TEXT"
    )
    listing.add_argument("--group", help="only the devices in this group")
    listing.add_argument(
        "--status",
        choices=[s.value for s in DeviceStatus],
        help="only devices in this state: active, flagged (credentials refused), "
        "expired (quiet too long) or warned (of removal)",
    )
    listing.add_argument(
        "--sort",
        choices=[s.value for s in DeviceSort],
        default=DeviceSort.CREATED.value,
        help="order by the name, when added (default) or when last seen",
    )
    listing.add_argument(
        "--reverse",
        action="store_true",
        help="the other way round (with the default order: newest first)",
    )


def _add_device_verbs(actions: Verbs) -> None:
    show = add_command_on_one(
        actions,
        "device",
        "show",
        "one device in full",
        "Show one device: the fields of the listing's --json.",
        "pushdesk devices show 12 --json",
        run=run_show,
    )
    add_json_option(show)

    rename = add_command_on_one(
        actions,
        "device",
        "rename",
        "name a device, or clear its name",
        "Give a device a name; an empty name clears it. The longest name allowed "
        "is the window's setting.",
        "pushdesk devices rename 12 'Kitchen tablet'",
        'pushdesk devices rename 12 ""',
        run=run_rename,
    )
    rename.add_argument("name", metavar="NAME", help='the new name, or "" for none')

    for name, summary, description, example, group_help, run in (
        (
            "add-group",
            "put a device in groups, creating new ones",
            "Put a device in these groups as well; a group that does not exist "
            "yet is created.",
            "pushdesk devices add-group 12 Kitchen 'Night shift'",
            "a group to put it in (one or more)",
            run_add_groups,
        ),
        (
            "remove-group",
            "take a device out of groups",
            "Take a device out of these groups; the groups stay.",
            "pushdesk devices remove-group 12 'Night shift'",
            "a group to take it out of (one or more)",
            run_remove_groups,
        ),
    ):
        grouping = add_command_on_one(
            actions, "device", name, summary, description, example, run=run
        )
        grouping.add_argument("groups", nargs="+", metavar="GROUP", help=group_help)

    add_command_on_one(
        actions,
        "device",
        "test",
        "send a test notification to a device",
        "Schedule a test notification, due now, for one device and print its "
        "reminder id. A running app or serve sends it; the outcome is in the "
        "delivery log.",
        "pushdesk devices test 12",
        run=run_test,
    )
    add_command_on_one(
        actions,
        "device",
        "remove",
        "remove a device (its delivery log stays)",
        "Remove a device: it gets no more reminders until it subscribes again. "
        "Its delivery log is kept.",
        "pushdesk devices remove 12",
        run=run_remove,
    )


def _add_transfer_verbs(transfer: Verbs, verb: str) -> None:
    importing = add_command(
        transfer,
        "import",
        "add or update devices from a file",
        "Add or update devices from a JSON array, or one PushSubscription.toJSON() "
        "object per line, each with an optional label and groups.",
        f"pushdesk {verb} import devices.json",
        run=run_import,
    )
    source = importing.add_argument(
        "file", help="the file to read, or - for standard input"
    )
    complete_as_file(source)
    importing.add_argument(
        "--allow-push-origin",
        metavar="ORIGIN",
        action="append",
        type=origin,
        default=[],
        help="also accept endpoints on this exact origin (as for serve)",
    )

    exporting = add_command(
        transfer,
        "export",
        "write every device, with its keys, as a JSON array",
        "Write every device as a JSON array that `import` reads. It holds the "
        "devices' push secrets: keep the file private.",
        f"pushdesk {verb} export --output devices.json",
        run=run_export,
    )
    output = exporting.add_argument(
        "--output", metavar="FILE", help="write here (owner-only) instead of stdout"
    )
    complete_as_file(output)


def run_import(args: argparse.Namespace) -> int:
    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text()
    except UnicodeDecodeError:
        raise PushdeskError(f"{args.file} is not UTF-8 text.") from None

    services = open_services(args)
    report = services.subscriptions.import_text(text, args.allow_push_origin)
    for where, why in report.rejected:
        print(f"{args.file}, {where}: {why}", file=sys.stderr)
    print(report.summary())
    return 0 if not report.rejected else 1


def run_export(args: argparse.Namespace) -> int:
    documents = open_services(args, existing=True).subscriptions.export()
    text = json.dumps(documents, indent=2, ensure_ascii=False) + "\n"
    if not args.output:
        sys.stdout.write(text)
        return 0

    path = Path(args.output)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    # The mode above only applies to a new file; an old one may be readable.
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(text)
    print(f"{len(documents)} devices written to {path}", file=sys.stderr)
    return 0


def run_list_devices(args: argparse.Namespace) -> int:
    rows = _listed(args)
    if args.json:
        print_rows([device_fields(row) for row in rows], True, [])
        return 0
    print_rows(
        [_table_row(row) for row in rows], False, [*TABLE_COLUMNS, FAILURES_COLUMN]
    )
    return 0


def run_list_subscribers(args: argparse.Namespace) -> int:
    if not args.json:
        return run_list_devices(args)
    fields = [device_fields(row) for row in _listed(args)]
    print_rows([{k: f[k] for k in SUBSCRIBERS_FIELDS} for f in fields], True, [])
    return 0


def _listed(args: argparse.Namespace) -> list[DeviceRow]:
    devices = open_services(args, existing=True).subscriptions
    query = DeviceQuery(
        text=args.text.strip(),
        # A mistyped group is an error, not an empty listing.
        group=devices.group(args.group) if args.group is not None else None,
        status=DeviceStatus(args.status) if args.status else None,
        sort=DeviceSort(args.sort),
        descending=args.reverse,
    )
    return devices.every(query)


def device_fields(row: DeviceRow) -> dict[str, Any]:
    """A device for --json: the listing's and show's stable field names."""
    device = row.subscription
    software = row.software
    return {
        "id": device.id,
        "label": device.label,
        # The operator's own data on their own machine, for scripts: whole.
        # Only the log shortens endpoints.
        "endpoint": device.endpoint,
        "endpoint_host": device.endpoint_host,
        "created_at": to_db_time(device.created_at),
        "last_seen_at": to_db_time(device.last_seen_at),
        "groups": list(device.groups),
        "flagged": device.flag_reason,
        "status": row.status.value,
        "removal_at": to_db_time(row.removal_at) if row.removal_at else None,
        "browser": None if software.browser == UNKNOWN_BROWSER else software.browser,
        "platform": software.platform or None,
        "user_agent": device.user_agent,
        "recent_failures": row.recent_failures,
    }


def _table_row(row: DeviceRow) -> dict[str, Any]:
    device = row.subscription
    return {
        "id": device.id,
        "name": device.label or UNNAMED,
        "browser": row.software.describe(),
        "groups": list(device.groups),
        "last_seen_at": local_time(device.last_seen_at),
        "status": row.status.value,
        FAILURES_COLUMN: row.recent_failures,
    }


def run_show(args: argparse.Namespace) -> int:
    row = open_services(args, existing=True).subscriptions.device_row(args.id)
    print_one(device_fields(row) if args.json else _details(row), args.json)
    return 0


def _details(row: DeviceRow) -> dict[str, Any]:
    """The fields of --json for people: times in this machine's time zone."""
    fields = device_fields(row)
    device = row.subscription
    fields["created_at"] = local_time(device.created_at)
    fields["last_seen_at"] = local_time(device.last_seen_at)
    if row.removal_at is not None:
        fields["removal_at"] = local_time(row.removal_at)
    return fields


def run_rename(args: argparse.Namespace) -> int:
    devices = open_services(args, existing=True).subscriptions
    if not args.name.strip():
        devices.clear_label(args.id)
        print(f"Device {args.id} has no name now.")
        return 0

    renamed = devices.rename(args.id, args.name)
    print(f"Device {args.id} is now called {cell(renamed.label, limit=None)}.")
    return 0


def run_add_groups(args: argparse.Namespace) -> int:
    devices = open_services(args, existing=True).subscriptions
    _print_groups(devices.add_to_groups(args.id, args.groups).groups, args.id)
    return 0


def run_remove_groups(args: argparse.Namespace) -> int:
    devices = open_services(args, existing=True).subscriptions
    _print_groups(devices.remove_from_groups(args.id, args.groups).groups, args.id)
    return 0


def _print_groups(groups: tuple[str, ...], device_id: int) -> None:
    if not groups:
        print(f"Device {device_id} is in no group now.")
        return
    print(f"Device {device_id} is in {cell(list(groups), limit=None)}.")


def run_test(args: argparse.Namespace) -> int:
    reminder = open_services(args, existing=True).subscriptions.send_test(args.id)
    print(reminder.id)
    return 0


def run_remove(args: argparse.Namespace) -> int:
    removed = open_services(args, existing=True).subscriptions.remove_by_operator(
        args.id
    )
    name = f" ({cell(removed.label, limit=None)})" if removed.label else ""
    print(f"Removed device {removed.id}{name}; its delivery log is kept.")
    return 0
