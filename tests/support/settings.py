"""Operator settings changed straight through the service."""

from dataclasses import replace
from typing import Any

from pushdesk.services import Services


def change_settings(services: Services, **changes: Any) -> None:
    """Save the current settings with these fields changed."""
    services.settings.save(replace(services.settings.current(), **changes))
