"""Scheduled payouts on real servers: PostgreSQL event store, MariaDB read models."""

from __future__ import annotations

from tests.e2e.backends import OnServers
from tests.e2e.payout_schedule_scenarios import PayoutScheduleScenarios


class TestPayoutScheduleOnServers(OnServers, PayoutScheduleScenarios):
    pass
