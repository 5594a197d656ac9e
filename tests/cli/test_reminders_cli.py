"""``pushdesk remind`` and ``pushdesk reminders``, against a real data folder.

The commands read the system clock, so reminders made here are due relative
to the real time (a FakeClock set to now), with margins of hours.
"""

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pushdesk.domain import (
    Delivered,
    Failed,
    ReminderStatus,
    Replacement,
    SubscriptionInput,
    Target,
    Urgency,
)
from pushdesk.errors import NotFound
from pushdesk.scheduling.recurrence import parse_rule
from pushdesk.services import Services
from pushdesk.store import Store
from pushdesk.store.deliveries import DeliveryQuery
from pushdesk.store.sends import Settlement
from tests.support.cli import (
    Cli,
    assert_refused_without_data,
    facts,
    help_text,
    utc,
)
from tests.support.clock import FakeClock
from tests.support.devices import add_device
from tests.support.keys import AUTH, P256DH

# The JSON fields `reminders --json` had before the verbs came; kept as they were.
FIRST_FIELDS = [
    "id",
    "title",
    "message",
    "url",
    "due_at",
    "status",
    "sent_at",
    "late",
    "target",
    "repeat",
    "visitor_device",
    "ttl",
    "urgency",
    "delivered",
    "displayed",
    "clicked",
]
ADDED_FIELDS = ["failed", "icon", "visitor", "created_at"]


# remind


def test_remind_takes_every_option_the_dialog_has(
    cli: Cli, services: Services, store: Store
) -> None:
    services.subscriptions.create_group("Kitchen")
    anna = add_device(services, "Anna")

    code, out, err = cli(
        "remind",
        "Lunch is ready",
        "--title",
        "Canteen",
        "--url",
        "https://intranet.example/lunch",
        "--icon",
        "https://intranet.example/soup.png",
        "--to",
        "Kitchen",
        "--to-device",
        f"#{anna}",
        "--at",
        "2030-06-03T12:30",
        "--tz",
        "Europe/Berlin",
        "--repeat",
        "weekdays",
        "--ttl",
        "10m",
        "--urgency",
        "high",
    )

    assert code == 0, err
    reminder = store.reminders.get(int(out))
    assert (reminder.title, reminder.message) == ("Canteen", "Lunch is ready")
    assert reminder.url == "https://intranet.example/lunch"
    assert reminder.icon == "https://intranet.example/soup.png"
    assert reminder.target == Target(("Kitchen",), (anna,))
    assert reminder.due_at == datetime(2030, 6, 3, 10, 30, tzinfo=UTC)
    assert reminder.repeat == parse_rule("weekdays", "Europe/Berlin").to_text()
    assert (reminder.ttl, reminder.urgency) == (600, Urgency.HIGH)
    assert err == (
        f"Reminder {reminder.id} scheduled: due "
        f"{reminder.due_at.astimezone():%Y-%m-%d %H:%M}, would reach 1 device now.\n"
    )


def test_remind_defaults_to_the_ttl_and_urgency_saved_in_settings(
    cli: Cli, services: Services, store: Store
) -> None:
    saved = services.settings.current()
    services.settings.save(
        replace(
            saved,
            vapid_subject="mailto:ops@example.org",
            default_ttl=timedelta(hours=2),
            default_urgency=Urgency.LOW,
        )
    )

    _, out, _ = cli("remind", "Stand-up", "--in", "5m")

    reminder = store.reminders.get(int(out))
    assert (reminder.ttl, reminder.urgency) == (7200, Urgency.LOW)


def test_to_subscription_still_works_and_says_its_new_name(
    cli: Cli, services: Services, store: Store
) -> None:
    anna = add_device(services, "Anna")

    code, out, err = cli("remind", "x", "--in", "5m", "--to-subscription", str(anna))

    assert code == 0
    assert store.reminders.get(int(out)).target == Target(subscription_ids=(anna,))
    assert "--to-subscription is now called --to-device" in err


