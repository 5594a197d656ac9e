"""The one adapter around pywebpush and py-vapid. Library exceptions stop here."""
