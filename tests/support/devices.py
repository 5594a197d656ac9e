"""Devices stored straight through the service, for tests that never push."""

from pushdesk.domain import SubscriptionInput
from pushdesk.services import Services
from tests.support.keys import AUTH, P256DH


def add_device(services: Services, name: str, groups: tuple[str, ...] = ()) -> int:
    """A subscribed device labelled ``name``; its id."""
    device, _ = services.subscriptions.register(
        SubscriptionInput(
            endpoint=f"https://push.example.org/{name}",
            p256dh=P256DH,
            auth=AUTH,
            label=name,
            user_agent=None,
        )
    )
    if groups:
        services.subscriptions.set_groups(device.id, groups)
    return device.id