def test_to_subscription_is_not_in_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    shown = help_text(capsys, "remind")

    assert "--to-device" in shown
    assert "--to-subscription" not in shown


@pytest.mark.parametrize("command", [["remind"], ["reminders", "edit"]], ids=" ".join)
def test_to_device_help_names_the_devices_command(
    capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    shown = " ".join(help_text(capsys, *command).split())

    assert "by the id `pushdesk devices` shows" in shown
    assert "pushdesk subscribers" not in shown


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--icon", "javascript:alert(1)"], "The icon must be the http://"),
        (["--to-device", "5"], "There is no device 5."),
        (["--ttl", "29d"], "The TTL must be from 0 to"),
        (["--tz", "Mars/Olympus"], "'Mars/Olympus' is not a time zone"),
    ],
)
def test_remind_refuses_what_cannot_be_sent_in_one_sentence(
    cli: Cli, store: Store, argv: list[str], message: str
) -> None:
    code, out, err = cli("remind", "x", "--in", "5m", *argv)

    assert (code, out) == (1, "")
    assert err.startswith(f"pushdesk: {message}")
    assert err.count("\n") == 1
    assert store.reminders.all() == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--urgency", "asap"], "invalid choice: 'asap'"),
        (["--to-device", "first"], "'first' is not an id"),
        (["--at", "noon"], "is not an ISO 8601"),
    ],
)
def test_remind_usage_errors_exit_2(cli: Cli, argv: list[str], message: str) -> None:
    assert message in cli.usage_error("remind", "x", "--in", "5m", *argv)


# reminders (the listing)


@pytest.fixture
def several(services: Services, clock: FakeClock) -> dict[str, int]:
    """Reminders of each kind, by title; Anna's device set the one titled
    "Reminder" from the page."""
    services.subscriptions.create_group("Kitchen")
    bert = add_device(services, "Bert")
    anna, _ = services.subscriptions.register(
        SubscriptionInput("https://push.example.org/anna", P256DH, AUTH, label="Anna")
    )

    def schedule(title: str, message: str, hours: float, target: Target) -> int:
        due = clock.now + timedelta(hours=hours)
        return services.reminders.schedule(title, message, None, due, target=target).id

    ids = {
        "Coffee": schedule("Coffee", "Beans are in", 1, Target()),
        "Bins": schedule("Bins", "Out tonight", 30, Target(groups=("Kitchen",))),
        "Call": schedule("Call", "Ring Bert", 3, Target(subscription_ids=(bert,))),
        "Old": schedule("Old", "Never mind", 2, Target()),
    }
    services.reminders.cancel(ids["Old"])
    ids["Reminder"] = services.self_reminders.create(
        Replacement(anna.endpoint, AUTH), "Oven", in_minutes=5
    ).id
    return ids


def titles(rows: list[dict[str, object]]) -> list[object]:
    return [row["title"] for row in rows]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], ["Reminder", "Coffee", "Old", "Call", "Bins"]),
        (["--reverse"], ["Bins", "Call", "Old", "Coffee", "Reminder"]),
        (["--sort", "title"], ["Bins", "Call", "Coffee", "Old", "Reminder"]),
        (["--status", "upcoming"], ["Reminder", "Coffee", "Call", "Bins"]),
        (["--status", "cancelled", "--status", "sent"], ["Old"]),
        (["--target", "everyone"], ["Coffee", "Old"]),
        (["--target", "visitors"], ["Reminder"]),
        (["--target", "group:kitchen"], ["Bins"]),
        (["--target", "device:#1"], ["Call"]),
        (["--text", "BEANS"], ["Coffee"]),
        (["--text", "ring"], ["Call"]),
        (["--until", "90m"], ["Reminder", "Coffee"]),
        (["--from", "150m", "--until", "1d"], ["Call"]),
        (["--from=-1h", "--until", "10m"], ["Reminder"]),
        (["--limit", "2"], ["Reminder", "Coffee"]),
    ],
)
def test_the_listing_filters_and_sorts_as_asked(
    cli: Cli, several: dict[str, int], argv: list[str], expected: list[str]
) -> None:
    assert titles(cli.json("reminders", *argv)) == expected


