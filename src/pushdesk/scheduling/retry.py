"""When to try a send again after a passing failure."""

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pushdesk.domain import RetryLater


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, a bounded number of attempts.

    A push service's own Retry-After wins; it is never retried earlier.
    """

    first_delay: timedelta = timedelta(seconds=30)
    longest_delay: timedelta = timedelta(hours=1)
    max_attempts: int = 5
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def next_attempt(
        self, outcome: RetryLater, attempts_made: int, now: datetime
    ) -> datetime | None:
        """When to try again after ``attempts_made`` attempts; None to give up."""
        if attempts_made >= self.max_attempts:
            return None
        if outcome.after is not None:
            return now + timedelta(seconds=outcome.after)

        doubled = self.first_delay * (1 << min(attempts_made - 1, 30))
        ceiling = min(doubled, self.longest_delay)

        # Half to all of the ceiling: enough spread that devices failing
        # together do not come back together.
        spread: float = self.rng.uniform(0.5, 1.0)
        return now + ceiling * spread
