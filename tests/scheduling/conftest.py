import json

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