def test_the_listing_takes_iso_times_in_local_time_or_with_an_offset(
    cli: Cli, several: dict[str, int], clock: FakeClock
) -> None:
    start = (clock.now + timedelta(hours=2.5)).astimezone().replace(tzinfo=None)
    end = clock.now + timedelta(hours=24)

    rows = cli.json(
        "reminders", "--from", start.isoformat(), "--until", end.isoformat()
    )

    assert titles(rows) == ["Call"]


def test_the_table_shows_when_in_local_time_and_whom_it_goes_to(
    cli: Cli, several: dict[str, int], store: Store
) -> None:
    code, out, err = cli("reminders", "--sort", "title")

    assert (code, err) == (0, "")
    header, *lines = out.splitlines()
    assert header.split() == ["ID", "WHEN", "STATUS", "TO", "TITLE", "MESSAGE"]
    bins = store.reminders.get(several["Bins"])
    assert re.split(r"\s{2,}", lines[0].strip()) == [
        str(bins.id),
        f"{bins.due_at.astimezone():%Y-%m-%d %H:%M}",
        "scheduled",
        "group Kitchen",
        "Bins",
        "Out tonight",
    ]
    assert "device 1" in lines[1]
    assert "visitor on Anna" in lines[4]
    assert "cancelled" in lines[3]


def test_an_unknown_group_is_an_error_not_an_empty_listing(
    cli: Cli, several: dict[str, int]
) -> None:
    assert cli("reminders", "--target", "group:NoSuch") == (
        1,
        "",
        "pushdesk: There is no group NoSuch.\n",
    )


def test_a_group_without_reminders_lists_none(
    cli: Cli, several: dict[str, int], services: Services
) -> None:
    services.subscriptions.create_group("Garden")

    assert cli("reminders", "--target", "group:garden") == (0, "(none)\n", "")


def test_a_deleted_group_still_lists_the_reminders_that_went_to_it(
    cli: Cli, several: dict[str, int], services: Services
) -> None:
    services.reminders.cancel(several["Bins"])
    services.subscriptions.delete_group("Kitchen")

    assert titles(cli.json("reminders", "--target", "group:Kitchen")) == ["Bins"]


def test_a_limited_listing_says_how_many_it_left_out(
    cli: Cli, several: dict[str, int]
) -> None:
    code, out, err = cli("reminders", "--limit", "3")

    assert code == 0
    assert len(out.splitlines()) == 1 + 3
    assert err == "3 of 5 shown; raise --limit to see more.\n"


def test_listing_json_keeps_its_fields_and_adds_new_ones_after_them(
    cli: Cli, several: dict[str, int], services: Services
) -> None:
    rows = {row["title"]: row for row in cli.json("reminders")}

    assert list(rows["Coffee"]) == FIRST_FIELDS + ADDED_FIELDS
    visitor = rows["Reminder"]
    assert visitor["visitor"] == "Anna"
    assert visitor["visitor_device"] == 2
    assert visitor["target"] == {"groups": [], "subscriptions": [2]}
    assert rows["Bins"]["target"] == {"groups": ["Kitchen"], "subscriptions": []}
    coffee = services.reminders.get(several["Coffee"])
    assert rows["Coffee"]["due_at"] == utc(coffee.due_at)
    assert rows["Coffee"]["created_at"] == utc(coffee.created_at)
    assert (rows["Coffee"]["icon"], rows["Coffee"]["failed"]) == (None, 0)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--status", "done"], "invalid choice: 'done'"),
        (["--target", "kitchen"], "'kitchen' is not a target; write everyone"),
        (["--target", "group:"], "'group:' is not a target"),
        (["--target", "device:me"], "'me' is not an id"),
        (["--from", "yesterday"], "'yesterday' is neither a time"),
        (["--until", "2026-13-01"], "is neither a time"),
        (["--limit", "0"], "'0' is not a number from 1 up"),
        (["--sort", "size"], "invalid choice: 'size'"),
    ],
)
def test_listing_usage_errors_exit_2(
    cli: Cli, store: Store, argv: list[str], message: str
) -> None:
    assert message in cli.usage_error("reminders", *argv)


