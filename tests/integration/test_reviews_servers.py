"""The ratings and moderation scenarios on real servers: PostgreSQL and MariaDB."""

from __future__ import annotations

from tests.e2e.backends import OnServers
from tests.e2e.review_scenarios import ReviewScenarios


class TestReviewsOnServers(OnServers, ReviewScenarios):
    pass
