"""Model-based test of the identity context: random commands through the real application and
projector (SQLite), checked after every step against a plain-dict model of what must be true."""

from __future__ import annotations

import tempfile
from pathlib import Path
from uuid import UUID, uuid4

import sqlalchemy as sa
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from adapters.email.log import LoggingEmail
from api.security import Argon2Hasher
from domain.errors import DomainError
from domain.identity import EmailAlreadyRegistered, TenantNotFound
from domain.roles import InvalidRoles, RoleNotGrantable
from eventstore.context import CommandContext
from eventstore.log import open_event_log
from migrations import runner as migrate
from projections.identity.projector import IdentityProjector
from projections.identity.tables import tenants, users
from projections.runner import ProjectionRunner
from projections.store import ReadStore, make_engine
from services.account_mail import AccountMail
from services.identity import IdentityApplication

EMAILS = [f"{n}@shop.test" for n in ("ann", "Ann", "bob", "cy")]
ROLES = ["buyer", "seller", "marketplace_admin", "finance_admin", "auditor", "super_admin"]
GRANTERS = [["super_admin"], ["marketplace_admin"], ["seller"]]


class IdentityMachine(RuleBasedStateMachine):
    tenants_made = Bundle("tenants")

    @initialize()
    def open_stores(self) -> None:
        self.dir = Path(tempfile.mkdtemp())
        self.log = open_event_log(None, self.dir)
        self.log.migrate()
        self.store = ReadStore(make_engine(None, self.dir))
        migrate.upgrade(self.store.engine)
        hasher = Argon2Hasher(time_cost=1, memory_cost_kib=256)
        self.app = IdentityApplication(self.log, hasher, AccountMail(LoggingEmail()))
        self.runner = ProjectionRunner(self.log, self.store, IdentityProjector(), batch_size=7)
        self.model_tenants: set[str] = set()
        self.model_users: dict[tuple[str, str], list[str]] = {}

    def teardown(self) -> None:
        self.log.close()
        self.store.engine.dispose()

    def ctx(self) -> CommandContext:
        return CommandContext.system("hypothesis")

    @rule(target=tenants_made, commission=st.integers(-10, 10_010))
    def register_tenant(self, commission: int) -> str:
        head = self.log.head()
        try:
            result = self.app.register_tenant(
                self.ctx(), name="T", currency="USD", commission_bps=commission, escrow_hold_days=1
            )
        except DomainError:
            assert not 0 <= commission <= 10_000
            assert self.log.head() == head
            return str(uuid4())  # a tenant id that was never registered
        assert 0 <= commission <= 10_000
        self.model_tenants.add(str(result.id))
        return str(result.id)

    @rule(
        tenant=tenants_made,
        email=st.sampled_from(EMAILS),
        roles=st.lists(st.sampled_from(ROLES), min_size=1, max_size=3, unique=True),
        granter=st.sampled_from(GRANTERS),
    )
    def register_user(self, tenant: str, email: str, roles: list[str], granter: list[str]) -> None:
        head = self.log.head()
        key = (tenant, email.lower())
        try:
            self.app.register_user(
                self.ctx(),
                tenant_id=UUID(tenant),
                email=email,
                password="long-enough",
                roles=roles,
                granter_roles=granter,
            )
        except RoleNotGrantable:
            assert "super_admin" not in granter
        except TenantNotFound:
            assert tenant not in self.model_tenants
        except InvalidRoles:
            assert "super_admin" in roles
        except EmailAlreadyRegistered:
            assert key in self.model_users
        else:
            assert tenant in self.model_tenants and key not in self.model_users
            self.model_users[key] = sorted(roles)
            return
        assert self.log.head() == head  # a refused command records nothing

    @invariant()
    def read_models_match_the_model(self) -> None:
        if not hasattr(self, "runner"):
            return
        self.runner.catch_up()
        with self.store.read() as conn:
            projected_tenants = {r.tenant_id for r in conn.execute(sa.select(tenants.c.tenant_id))}
            projected_users = {
                (r.tenant_id, r.email): sorted(r.roles)
                for r in conn.execute(sa.select(users.c.tenant_id, users.c.email, users.c.roles))
            }
        assert projected_tenants == self.model_tenants
        assert projected_users == self.model_users
        assert self.store.position("identity") == self.log.head()


IdentityMachine.TestCase.settings = settings(max_examples=25, stateful_step_count=15, deadline=None)
TestIdentityMachine = IdentityMachine.TestCase
