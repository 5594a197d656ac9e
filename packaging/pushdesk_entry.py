"""The frozen bundle's entry point: ``pushdesk`` with the CLI's arguments."""

import multiprocessing

from pushdesk.cli import main

if __name__ == "__main__":
    # The encryption worker is a spawned process; in a frozen app it is this
    # executable started again, and freeze_support() turns it into the worker
    # instead of a second pushdesk.
    multiprocessing.freeze_support()
    raise SystemExit(main())
