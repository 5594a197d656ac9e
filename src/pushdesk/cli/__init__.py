"""The ``pushdesk`` command: the desktop app, ``serve`` and the operator's verbs.

Each area has its module; each adds its commands to the parser here.
"""

import argparse
import os
import sqlite3
import sys
import textwrap
from collections.abc import Sequence

from pushdesk import __version__, log
from pushdesk.cli import (
    completion,
    delivery_log,
    devices,
    groups,
    reminders,
    running,
    settings,
    status,
)
from pushdesk.cli.common import (
    Run,
    add_common_options,
    add_running_options,
    config_from,
    failure_sentence,
    parse_duration,
)
from pushdesk.errors import PushdeskError

__all__ = ["build_parser", "config_from", "main", "parse_duration"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pushdesk",
        # Filled here, as every command's help is (add_command): the raw
        # formatter keeps the examples one to a line but wraps nothing.
        description=textwrap.fill(
            "Send Web Push reminders to phones and browsers on your LAN. "
            "Without a command, starts the desktop app.",
            79,
        ),
        epilog="Example: pushdesk serve --vapid-subject mailto:you@example.org\n"
        'Example: pushdesk remind "Tea is ready" --in 5m\n'
        "Every command has its own --help, e.g. pushdesk reminders --help.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_common_options(parser, top=True)
    add_running_options(parser, top=True)
    parser.add_argument(
        "--version", action="version", version=f"pushdesk {__version__}"
    )
    parser.set_defaults(command=running.run_desktop)
    verbs = parser.add_subparsers(title="commands", metavar="COMMAND")

    running.add_commands(verbs)
    reminders.add_commands(verbs)
    devices.add_commands(verbs)
    groups.add_commands(verbs)
    delivery_log.add_commands(verbs)
    settings.add_commands(verbs)
    completion.add_commands(verbs)
    status.add_commands(verbs)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.json = getattr(args, "json", False)
    command: Run = args.command
    long_running = command in (running.run_desktop, running.run_serve)
    log.configure(args.log_level or ("info" if long_running else "warning"))
    try:
        return command(args)
    except BrokenPipeError:
        # The reader went away (`pushdesk log | head`): nothing to say, and
        # nothing more to print; stdout is closed quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except (PushdeskError, sqlite3.DatabaseError, OSError) as exc:
        print(f"pushdesk: {failure_sentence(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