def test_a_range_that_ends_before_it_starts_is_one_sentence(
    cli: Cli, store: Store
) -> None:
    code, _, err = cli("reminders", "--from", "2h", "--until", "1h")

    assert (code, err) == (1, "pushdesk: --from is later than --until.\n")


# reminders show


@pytest.fixture
def delivered(services: Services, store: Store, clock: FakeClock) -> int:
    """A reminder sent to three devices: two took it, one failed; both that took
    it showed it, one was opened."""
    devices = [add_device(services, name) for name in ("Anna", "Bert", "Cleo")]
    reminder = services.reminders.schedule("Fire drill", "At 10", None, clock.now)
    store.reminders.fire(reminder, devices, clock.now, late=False, next_due=None)
    settlements = []
    for job in store.sends.claim_ready("test", clock.now, limit=3):
        if job.subscription.id == devices[2]:
            settlements.append(Settlement(job, Failed(None, "bad keys"), "failed"))
        else:
            settlements.append(Settlement(job, Delivered(201), "delivered"))
    store.sends.settle(settlements, clock.now)
    store.reminders.finish(reminder.id, ReminderStatus.PARTLY_SENT, clock.now)
    for device in devices[:2]:
        services.reminders.record_receipt(reminder.id, device, "displayed")
    services.reminders.record_receipt(reminder.id, devices[0], "clicked")
    return reminder.id


def test_show_gives_the_delivery_counts(cli: Cli, delivered: int) -> None:
    code, out, err = cli("reminders", "show", f"#{delivered}")

    assert (code, err) == (0, "")
    shown = facts(out)
    assert shown["status"] == "partly_sent"
    assert (shown["to"], shown["set by"], shown["url"]) == (
        "everyone",
        "the operator",
        "",
    )
    counts = [shown[k] for k in ("delivered", "failed", "displayed", "clicked")]
    assert counts == ["2", "1", "2", "1"]

    [row] = [json.loads(cli("reminders", "show", str(delivered), "--json")[1])]
    assert list(row) == FIRST_FIELDS + ADDED_FIELDS
    assert [row[k] for k in ("delivered", "failed", "displayed", "clicked")] == [
        2,
        1,
        2,
        1,
    ]
    assert row["sent_at"] is not None


def test_show_describes_the_target_the_repeat_rule_and_the_visitor(
    cli: Cli, services: Services, several: dict[str, int]
) -> None:
    _, out, _ = cli(
        "remind",
        "Bins",
        "--at",
        "2030-06-03T19:00",
        "--tz",
        "Europe/Berlin",
        "--repeat",
        "weekly mon",
        "--to",
        "Kitchen",
        "--to-device",
        "1",
        "--ttl",
        "90m",
    )

    shown = facts(cli("reminders", "show", out.strip())[1])
    assert shown["to"] == "group Kitchen, device 1"
    assert shown["repeat"] == "weekly on Mon at 19:00 (Europe/Berlin)"
    assert shown["ttl"] == "90m"

    visitor = facts(cli("reminders", "show", str(several["Reminder"]))[1])
    assert visitor["set by"] == "the visitor on Anna (device 2)"
    assert visitor["repeat"] == "no"


def test_show_never_prints_control_characters_from_a_visitors_device_name(
    cli: Cli, store: Store, several: dict[str, int]
) -> None:
    # A name no page may send, as if written into the database by other means.
    store.db.execute(
        "UPDATE subscriptions SET label = ? WHERE id = 2", ["\x1b]0;owned\x07Anna"]
    )
    store.db.conn.commit()

    _, out, _ = cli("reminders", "show", str(several["Reminder"]))
    _, listing, _ = cli("reminders")

    assert "owned" in out
    assert "\x1b" not in out + listing
    assert "\x07" not in out + listing


