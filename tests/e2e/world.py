"""What the end-to-end scenarios share: a super admin, and marketplaces with their users."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import pytest

from api.bootstrap import Container
from domain.base import PLATFORM_TENANT_ID
from eventstore.context import CommandContext
from tests.e2e.client import Api

PASSWORD = "correct horse battery"


@dataclass
class Marketplace:
    tenant_id: str
    admin_email: str
    admin_token: str


class ApiScenarios:
    """Subclasses provide `container` (migrated) and `api` (an Api on it)."""

    @pytest.fixture
    def root(self, container: Container, api: Api) -> str:
        email = f"root-{uuid4().hex[:8]}@velora.dev"
        container.identity.ensure_superuser(
            CommandContext.system("test"), email=email, password=PASSWORD
        )
        return api.sign_in(email, PASSWORD)

    def marketplace(
        self,
        api: Api,
        root: str,
        name: str = "Acme",
        moderation: str = "required",
        hold_days: int = 7,
        currency: str = "USD",
        commission_bps: int = 1000,
        **settings: Any,
    ) -> Marketplace:
        tenant_id = api.created(
            api.post(
                "/v1/tenants",
                token=root,
                json={
                    "name": name,
                    "currency": currency,
                    "commission_bps": commission_bps,
                    "escrow_hold_days": hold_days,
                    "product_moderation": moderation,
                    **settings,
                },
            )
        )
        email = f"admin-{uuid4().hex[:8]}@{name.lower()}.test"
        api.created(
            api.post(
                f"/v1/tenants/{tenant_id}/users",
                token=root,
                json={
                    "email": email,
                    "password": PASSWORD,
                    "roles": ["marketplace_admin"],
                },
            )
        )
        return Marketplace(tenant_id, email, api.sign_in(email, PASSWORD, tenant_id))

    def user(self, api: Api, m: Marketplace, role: str) -> str:
        """Adds a user with one role to the marketplace and returns its access token."""
        email = f"{role}-{uuid4().hex[:8]}@m.test"
        api.created(
            api.post(
                f"/v1/tenants/{m.tenant_id}/users",
                token=m.admin_token,
                json={"email": email, "password": PASSWORD, "roles": [role]},
            )
        )
        return api.sign_in(email, PASSWORD, m.tenant_id)

    def platform_user(self, api: Api, root: str, role: str) -> str:
        """Platform staff (finance_admin, auditor) act across tenants; returns a token."""
        email = f"{role}-{uuid4().hex[:8]}@platform.test"
        api.created(
            api.post(
                f"/v1/tenants/{PLATFORM_TENANT_ID}/users",
                token=root,
                json={"email": email, "password": PASSWORD, "roles": [role]},
            )
        )
        return api.sign_in(email, PASSWORD)
