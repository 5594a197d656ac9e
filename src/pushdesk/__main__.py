from pushdesk.cli import main

# The guard matters: the encryption worker is started with "spawn", which
# imports this module again in the child process.
if __name__ == "__main__":
    raise SystemExit(main())
