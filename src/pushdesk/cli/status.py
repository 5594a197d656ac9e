"""``pushdesk status``: a health check for monitoring."""

import argparse
import sqlite3
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from pushdesk.cli.common import (
    Verbs,
    add_command,
    add_json_option,
    config_from,
    failure_sentence,
    open_services,
    print_one,
)
from pushdesk.clock import system_clock
from pushdesk.errors import PushdeskError
from pushdesk.services.health import Health
from pushdesk.store.db import to_db_time


def add_commands(verbs: Verbs) -> None:
    status = add_command(
        verbs,
        "status",
        "check that pushdesk is running and nothing needs the operator",
        "Check that pushdesk runs on this data folder and no alert stands.\n\n"
        "Healthy means a pushdesk (the app or serve) wrote its heartbeat in the "
        "last 10 seconds and no alert awaits the operator. Also shows the "
        "devices, the reminders waiting and those that failed in the last 24 "
        "hours.\n\n"
        "Exits 0 when healthy, 1 otherwise, saying why on stderr.",
        "pushdesk status --json",
        "pushdesk status --data-dir /srv/pushdesk",
        run=run_status,
    )
    add_json_option(status)


def run_status(args: argparse.Namespace) -> int:
    data_dir = config_from(args).data_dir
    try:
        health = open_services(args, existing=True).health.check()
    except (PushdeskError, sqlite3.DatabaseError, OSError) as exc:
        if not args.json:
            raise  # main() says it in one sentence, as for any command
        # A monitor piping --json into jq needs an answer to read here too.
        failure = failure_sentence(exc)
        print_one(_unchecked_row(data_dir, failure), as_json=True)
        print(f"pushdesk: {failure}", file=sys.stderr)
        return 1

    problem = _problem(health, data_dir)

    if args.json:
        print_one(_json_row(health, data_dir, problem), as_json=True)
    else:
        _print_report(health, data_dir)
    if problem is None:
        return 0
    print(f"pushdesk: {problem}", file=sys.stderr)
    return 1


def _problem(health: Health, data_dir: Path) -> str | None:
    """Why pushdesk is not healthy, in one sentence; None when it is."""
    if not health.running:
        last = health.last_heartbeat
        since = f" (last heartbeat {_ago(health.checked_at - last)})" if last else ""
        return f"No pushdesk is running on {data_dir}{since}."
    if len(health.alerts) == 1:
        return f"There is a standing alert on {data_dir}: {health.alerts[0]}"
    if health.alerts:
        return (
            f"There are {len(health.alerts)} standing alerts on {data_dir}; "
            f"the oldest: {health.alerts[0]}"
        )
    return None


def _json_row(health: Health, data_dir: Path, problem: str | None) -> dict[str, Any]:
    last = health.last_heartbeat
    return {
        "healthy": health.healthy,
        "problem": problem,
        "data_dir": str(data_dir),
        "running": health.running,
        "last_heartbeat_at": to_db_time(last) if last else None,
        "checked_at": to_db_time(health.checked_at),
        "devices": health.devices,
        "scheduled_reminders": health.scheduled,
        "failed_reminders_24h": health.failed_recently,
        "sending_paused": health.sending_paused,
        "alerts": health.alerts,
    }


def _unchecked_row(data_dir: Path, problem: str) -> dict[str, Any]:
    """The fields of --json when the data folder cannot be checked at all:
    the same names, null for what could not be read."""
    return {
        "healthy": False,
        "problem": problem,
        "data_dir": str(data_dir),
        "running": None,
        "last_heartbeat_at": None,
        "checked_at": to_db_time(system_clock()),
        "devices": None,
        "scheduled_reminders": None,
        "failed_reminders_24h": None,
        "sending_paused": None,
        "alerts": None,
    }


def _print_report(health: Health, data_dir: Path) -> None:
    last = health.last_heartbeat
    if last is None:
        heartbeat = "no heartbeat since the last clean stop"
    else:
        heartbeat = f"last heartbeat {_ago(health.checked_at - last)}"
    report: dict[str, Any] = {
        "status": "healthy" if health.healthy else "unhealthy",
        "data_dir": str(data_dir),
        "running": f"{'yes' if health.running else 'no'} ({heartbeat})",
        "devices": health.devices,
        "scheduled_reminders": health.scheduled,
        "failed_reminders_24h": health.failed_recently,
        "sending": "paused" if health.sending_paused else "on",
        "alerts": len(health.alerts),
    }
    for number, alert in enumerate(health.alerts, start=1):
        report[f"alert_{number}"] = alert
    print_one(report, as_json=False)


def _ago(age: timedelta) -> str:
    seconds = max(int(age.total_seconds()), 0)
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min ago"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"
