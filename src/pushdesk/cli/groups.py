"""Groups of devices from the command line: list, create, rename, delete."""

import argparse

from pushdesk.cli.common import (
    Verbs,
    add_command,
    add_json_option,
    cell,
    open_services,
    print_rows,
)


def add_commands(verbs: Verbs) -> None:
    groups = add_command(
        verbs,
        "groups",
        "list groups, or create, rename or delete one",
        "List the groups of devices, with how many devices each has, or change "
        "one with a verb below. Group names compare without case.",
        "pushdesk groups --json",
        "pushdesk groups rename Kitchen Cooks",
        run=run_list_groups,
    )
    add_json_option(groups)
    actions = groups.add_subparsers(title="verbs", metavar="VERB")

    create = add_command(
        actions,
        "create",
        "add an empty group",
        "Add a group with no devices yet; `pushdesk devices add-group` puts "
        "devices in it.",
        "pushdesk groups create 'Night shift'",
        run=run_create,
    )
    create.add_argument("name", metavar="NAME", help="at most 50 characters, no commas")

    rename = add_command(
        actions,
        "rename",
        "give a group another name",
        "Give a group another name. Its devices stay in it, and the scheduled "
        "reminders that go to it follow the new name.",
        "pushdesk groups rename Kitchen Cooks",
        run=run_rename,
    )
    rename.add_argument("old", metavar="OLD", help="the group's name now")
    rename.add_argument("new", metavar="NEW", help="its new name")

    delete = add_command(
        actions,
        "delete",
        "delete a group (its devices stay)",
        "Delete a group; its devices stay, in their other groups. Refused while "
        "a scheduled reminder goes to the group: edit or cancel that first.",
        "pushdesk groups delete 'Night shift'",
        run=run_delete,
    )
    delete.add_argument("name", metavar="NAME", help="the group to delete")


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
