"""The long-running commands: the desktop app and ``serve``; and ``vapid-key``."""

import argparse
import asyncio
import signal

from pushdesk.app import Runtime, open_store
from pushdesk.cli.common import (
    Verbs,
    add_command,
    add_running_options,
    config_from,
)
from pushdesk.errors import PushdeskError
from pushdesk.events import Event, SettingsChanged
from pushdesk.log import APP
from pushdesk.push.vapid import load_or_create
from pushdesk.settings import Applies, applying


def add_commands(verbs: Verbs) -> None:
    serve = add_command(
        verbs,
        "serve",
        "run the server and scheduler without a window",
        "Run the server and scheduler without a window.",
        "pushdesk serve --vapid-subject mailto:ops@example.org",
        run=run_serve,
    )
    add_running_options(serve, top=False)

    add_command(
        verbs,
        "vapid-key",
        "print the VAPID public key",
        "Print the VAPID public key.",
        "pushdesk vapid-key",
        run=run_vapid_key,
    )


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
    # The window restarts the server when its address, ports or HTTPS mode
    # are saved; without a window (saved with `pushdesk settings set`), this.
    restarts: set[asyncio.Task[None]] = set()

    def on_event(event: Event) -> None:
        if isinstance(event, SettingsChanged) and applying(
            event.names, Applies.SERVER_RESTART
        ):
            task = loop.create_task(_restart(runtime))
            restarts.add(task)
            task.add_done_callback(restarts.discard)

    runtime.hub.subscribe(on_event)
    try:
        await stop.wait()
    finally:
        await runtime.stop()
    return 0


async def _restart(runtime: Runtime) -> None:
    try:
        await runtime.restart_server()
    except PushdeskError as exc:
        # Back on the old address and ports (restart_server saw to it).
        APP.error("the server cannot move to the new settings: %s", exc)


def run_vapid_key(args: argparse.Namespace) -> int:
    print(load_or_create(config_from(args).vapid_key_path).public_key)
    return 0