def test_reminder_service_gives_one_reminder_as_a_listing_line(
    services: Services, delivered: int
) -> None:
    line = services.reminders.line(delivered)

    assert (line.reach.delivered, line.reach.failed) == (2, 1)
    assert line.visitor is None
    with pytest.raises(NotFound, match=r"^There is no reminder 999\.$"):
        services.reminders.line(999)


# reminders edit


@pytest.fixture
def lunch(services: Services, clock: FakeClock) -> int:
    """A repeating reminder with every field set, due at 12:30 in Berlin."""
    services.subscriptions.create_group("Kitchen")
    add_device(services, "Anna", ("Kitchen",))
    due = datetime(2030, 6, 3, 10, 30, tzinfo=UTC)
    return services.reminders.schedule(
        "Canteen",
        "Lunch",
        "https://intranet.example/lunch",
        due,
        target=Target(groups=("Kitchen",)),
        ttl=600,
        urgency=Urgency.HIGH,
        repeat=parse_rule("weekdays", "Europe/Berlin"),
        icon="https://intranet.example/soup.png",
    ).id


def test_edit_changes_only_what_is_given(cli: Cli, store: Store, lunch: int) -> None:
    before = store.reminders.get(lunch)

    code, out, err = cli("reminders", "edit", str(lunch), "--title", "Mensa")

    assert (code, out) == (0, "")
    assert err.startswith(f"Reminder {lunch} saved: due ")
    assert store.reminders.get(lunch) == replace(before, title="Mensa")


def test_edit_changes_every_option_given(cli: Cli, store: Store, lunch: int) -> None:
    code, _, err = cli(
        "reminders",
        "edit",
        str(lunch),
        "--message",
        "Soup today",
        "--url",
        "https://intranet.example/menu",
        "--icon",
        "https://intranet.example/bowl.png",
        "--at",
        "2030-06-04T13:00",
        "--repeat",
        "daily",
        "--to-device",
        "1",
        "--ttl",
        "1h",
        "--urgency",
        "low",
    )

    assert code == 0, err
    after = store.reminders.get(lunch)
    assert (after.title, after.message) == ("Canteen", "Soup today")
    assert (after.url, after.icon) == (
        "https://intranet.example/menu",
        "https://intranet.example/bowl.png",
    )
    # A time without an offset is read in the rule's zone, as the dialog shows it.
    assert after.due_at == datetime(2030, 6, 4, 11, 0, tzinfo=UTC)
    assert after.repeat == parse_rule("daily", "Europe/Berlin").to_text()
    assert after.target == Target(subscription_ids=(1,))
    assert (after.ttl, after.urgency) == (3600, Urgency.LOW)


def test_edit_clears_url_icon_repeat_and_target(
    cli: Cli, store: Store, lunch: int
) -> None:
    code, _, _ = cli(
        "reminders",
        "edit",
        str(lunch),
        "--no-url",
        "--no-icon",
        "--no-repeat",
        "--to-everyone",
    )

    assert code == 0
    after = store.reminders.get(lunch)
    assert (after.url, after.icon, after.repeat) == (None, None, None)
    assert after.target.everyone


def test_a_new_zone_alone_keeps_the_wall_clock_time(
    cli: Cli, store: Store, lunch: int
) -> None:
    cli("reminders", "edit", str(lunch), "--tz", "America/New_York")

    after = store.reminders.get(lunch)
    assert after.due_at == datetime(2030, 6, 3, 16, 30, tzinfo=UTC)  # 12:30 there
    assert after.repeat == parse_rule("weekdays", "America/New_York").to_text()


