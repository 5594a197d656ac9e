"""Sending as the app sends, one round at a time, for tests that move a fake
clock instead of running the scheduler's and engine's loops."""

from pushdesk.scheduling.delivery import DeliveryEngine
from pushdesk.scheduling.scheduler import Scheduler


async def run_due(scheduler: Scheduler, engine: DeliveryEngine) -> None:
    """One round as the app runs it: fire what is due, send it, settle it."""
    scheduler.fire_due()
    await engine.drain()
    engine.finish_settled()
