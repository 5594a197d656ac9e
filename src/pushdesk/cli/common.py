"""What every ``pushdesk`` command shares: options, parsing, output, services."""

import argparse
import json
import re
import sqlite3
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeAlias

from pushdesk import log
from pushdesk.app import open_store
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
from pushdesk.domain import MIN_MAX_LATENESS
from pushdesk.errors import PushdeskError
from pushdesk.events import EventHub
from pushdesk.services import Services

# The window's own way of writing a time, so that both show one alike; the
# module is Qt-free, so the commands still never load Qt.
from pushdesk.ui.formatting import local_time as local_time
from pushdesk.validation import normalise_origin

# What each area's add_commands adds its commands to.
# (A string: the class is subscriptable only for type checkers before 3.12.)
Verbs: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


# What a command runs: the parsed arguments in, the exit status out.
Run: TypeAlias = Callable[[argparse.Namespace], int]

# How shtab completes a file or a folder name: its FILE and DIRECTORY constants
# for the shells `pushdesk completion` writes. Mirrored, not imported, so the
# commands that never complete anything need not load shtab;
# tests/cli/test_completion_cli.py checks they still agree.
FILE_NAMES = {"bash": "_shtab_compgen_files", "zsh": "_files"}
FOLDER_NAMES = {"bash": "_shtab_compgen_dirs", "zsh": "_files -/"}


def complete_as_file(argument: argparse.Action) -> None:
    """Let shell completion offer file names for ``argument``."""
    argument.complete = FILE_NAMES  # type: ignore[attr-defined]


def complete_as_folder(argument: argparse.Action) -> None:
    """Let shell completion offer folder names for ``argument``."""
    argument.complete = FOLDER_NAMES  # type: ignore[attr-defined]


