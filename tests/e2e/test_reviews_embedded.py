from __future__ import annotations

from tests.e2e.backends import Embedded
from tests.e2e.review_scenarios import ReviewScenarios


class TestReviewsEmbedded(Embedded, ReviewScenarios):
    pass
