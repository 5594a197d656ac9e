"""Devices from the command line: ``subscribers``, its import and export."""

import argparse
import json
import os
import sys
from pathlib import Path

from pushdesk.cli.common import (
    Verbs,
    add_common_options,
    open_services,
    origin,
    print_rows,
)
from pushdesk.errors import PushdeskError
from pushdesk.store.db import to_db_time


def add_commands(verbs: Verbs) -> None:
    listing = verbs.add_parser(
        "subscribers",
        help="list subscribed devices",
        description="List subscribed devices. Example: pushdesk subscribers --json",
    )
    add_common_options(listing, top=False)
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(command=run_list_subscribers)
    _add_transfer_verbs(listing)


def _add_transfer_verbs(subscribers: argparse.ArgumentParser) -> None:
    transfer = subscribers.add_subparsers(title="moving devices", metavar="VERB")
    importing = transfer.add_parser(
        "import",
        help="add or update devices from a file",
        description="Add or update devices from a JSON array, or one "
        "PushSubscription.toJSON() object per line, each with an optional label "
        "and groups. Example: pushdesk subscribers import devices.json",
    )
    add_common_options(importing, top=False)
    importing.add_argument("file", help="the file to read, or - for standard input")
    importing.add_argument(
        "--allow-push-origin",
        metavar="ORIGIN",
        action="append",
        type=origin,
        default=[],
        help="also accept endpoints on this exact origin (as for serve)",
    )
    importing.set_defaults(command=run_import)

    exporting = transfer.add_parser(
        "export",
        help="write every device, with its keys, as a JSON array",
        description="Write every device as a JSON array that `import` reads. It "
        "holds the devices' push secrets: keep the file private. "
        "Example: pushdesk subscribers export --output devices.json",
    )
    add_common_options(exporting, top=False)
    exporting.add_argument(
        "--output", metavar="FILE", help="write here (owner-only) instead of stdout"
    )
    exporting.set_defaults(command=run_export)


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


def run_list_subscribers(args: argparse.Namespace) -> int:
    subscriptions = open_services(args, existing=True).subscriptions.all()
    rows = [
        {
            "id": s.id,
            "label": s.label,
            # The operator's own data on their own machine, for scripts: whole.
            # Only the log shortens endpoints.
            "endpoint": s.endpoint,
            "endpoint_host": s.endpoint_host,
            "created_at": to_db_time(s.created_at),
            "last_seen_at": to_db_time(s.last_seen_at),
            "groups": list(s.groups),
            "flagged": s.flag_reason,
        }
        for s in subscriptions
    ]
    columns = ["id", "label", "groups", "endpoint_host", "last_seen_at", "flagged"]
    print_rows(rows, args.json, columns)
    return 0