def test_edit_keeps_a_visitors_reminder_theirs(
    cli: Cli, store: Store, several: dict[str, int]
) -> None:
    code, _, _ = cli("reminders", "edit", str(several["Reminder"]), "--in", "2h")

    assert code == 0
    assert store.reminders.get(several["Reminder"]).visitor_device == 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--at", "2020-01-01T00:00"], "is in the past"),
        (["--to", "Garden"], "There is no group Garden."),
        (["--message", " "], "The message is empty."),
        (["--no-repeat", "--tz", "Asia/Tokyo"], "--tz applies to --at and"),
    ],
)
def test_edit_refuses_in_one_sentence_and_changes_nothing(
    cli: Cli, store: Store, lunch: int, argv: list[str], message: str
) -> None:
    before = store.reminders.get(lunch)

    code, _, err = cli("reminders", "edit", str(lunch), *argv)

    assert code == 1
    assert err.startswith("pushdesk: ")
    assert message in err
    assert err.count("\n") == 1
    assert store.reminders.get(lunch) == before


def test_only_a_scheduled_reminder_can_be_edited(
    cli: Cli, several: dict[str, int]
) -> None:
    code, _, err = cli("reminders", "edit", str(several["Old"]), "--title", "New")

    assert code == 1
    assert err == (
        f"pushdesk: Reminder {several['Old']} is cancelled; only a scheduled "
        "reminder can be edited.\n"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "give at least one option to change"),
        (["--to-everyone", "--to", "Kitchen"], "--to-everyone cannot go with"),
        (["--url", "https://x.example", "--no-url"], "not allowed with argument"),
        (["--in", "5m", "--at", "2030-01-01T00:00"], "not allowed with argument"),
    ],
)
def test_edit_usage_errors_exit_2(
    cli: Cli, lunch: int, argv: list[str], message: str
) -> None:
    assert message in cli.usage_error("reminders", "edit", str(lunch), *argv)


# cancel, send, delete


def test_cancel_cancels_and_says_so(
    cli: Cli, store: Store, several: dict[str, int]
) -> None:
    code, out, err = cli("reminders", "cancel", str(several["Coffee"]))

    assert (code, out) == (0, "")
    assert err == f"Reminder {several['Coffee']} cancelled.\n"
    assert store.reminders.get(several["Coffee"]).status is ReminderStatus.CANCELLED

    code, _, err = cli("reminders", "cancel", str(several["Coffee"]))
    assert code == 1
    assert "only a scheduled or sending reminder can be cancelled" in err


def test_send_queues_a_send_to_every_device_now(
    cli: Cli, store: Store, several: dict[str, int]
) -> None:
    coffee = several["Coffee"]

    code, out, err = cli("reminders", "send", str(coffee))

    assert (code, out) == (0, "")
    assert err.startswith(f"Reminder {coffee} is queued to go out now;")
    assert store.reminders.get(coffee).status is ReminderStatus.SENDING
    assert store.sends.states(coffee) == {"pending": 2}

    code, _, err = cli("reminders", "send", str(several["Old"]))
    assert code == 1
    assert "only a scheduled reminder can be sent now" in err


def test_send_keeps_a_repeating_reminders_schedule(
    cli: Cli, store: Store, lunch: int
) -> None:
    before = store.reminders.get(lunch)

    code, _, _ = cli("reminders", "send", str(lunch))

    assert code == 0
    assert store.sends.states(lunch) == {"pending": 1}
    assert store.reminders.get(lunch) == before


def test_delete_hides_a_reminder_and_keeps_its_delivery_log(
    cli: Cli, services: Services, delivered: int
) -> None:
    code, out, err = cli("reminders", "delete", str(delivered))

    assert (code, out) == (0, "")
    assert err == f"Reminder {delivered} deleted; its delivery log is kept.\n"
    assert cli.json("reminders") == []
    assert services.deliveries.count(DeliveryQuery(reminder_id=delivered)) == 3

    code, _, err = cli("reminders", "delete", str(delivered))
    assert (code, err) == (
        1,
        f"pushdesk: There is no reminder {delivered}; it was deleted.\n",
    )