def add_command(
    verbs: Verbs,
    name: str,
    summary: str,
    description: str,
    example: str,
    *more_examples: str,
    run: Run,
) -> argparse.ArgumentParser:
    """A command with the common options, run by ``run``.

    Its help is ``description`` filled to 79 columns (a blank line parts
    paragraphs), then one ``Example: …`` line for each example.
    """
    paragraphs = [textwrap.fill(text, 79) for text in description.split("\n\n")]
    examples = (f"Example: {line}" for line in (example, *more_examples))
    parser = verbs.add_parser(
        name,
        help=summary,
        description="\n\n".join([*paragraphs, "\n".join(examples)]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_common_options(parser, top=False)
    parser.set_defaults(command=run)
    return parser


def add_command_on_one(
    verbs: Verbs,
    thing: str,
    name: str,
    summary: str,
    description: str,
    example: str,
    *more_examples: str,
    run: Run,
) -> argparse.ArgumentParser:
    """A command that acts on one ``thing`` (a device, a reminder), its id first."""
    command = add_command(
        verbs, name, summary, description, example, *more_examples, run=run
    )
    command.add_argument(
        "id", type=row_id, metavar="ID", help=f"the {thing}'s id, as listed (12 or #12)"
    )
    return command


def row_id(text: str) -> int:
    """An id as listings show it: 12 (or #12, as the window shows some)."""
    digits = text.strip().removeprefix("#")
    if not digits.isascii() or not digits.isdigit() or not 0 < int(digits) < 2**63:
        raise argparse.ArgumentTypeError(f"{text!r} is not an id, like 12")
    return int(digits)


def add_json_option(parser: argparse.ArgumentParser) -> None:
    # No default here: a verb's parser would otherwise put False back over a
    # --json given before the verb (`reminders --json show 2`). main() sets
    # False when neither gave it.
    parser.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print JSON for scripts (field names as in the README)",
    )


def print_one(row: dict[str, Any], as_json: bool) -> None:
    """One object: JSON, or a "field: value" line each, aligned."""
    if as_json:
        print(json.dumps(row, indent=2, ensure_ascii=False))
        return
    width = max(len(name) for name in row)
    for name, value in row.items():
        print(f"{name.replace('_', ' ').ljust(width)}  {cell(value, limit=None)}")


# What a duration looks like: `log` tells one from a date by it.
DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNIT_SECONDS = {"": 60, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """``90s``, ``5m``, ``2h``, ``1d``; a bare number means minutes."""
    match = DURATION.match(text)
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


def origin(text: str) -> str:
    try:
        return normalise_origin(text)
    except PushdeskError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def lateness(text: str) -> timedelta:
    given = parse_duration(text)
    if given < MIN_MAX_LATENESS:
        raise argparse.ArgumentTypeError(
            "the maximum lateness must be at least 1m: a running pushdesk needs "
            "a moment to fire"
        )
    return given


def port_number(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port from 1 to 65535")
    return int(text)


def add_common_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """Options every command takes.

    They are declared on the top-level parser and again on each command, so
    they may stand before or after it; on the commands the default is
    SUPPRESS so that an option given before the command is not overwritten.
    """
    default = None if top else argparse.SUPPRESS
    data_dir = parser.add_argument(
        "--data-dir",
        metavar="PATH",
        default=default,
        help="where pushdesk keeps its database and keys "
        "(default: $PUSHDESK_DATA_DIR, else the platform's user data folder)",
    )
    complete_as_folder(data_dir)
    parser.add_argument(
        "--log-level",
        choices=log.LEVELS,
        default=default,
        help="default: info for the app and serve, warning for the other commands",
    )


def add_running_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
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
        type=port_number,
        default=default(None),
        help="the page's port (default: as saved in Settings, else 8443 with "
        "HTTPS, 8080 with --http)",
    )
    parser.add_argument(
        "--http-port",
        type=port_number,
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
    cert = parser.add_argument(
        "--cert",
        metavar="FILE",
        type=Path,
        default=default(None),
        help="your own certificate (PEM, with its chain) instead of pushdesk's CA",
    )
    key = parser.add_argument(
        "--key",
        metavar="FILE",
        type=Path,
        default=default(None),
        help="the private key of --cert",
    )
    complete_as_file(cert)
    complete_as_file(key)
    parser.add_argument(
        "--vapid-subject",
        metavar="CONTACT",
        default=default(None),
        help="mailto: or https: contact for push services; stored once given",
    )
    parser.add_argument(
        "--max-lateness",
        type=lateness,
        metavar="DURATION",
        default=default(None),
        help="a one-shot reminder found later than this at start is marked missed, "
        "not sent; stored once given (default: 1h)",
    )
    parser.add_argument(
        "--allow-push-origin",
        metavar="ORIGIN",
        action="append",
        type=origin,
        default=default([]),
        help="also accept subscription endpoints on this exact origin "
        "(repeatable; for tests and private push services)",
    )


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


def open_services(args: argparse.Namespace, *, existing: bool = False) -> Services:
    """The services over the data folder; ``existing`` refuses to create one."""
    config = config_from(args)
    if existing and not config.database_path.exists():
        raise PushdeskError(
            f"There is no pushdesk data in {config.data_dir}; check --data-dir "
            f"or ${DATA_DIR_ENV}."
        )
    store = open_store(config)
    return Services(store, EventHub(), system_clock)


def failure_sentence(exc: PushdeskError | sqlite3.DatabaseError | OSError) -> str:
    """What ``main()`` says on stderr (after "pushdesk: ") for a failure that
    ends a command, for a command that also reports it on stdout."""
    if isinstance(exc, sqlite3.DatabaseError):
        return f"The database cannot be read ({exc})."
    if isinstance(exc, OSError):
        # A file or folder pushdesk needs is not usable; say which, briefly.
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror or exc}{where}."
    return str(exc)


def print_rows(rows: list[dict[str, Any]], as_json: bool, columns: list[str]) -> None:
    if as_json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        print("(none)")
        return

    cells = [[cell(row[c]) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    header = (c.upper().ljust(w) for c, w in zip(columns, widths, strict=True))
    print("  ".join(header).rstrip())
    for row_cells in cells:
        line = (v.ljust(w) for v, w in zip(row_cells, widths, strict=True))
        print("  ".join(line).rstrip())


def cell(value: Any, limit: int | None = 40) -> str:
    # Labels come from the network: never let one put escape sequences on the
    # operator's terminal.
    if isinstance(value, list):
        value = ", ".join(map(str, value))
    text = "" if value is None else str(value)
    text = "".join(c if c.isprintable() else " " for c in text)
    text = " ".join(text.split())
    if limit is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"
