import json

from pushdesk.scheduling.delivery import DeliveryEngine
from pushdesk.scheduling.scheduler import Scheduler
from pushdesk.services import Services
from tests.support.push_service import BrowserSubscription, PushServiceDouble


def subscribe(
    services: Services,
    push_service: PushServiceDouble,
    count: int = 1,
    groups: list[str] | None = None,
) -> list[BrowserSubscription]:
    browsers = [push_service.new_subscription() for _ in range(count)]
    for browser in browsers:
        document = browser.to_json() | {"groups": groups or []}
        services.subscriptions.import_text(
            json.dumps([document]), [push_service.origin]
        )
    return browsers


async def run_due(scheduler: Scheduler, engine: DeliveryEngine) -> None:
    """One round as the app runs it: fire what is due, send what is ready."""
    scheduler.fire_due()
    await engine.drain()
    engine.finish_settled()