def test_a_reminder_being_sent_is_not_deleted(
    cli: Cli, store: Store, several: dict[str, int]
) -> None:
    cli("reminders", "send", str(several["Coffee"]))

    code, _, err = cli("reminders", "delete", str(several["Coffee"]))

    assert code == 1
    assert err == (
        f"pushdesk: Reminder {several['Coffee']} is being sent; cancel it before "
        "deleting it.\n"
    )
    assert store.reminders.get(several["Coffee"]).status is ReminderStatus.SENDING


# What every verb shares


VERBS = ["show", "edit", "cancel", "send", "delete"]


@pytest.mark.parametrize("verb", VERBS)
def test_an_unknown_id_is_one_sentence(cli: Cli, store: Store, verb: str) -> None:
    more = ["--title", "x"] if verb == "edit" else []

    code, out, err = cli("reminders", verb, "42", *more)

    assert (code, out, err) == (1, "", "pushdesk: There is no reminder 42.\n")


@pytest.mark.parametrize("verb", VERBS)
def test_an_id_that_is_not_a_number_is_a_usage_error(cli: Cli, verb: str) -> None:
    assert "'twelve' is not an id, like 12" in cli.usage_error(
        "reminders", verb, "twelve"
    )


@pytest.mark.parametrize("verb", VERBS)
def test_verbs_never_create_a_data_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, verb: str
) -> None:
    missing = tmp_path / "typo"
    more = ["--title", "x"] if verb == "edit" else []

    assert_refused_without_data(capsys, missing, "reminders", verb, "1", *more)


@pytest.mark.parametrize(
    "command",
    [["remind"], ["reminders"], *(["reminders", verb] for verb in VERBS)],
    ids=" ".join,
)
def test_every_command_has_help_with_an_example(
    capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    assert f"Example: pushdesk {' '.join(command)} " in help_text(capsys, *command)


@pytest.mark.parametrize("verb", VERBS)
def test_the_id_argument_is_explained(
    capsys: pytest.CaptureFixture[str], verb: str
) -> None:
    out = help_text(capsys, "reminders", verb)

    assert re.search(r"^  ID +the reminder's id, as listed", out, re.MULTILINE)


def test_upcoming_is_scheduled_or_sending(
    cli: Cli, services: Services, several: dict[str, int]
) -> None:
    services.reminders.send_now(several["Coffee"])

    upcoming = titles(cli.json("reminders", "--status", "upcoming"))
    scheduled = titles(cli.json("reminders", "--status", "scheduled"))

    assert upcoming == ["Reminder", "Coffee", "Call", "Bins"]
    assert scheduled == ["Reminder", "Call", "Bins"]


def test_show_says_how_far_an_occurrence_going_out_has_got(
    cli: Cli, services: Services, store: Store, clock: FakeClock, lunch: int
) -> None:
    add_device(services, "Bert", ("Kitchen",))
    services.reminders.send_now(lunch)
    [job, _] = store.sends.claim_ready("test", clock.now, limit=2)
    store.sends.settle([Settlement(job, Delivered(201), "delivered")], clock.now)

    shown = facts(cli("reminders", "show", str(lunch))[1])

    assert shown["status"] == "sending 1 of 2"
    assert shown["delivered"] == "1"


@pytest.mark.parametrize("verb", ["show", "edit", "cancel", "send", "delete"])
def test_a_deleted_reminder_is_gone_for_every_verb(
    cli: Cli, services: Services, verb: str
) -> None:
    reminder = services.reminders.schedule(
        "Tea", "Kettle", None, services.now() + timedelta(hours=1)
    )
    services.reminders.delete(reminder.id)
    extra = ["--title", "New"] if verb == "edit" else []

    code, out, err = cli("reminders", verb, str(reminder.id), *extra)

    assert code == 1
    assert out == ""
    assert err == f"pushdesk: There is no reminder {reminder.id}; it was deleted.\n"
