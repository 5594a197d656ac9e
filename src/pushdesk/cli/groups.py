"""Groups of devices from the command line: list, create, rename, delete."""

import argparse

from pushdesk.cli.common import Verbs, add_json_option, cell, open_services, print_rows
from pushdesk.cli.devices import command


def add_commands(verbs: Verbs) -> None:
    groups = command(
        verbs,
        "groups",
        "list groups, or create, rename or delete one",
        "List the groups of devices, with how many devices each has, or change "
        "one with a verb below. Group names compare without case.",
        "pushdesk groups --json",
        "pushdesk groups rename Kitchen Cooks",
    )
    add_json_option(groups)
    groups.set_defaults(command=run_list_groups)
    actions = groups.add_subparsers(title="verbs", metavar="VERB")

    create = command(
        actions,
        "create",
        "add an empty group",
        "Add a group with no devices yet; `pushdesk devices add-group` puts "
        "devices in it.",
        "pushdesk groups create 'Night shift'",
    )
    create.add_argument("name", metavar="NAME", help="at most 50 characters, no commas")
    create.set_defaults(command=run_create)

    rename = command(
        actions,
        "rename",
        "give a group another name",
        "Give a group another name. Its devices stay in it, and the scheduled "
        "reminders that go to it follow the new name.",
        "pushdesk groups rename Kitchen Cooks",
    )
    rename.add_argument("old", metavar="OLD", help="the group's name now")
    rename.add_argument("new", metavar="NEW", help="its new name")
    rename.set_defaults(command=run_rename)

    delete = command(
        actions,
        "delete",
        "delete a group (its devices stay)",
        "Delete a group; its devices stay, in their other groups. Refused while "
        "a scheduled reminder goes to the group: edit or cancel that first.",
        "pushdesk groups delete 'Night shift'",
    )
    delete.add_argument("name", metavar="NAME", help="the group to delete")
    delete.set_defaults(command=run_delete)


def run_list_groups(args: argparse.Namespace) -> int:
    sizes = open_services(args, existing=True).subscriptions.group_sizes()
    rows = [{"name": name, "devices": count} for name, count in sizes.items()]
    print_rows(rows, args.json, ["name", "devices"])
    return 0


def run_create(args: argparse.Namespace) -> int:
    devices = open_services(args, existing=True).subscriptions
    name = devices.create_group(args.name, exist_ok=False)
    print(f"Group {cell(name, limit=None)} created.")
    return 0


def run_rename(args: argparse.Namespace) -> int:
    devices = open_services(args, existing=True).subscriptions
    old = devices.group(args.old)
    name = devices.rename_group(old, args.new)
    print(f"Group {cell(old, limit=None)} is now called {cell(name, limit=None)}.")
    return 0


def run_delete(args: argparse.Namespace) -> int:
    devices = open_services(args, existing=True).subscriptions
    name = devices.group(args.name)
    members = devices.delete_group(name)
    kept = {0: "it had no devices", 1: "its device stays"}.get(
        members, f"its {members} devices stay"
    )
    print(f"Group {cell(name, limit=None)} deleted; {kept}.")
    return 0
