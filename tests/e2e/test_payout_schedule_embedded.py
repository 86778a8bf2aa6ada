from __future__ import annotations

from tests.e2e.backends import Embedded
from tests.e2e.payout_schedule_scenarios import PayoutScheduleScenarios


class TestPayoutScheduleEmbedded(Embedded, PayoutScheduleScenarios):
    pass
