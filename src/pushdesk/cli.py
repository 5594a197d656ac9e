"""The ``pushdesk`` command: the desktop app, ``serve`` and the operator's verbs."""

import argparse
import asyncio
import json
import os
import re
import signal
import sqlite3
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pushdesk import __version__, log
from pushdesk.app import Runtime, open_store
from pushdesk.clock import system_clock
from pushdesk.config import (
    DATA_DIR_ENV,
    DEFAULT_HOST,
    DEFAULT_PORT,
    Config,
    ServerOptions,
    ServerOverrides,
    resolve_data_dir,
)
from pushdesk.domain import DEFAULT_TTL_SECONDS, Target, Urgency
from pushdesk.errors import PushdeskError
from pushdesk.events import EventHub
from pushdesk.push.vapid import load_or_create
from pushdesk.scheduling.recurrence import Recurrence, parse_rule
from pushdesk.scheduling.scheduler import MIN_MAX_LATENESS
from pushdesk.services import Services
from pushdesk.store.db import to_db_time
from pushdesk.timezones import local_zone_name
from pushdesk.validation import normalise_origin

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNIT_SECONDS = {"": 60, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """``90s``, ``5m``, ``2h``, ``1d``; a bare number means minutes."""
    match = _DURATION.match(text)
    if not match:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a duration; write it like 90s, 5m, 2h or 1d"
        )
    try:
        return timedelta(seconds=int(match[1]) * _UNIT_SECONDS[match[2]])
    except OverflowError:
        raise argparse.ArgumentTypeError(f"{text!r} is too long a time") from None


