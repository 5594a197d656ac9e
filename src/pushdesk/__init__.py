"""pushdesk: send Web Push reminders to phones and browsers on your LAN."""

__version__ = "0.1.0"