def parse_datetime(text: str) -> datetime:
    """ISO 8601. Without an offset it stays naive: ``remind`` reads it in
    ``--tz`` or, without that, in this machine's time zone."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 date and time, like 2026-12-24T18:00"
        ) from None
    try:
        moment.astimezone(UTC)
        # A day either way covers every zone the naive time may be read in.
        (moment.replace(tzinfo=UTC) + timedelta(days=1)).astimezone(UTC)
        (moment.replace(tzinfo=UTC) - timedelta(days=1)).astimezone(UTC)
    except (OverflowError, ValueError, OSError):
        raise argparse.ArgumentTypeError(f"{text!r} is out of range") from None
    return moment


def _origin(text: str) -> str:
    try:
        return normalise_origin(text)
    except PushdeskError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _lateness(text: str) -> timedelta:
    lateness = parse_duration(text)
    if lateness < MIN_MAX_LATENESS:
        raise argparse.ArgumentTypeError(
            "the maximum lateness must be at least 1m: a running pushdesk needs "
            "a moment to fire"
        )
    return lateness


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port from 1 to 65535")
    return int(text)


def _add_common_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """Options every command takes.

    They are declared on the top-level parser and again on each command, so
    they may stand before or after it; on the commands the default is
    SUPPRESS so that an option given before the command is not overwritten.
    """
    default = None if top else argparse.SUPPRESS
    parser.add_argument(
        "--data-dir",
        metavar="PATH",
        default=default,
        help="where pushdesk keeps its database and keys "
        "(default: $PUSHDESK_DATA_DIR, else the platform's user data folder)",
    )
    parser.add_argument(
        "--log-level",
        choices=log.LEVELS,
        default=default,
        help="default: info for the app and serve, warning for the other commands",
    )


def _add_running_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """Options of the app and ``serve``."""

    def default(value: object) -> object:
        return value if top else argparse.SUPPRESS

    # The server options default to None: a saved setting applies then, and
    # only an option given on the command line wins over it.
    parser.add_argument(
        "--host",
        default=default(None),
        help="default: as saved in Settings, else all interfaces",
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=default(None),
        help="the page's port (default: as saved in Settings, else 8443 with "
        "HTTPS, 8080 with --http)",
    )
    parser.add_argument(
        "--http-port",
        type=_port,
        default=default(None),
        help="plain-HTTP port of the certificate set-up page beside HTTPS "
        "(default: as saved in Settings, else 8080)",
    )
    parser.add_argument(
        "--http",
        action="store_true",
        default=default(False),
        help="serve plain HTTP only: for localhost, or behind a proxy doing TLS "
        "(default: the HTTPS mode saved in Settings, else pushdesk's own CA)",
    )
    parser.add_argument(
        "--cert",
        metavar="FILE",
        type=Path,
        default=default(None),
        help="your own certificate (PEM, with its chain) instead of pushdesk's CA",
    )
    parser.add_argument(
        "--key",
        metavar="FILE",
        type=Path,
        default=default(None),
        help="the private key of --cert",
    )
    parser.add_argument(
        "--vapid-subject",
        metavar="CONTACT",
        default=default(None),
        help="mailto: or https: contact for push services; stored once given",
    )
    parser.add_argument(
        "--max-lateness",
        type=_lateness,
        metavar="DURATION",
        default=default(None),
        help="a one-shot reminder found later than this at start is marked missed, "
        "not sent; stored once given (default: 1h)",
    )
    parser.add_argument(
        "--allow-push-origin",
        metavar="ORIGIN",
        action="append",
        type=_origin,
        default=default([]),
        help="also accept subscription endpoints on this exact origin "
        "(repeatable; for tests and private push services)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pushdesk",
        description="Send Web Push reminders to phones and browsers on your LAN. "
        "Without a command, starts the desktop app.",
    )
    _add_common_options(parser, top=True)
    _add_running_options(parser, top=True)
    parser.add_argument(
        "--version", action="version", version=f"pushdesk {__version__}"
    )
    parser.set_defaults(command=run_desktop)
    verbs = parser.add_subparsers(title="commands", metavar="COMMAND")

    serve = verbs.add_parser(
        "serve",
        help="run the server and scheduler without a window",
        description="Run the server and scheduler without a window. "
        "Example: pushdesk serve --vapid-subject mailto:ops@example.org",
    )
    _add_common_options(serve, top=False)
    _add_running_options(serve, top=False)
    serve.set_defaults(command=run_serve)

    remind = verbs.add_parser(
        "remind",
        help="schedule a reminder",
        description="Schedule a reminder for every subscribed device. "
        'Example: pushdesk remind "Stand-up in the big room" --in 10m',
    )
    _add_common_options(remind, top=False)
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

    listings = {}
    for name, command, what in (
        ("reminders", run_list_reminders, "reminders"),
        ("subscribers", run_list_subscribers, "subscribed devices"),
    ):
        listing = verbs.add_parser(
            name,
            help=f"list {what}",
            description=f"List {what}. Example: pushdesk {name} --json",
        )
        _add_common_options(listing, top=False)
        listing.add_argument("--json", action="store_true", help="print JSON")
        listing.set_defaults(command=command)
        listings[name] = listing
    _add_transfer_verbs(listings["subscribers"])

    key = verbs.add_parser(
        "vapid-key",
        help="print the VAPID public key",
        description="Print the VAPID public key. Example: pushdesk vapid-key",
    )
    _add_common_options(key, top=False)
    key.set_defaults(command=run_vapid_key)
    return parser


def _add_transfer_verbs(subscribers: argparse.ArgumentParser) -> None:
    transfer = subscribers.add_subparsers(title="moving devices", metavar="VERB")
    importing = transfer.add_parser(
        "import",
        help="add or update devices from a file",
        description="Add or update devices from a JSON array, or one "
        "PushSubscription.toJSON() object per line, each with an optional label "
        "and groups. Example: pushdesk subscribers import devices.json",
    )
    _add_common_options(importing, top=False)
    importing.add_argument("file", help="the file to read, or - for standard input")
    importing.add_argument(
        "--allow-push-origin",
        metavar="ORIGIN",
        action="append",
        type=_origin,
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
    _add_common_options(exporting, top=False)
    exporting.add_argument(
        "--output", metavar="FILE", help="write here (owner-only) instead of stdout"
    )
    exporting.set_defaults(command=run_export)


def config_from(args: argparse.Namespace) -> Config:
    cert, key = getattr(args, "cert", None), getattr(args, "key", None)
    if (cert is None) != (key is None):
        raise PushdeskError("--cert and --key go together.")
    http = getattr(args, "http", False)
    if http and cert is not None:
        raise PushdeskError("--http serves no certificate; leave out --cert/--key.")
    given = ServerOverrides(
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        http_port=getattr(args, "http_port", None),
        http=http,
        cert=cert,
        key=key,
    )
    if not http and given.port is not None and given.port == given.http_port:
        raise PushdeskError("--port and --http-port must differ.")
    # The saved settings are combined with these when the server starts.
    server = ServerOptions(
        host=given.host or DEFAULT_HOST,
        port=given.port,
        http=http,
        helper_port=given.http_port or DEFAULT_PORT,
        cert=cert,
        key=key,
        allowed_push_origins=tuple(getattr(args, "allow_push_origin", [])),
    )
    return Config(
        data_dir=resolve_data_dir(args.data_dir),
        server=server,
        vapid_subject=getattr(args, "vapid_subject", None),
        max_lateness=getattr(args, "max_lateness", None),
        command_line=given,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command: Callable[[argparse.Namespace], int] = args.command
    long_running = command in (run_desktop, run_serve)
    log.configure(args.log_level or ("info" if long_running else "warning"))
    try:
        return command(args)
    except PushdeskError as exc:
        print(f"pushdesk: {exc}", file=sys.stderr)
        return 1
    except sqlite3.DatabaseError as exc:
        print(f"pushdesk: The database cannot be read ({exc}).", file=sys.stderr)
        return 1
    except OSError as exc:
        # A file or folder pushdesk needs is not usable; say which, briefly.
        where = f": {exc.filename}" if exc.filename else ""
        print(f"pushdesk: {exc.strerror or exc}{where}.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def run_desktop(args: argparse.Namespace) -> int:
    # Imported here so that the other commands never load Qt.
    from pushdesk.ui.desktop import run

    return run(config_from(args))


def run_serve(args: argparse.Namespace) -> int:
    config = config_from(args)
    store = open_store(config)
    return asyncio.run(_serve(Runtime(config, store)))


async def _serve(runtime: Runtime) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)

    try:
        await runtime.start()
    except PushdeskError:
        runtime.store.close()
        raise
    try:
        await stop.wait()
    finally:
        await runtime.stop()
    return 0


def _services(args: argparse.Namespace, *, existing: bool = False) -> Services:
    """The services over the data folder; ``existing`` refuses to create one."""
    config = config_from(args)
    if existing and not config.database_path.exists():
        raise PushdeskError(
            f"There is no pushdesk data in {config.data_dir}; check --data-dir "
            f"or ${DATA_DIR_ENV}."
        )
    store = open_store(config)
    return Services(store, EventHub(), system_clock)


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

    services = _services(args)
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


def run_import(args: argparse.Namespace) -> int:
    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text()
    except UnicodeDecodeError:
        raise PushdeskError(f"{args.file} is not UTF-8 text.") from None

    services = _services(args)
    report = services.subscriptions.import_text(text, args.allow_push_origin)
    for where, why in report.rejected:
        print(f"{args.file}, {where}: {why}", file=sys.stderr)
    print(report.summary())
    return 0 if not report.rejected else 1


def run_export(args: argparse.Namespace) -> int:
    documents = _services(args, existing=True).subscriptions.export()
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


def run_list_reminders(args: argparse.Namespace) -> int:
    services = _services(args, existing=True)
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
    _print_rows(rows, args.json, ["id", "due_at", "status", "title", "message"])
    return 0


def run_list_subscribers(args: argparse.Namespace) -> int:
    subscriptions = _services(args, existing=True).subscriptions.all()
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
    _print_rows(rows, args.json, columns)
    return 0


def run_vapid_key(args: argparse.Namespace) -> int:
    print(load_or_create(config_from(args).vapid_key_path).public_key)
    return 0


def _print_rows(rows: list[dict[str, Any]], as_json: bool, columns: list[str]) -> None:
    if as_json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        print("(none)")
        return

    cells = [[_cell(row[c]) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row_cells in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row_cells, widths, strict=True)))


def _cell(value: Any) -> str:
    # Labels come from the network: never let one put escape sequences on the
    # operator's terminal.
    if isinstance(value, list):
        value = ", ".join(map(str, value))
    text = "" if value is None else str(value)
    text = "".join(c if c.isprintable() else " " for c in text)
    text = " ".join(text.split())
    return text if len(text) <= 40 else text[:39] + "…"
