"""The auditor's view over HTTP and the CLI: history and as-of state. Each backend set runs these
same scenarios."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from uuid import UUID, uuid4

from eventsourcing.domain import event

from api.bootstrap import Container
from domain.audit import PeriodSeal, ProjectionSkip
from domain.base import TenantAggregate
from eventstore.application import VeloraApplication
from eventstore.context import CommandContext
from tests.e2e.backends import VELORA, cli_env
from tests.e2e.client import Api, assert_problem
from tests.e2e.shop import Shop

SHIP = {"carrier": "DHL", "tracking_number": "JD014600006281230"}
# What an auditor sees in place of a secret: that there is one, never what it is.
SECRET = "[secret]"


class Vault(TenantAggregate):
    """A test aggregate whose events carry a secret, and that has no personal data: enough of
    its events make the audit trail keep a snapshot of it."""

    class Rekeyed(TenantAggregate.Event):
        secret: ClassVar[frozenset[str]] = frozenset({"token"})
        token: str

    @event("Opened")
    def __init__(self, tenant_id: UUID) -> None:
        self.tenant_id = tenant_id
        self.token = ""

    def rekey(self, token: str) -> None:
        self._rekeyed(token=token)

    @event(Rekeyed)
    def _rekeyed(self, token: str) -> None:
        self.token = token


def last_month() -> str:
    """The month before this one, YYYY-MM: always over, so it can be sealed."""
    return (datetime.now(UTC).replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


class AuditScenarios(Shop):
    def delivered_order(self, api: Api, root: str, container: Container) -> dict[str, Any]:
        m, seller, _, buyer, _ = self.shop(api, root)
        product = self.stocked(api, seller, 3, 4500, title="Lamp")
        order = self.checkout(api, buyer, self.cart(api, buyer, {product: 1})).json()
        self.pay(api, container, order["order_id"])
        (so,) = order["seller_orders"]
        api.post(f"/v1/seller-orders/{so['id']}/ship", token=seller, json=SHIP)
        api.post(f"/v1/seller-orders/{so['id']}/deliver", token=seller)
        buyer_id = api.get("/v1/me", token=buyer).json()["user_id"]
        return {"m": m, "order": order, "buyer": buyer, "buyer_id": buyer_id, "so": so["id"]}

    def test_history_shows_every_event_with_its_actor_and_tenant(
        self, api: Api, root: str, container: Container
    ) -> None:
        shop = self.delivered_order(api, root, container)
        auditor = self.platform_user(api, root, "auditor")
        path = f"/v1/audit/streams/{shop['so']}/events"
        body = api.get(path, token=auditor).json()
        events = body["items"]
        assert [e["type"] for e in events] == [
            "SellerOrder.Placed",
            "SellerOrder.Paid",
            "SellerOrder.Shipped",
            "SellerOrder.Delivered",
        ]
        assert [e["version"] for e in events] == [1, 2, 3, 4]
        assert {e["tenant_id"] for e in events} == {shop["m"].tenant_id}
        assert events[0]["actor"] == shop["buyer_id"]  # the buyer placed it
        assert events[1]["actor"] == "system:test:payment"
        assert events[2]["data"]["carrier"] == "DHL"
        times = [datetime.fromisoformat(e["timestamp"]) for e in events]
        assert times == sorted(times) and all(t.tzinfo is not None for t in times)
        assert body["next_cursor"] is None

        pages, cursor = [], None
        while True:
            params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
            page = api.get(path, token=auditor, params=params).json()
            pages.append([e["version"] for e in page["items"]])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert pages == [[1, 2, 3], [4]]

    def test_no_password_hash_or_client_secret_leaves_through_the_audit_trail(
        self, api: Api, root: str, container: Container
    ) -> None:
        shop = self.delivered_order(api, root, container)
        auditor = self.platform_user(api, root, "auditor")
        root_id = str(container.tokens.verify(root).user_id)
        order_id = shop["order"]["order_id"]
        client_secret = shop["order"]["payment"]["client_secret"]
        assert client_secret

        def leaks(answer: Any, *secrets: str) -> list[str]:
            assert answer.status_code == 200, answer.text
            return [s for s in (*secrets, "$argon2") if s in answer.text]

        for reader in (auditor, root):
            # A tenant's buyer, and the platform's super admin.
            for user_id in (shop["buyer_id"], root_id):
                user = container.identity.read_or_none(UUID(user_id))
                assert user is not None
                password_hash = user.password_hash
                assert password_hash.startswith("$argon2")
                history = api.get(f"/v1/audit/streams/{user_id}/events", token=reader)
                assert not leaks(history, password_hash)
                registered = history.json()["items"][0]
                assert registered["type"] == "User.Registered"
                assert registered["timestamp"].endswith("Z"), registered["timestamp"]
                # That a password was set shows, not what it is.
                assert registered["data"]["password_hash"] == SECRET
                assert registered["data"]["email"]  # other fields as they were
                path = f"/v1/audit/streams/{user_id}/state"
                for params in ({}, {"version": 1}, {"at": registered["timestamp"]}):
                    state = api.get(path, token=reader, params=params)
                    assert not leaks(state, password_hash)
                    assert state.json()["state"]["password_hash"] == SECRET

            history = api.get(f"/v1/audit/streams/{order_id}/events", token=reader)
            assert not leaks(history, client_secret)
            (attached,) = [
                e for e in history.json()["items"] if e["type"] == "Order.PaymentIntentAttached"
            ]
            assert attached["data"]["client_secret"] == SECRET
            assert attached["data"]["intent_id"]  # the intent itself is no secret
            for params in ({}, {"version": attached["version"]}):
                state = api.get(f"/v1/audit/streams/{order_id}/state", token=reader, params=params)
                assert not leaks(state, client_secret)
                assert state.json()["state"]["payment"]["client_secret"] == SECRET

        # The operator's CLI reads the same trail.
        cli = subprocess.run(
            [VELORA, "audit", "history", shop["buyer_id"], "--json"],
            env=cli_env(container),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert cli.returncode == 0, cli.stderr
        assert "$argon2" not in cli.stdout and f'"password_hash": "{SECRET}"' in cli.stdout

    def test_the_snapshots_the_audit_trail_keeps_hold_no_secret(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root)
        vault = Vault(tenant_id=UUID(m.tenant_id))
        tokens = [f"tok_{uuid4().hex}" for _ in range(120)]
        for token in tokens:
            vault.rekey(token)
        VeloraApplication(container.log).record(CommandContext.system("test"), vault)
        path = f"/v1/audit/streams/{vault.id}/state"

        state = api.get(path, token=root, params={"version": 110}).json()
        assert state["state"]["token"] == SECRET
        snapshots = list(container.log.snapshots.select_events(vault.id))
        assert [s.originator_version for s in snapshots] == [100]
        assert not [t for t in tokens if t.encode() in bytes(snapshots[0].state)]
        # Read again from that snapshot: still no secret.
        again = api.get(path, token=root, params={"version": 105}).json()
        assert again["version"] == 105 and again["state"]["token"] == SECRET

    def test_state_as_it_was_at_a_version_or_a_moment(
        self, api: Api, root: str, container: Container
    ) -> None:
        shop = self.delivered_order(api, root, container)
        auditor = self.platform_user(api, root, "auditor")
        order_id = shop["order"]["order_id"]
        events = api.get(f"/v1/audit/streams/{order_id}/events", token=auditor).json()["items"]
        path = f"/v1/audit/streams/{order_id}/state"

        first = api.get(path, token=auditor, params={"version": 1}).json()
        assert first["type"] == "Order" and first["version"] == 1
        assert first["state"]["status"] == "pending_payment"
        now = api.get(path, token=auditor).json()
        assert now["version"] == len(events) and now["state"]["status"] != "pending_payment"
        paid_at = next(e["timestamp"] for e in events if e["type"].startswith("Order.Paid"))
        at_payment = api.get(path, token=auditor, params={"at": paid_at}).json()
        assert at_payment["state"]["status"] == "paid"
        assert at_payment["modified_on"] == paid_at
        just_before = (datetime.fromisoformat(paid_at) - timedelta(microseconds=1)).isoformat()
        before = api.get(path, token=auditor, params={"at": just_before}).json()
        assert before["state"]["status"] == "pending_payment"

        created = datetime.fromisoformat(events[0]["timestamp"])
        too_early = (created - timedelta(seconds=1)).isoformat()
        assert_problem(api.get(path, token=auditor, params={"at": too_early}), 404)
        assert_problem(api.get(path, token=auditor, params={"version": 99}), 404)
        assert_problem(api.get(path, token=auditor, params={"version": 0}), 422)
        assert_problem(api.get(path, token=auditor, params={"version": 1, "at": paid_at}), 422)
        assert_problem(api.get(path, token=auditor, params={"at": "2026-11-21T09:00:00"}), 422)
        assert_problem(api.get(path, token=auditor, params={"at": "yesterday"}), 422)
        assert_problem(api.get(f"/v1/audit/streams/{uuid4()}/state", token=auditor), 404)
        assert_problem(api.get(f"/v1/audit/streams/{uuid4()}/events", token=auditor), 404)

    def test_only_auditors_and_super_admins_read_the_audit_trail(
        self, api: Api, root: str, container: Container
    ) -> None:
        shop = self.delivered_order(api, root, container)
        path = f"/v1/audit/streams/{shop['order']['order_id']}/events"
        for token in (
            shop["buyer"],
            shop["m"].admin_token,
            self.platform_user(api, root, "finance_admin"),
        ):
            assert_problem(api.get(path, token=token), 403)
        assert api.get(path, token=root).status_code == 200
        assert_problem(api.get(path), 401)

    def test_the_auditor_reaches_only_the_audit_trail_and_the_ledger(
        self, api: Api, root: str
    ) -> None:
        auditor = self.platform_user(api, root, "auditor")
        # API.md's "anyone": the routes that ask for no token (an auditor's changes nothing).
        anonymous = {
            "/v1/auth/token",
            "/v1/auth/signup",
            "/v1/auth/refresh",
            "/v1/auth/logout",
            "/v1/auth/password-reset",
            "/v1/auth/password-reset/confirm",
            "/v1/auth/verify-email",
            "/v1/webhooks/stripe",
        }
        spec = api.get("/openapi.json").json()["paths"]
        reached = []
        for path, methods in spec.items():
            if not path.startswith("/v1/") or path in anonymous:
                continue
            concrete = path
            for name in ("{tenant_id}", "{code}"):
                concrete = concrete.replace(name, str(uuid4()))
            while "{" in concrete:
                start, end = concrete.index("{"), concrete.index("}")
                concrete = concrete[:start] + str(uuid4()) + concrete[end + 1 :]
            for method in methods:
                if path == "/v1/me" and method.upper() != "GET":
                    continue  # its own profile and erasure, open to any user (tried elsewhere)
                if path.startswith("/v1/me/addresses"):
                    continue  # its own address book, open to any user (ProfileScenarios)
                response = api.request(method.upper(), concrete, token=auditor)
                if response.status_code != 403:
                    reached.append((method.upper(), path))
        assert reached, "the auditor must reach something"
        reads = ("/v1/audit/", "/v1/ledger/", "/v1/reconciliation", "/v1/me")
        assert all(m == "GET" and p.startswith(reads) for m, p in reached), reached
        assert ("GET", "/v1/ledger/trial-balance") in reached
        assert ("GET", "/v1/reconciliation") in reached
        assert ("GET", "/v1/audit/streams/{aggregate_id}/events") in reached

    def test_the_cli_shows_history_and_as_of_state(
        self, api: Api, root: str, container: Container
    ) -> None:
        shop = self.delivered_order(api, root, container)
        order_id = shop["order"]["order_id"]

        def velora(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [VELORA, "audit", *args],
                env=cli_env(container),
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )

        history = velora("history", order_id, "--json")
        assert history.returncode == 0, history.stderr
        lines = [json.loads(line) for line in history.stdout.splitlines()]
        assert lines == api.get(f"/v1/audit/streams/{order_id}/events", token=root).json()["items"]
        table = velora("history", order_id)
        assert "Order.Placed" in table.stdout
        state = velora("state", order_id, "--version", "1")
        assert state.returncode == 0 and json.loads(state.stdout)["state"]["status"] == (
            "pending_payment"
        )
        at = velora("state", order_id, "--at", lines[0]["timestamp"])
        assert json.loads(at.stdout)["version"] == 1
        missing = velora("state", str(uuid4()))
        assert missing.returncode == 1 and "No such aggregate" in missing.stdout
        assert velora("state", order_id, "--at", "yesterday").returncode == 2

    def test_verify_reports_an_intact_chain_and_books_that_balance(
        self, api: Api, root: str, container: Container
    ) -> None:
        shop = self.delivered_order(api, root, container)
        auditor = self.platform_user(api, root, "auditor")
        head = container.log.head()
        report = api.get("/v1/audit/verify", token=auditor).json()
        assert report["chain_intact"] and report["ledger_balanced"] and report["seals_intact"]
        assert report["first_broken"] is None
        assert report["events_checked"] >= head and report["head"]["position"] >= head
        (mine,) = [r for r in report["trial_balance"] if r["tenant_id"] == shop["m"].tenant_id]
        assert mine["debits"] == mine["credits"] > 0
        # The read model's trial balance, folded by a projector, agrees with the one recomputed
        # from the ledger's own events.
        books = api.get(
            "/v1/ledger/trial-balance", token=auditor, params={"tenant_id": shop["m"].tenant_id}
        ).json()
        assert books["debits"] == [{"amount": mine["debits"], "currency": "USD"}]
        assert_problem(api.get("/v1/audit/verify", token=shop["m"].admin_token), 403)

    def test_a_month_is_sealed_once_and_its_seal_verifies(
        self, api: Api, root: str, container: Container
    ) -> None:
        shop = self.delivered_order(api, root, container)
        tenant = shop["m"].tenant_id
        month = last_month()

        def close(period: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [VELORA, "audit", "close", "--tenant", tenant, "--period", period],
                env=cli_env(container),
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )

        sealed = close(month)
        assert sealed.returncode == 0, sealed.stdout + sealed.stderr
        report = api.get("/v1/audit/verify", token=root).json()
        (seal,) = [s for s in report["seals"] if s["tenant_id"] == tenant]
        assert seal["period"] == month and seal["intact"]
        history = api.get(
            f"/v1/audit/streams/{PeriodSeal.create_id(UUID(tenant), month)}/events",
            token=root,
        ).json()["items"]
        assert history[0]["type"] == "PeriodSeal.Sealed"
        assert history[0]["data"]["trial_balance"][0]["debits"] > 0
        again = close(month)
        assert again.returncode == 1 and "already sealed" in again.stdout
        next_year = f"{datetime.now(UTC).year + 1}-01"
        assert "has not ended" in close(next_year).stdout
        assert "YYYY-MM" in close("2026-13").stdout

    def test_operators_see_every_projector_and_a_skip_past_a_bad_event_is_recorded(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root)
        buyer = self.user(api, m, "buyer")
        auditor = self.platform_user(api, root, "auditor")
        container.stop_projections()
        container.catch_up()
        cart = api.created(api.post("/v1/carts", token=buyer))
        position = api.position
        # The carts projector stops on that event, as a runner records a bad one.
        container.read_store.record_failure("carts", position, "ValueError('cannot apply')")

        status = api.get("/v1/ops/projections", token=root)
        assert status.status_code == 200
        rows = {r["name"]: r for r in status.json()}
        assert {"identity", "catalog", "search", "orders", "carts", "ledger"} <= rows.keys()
        assert rows["carts"]["failed_position"] == position
        assert rows["carts"]["lag"] == rows["carts"]["head"] - rows["carts"]["position"] >= 1
        for token in (auditor, m.admin_token, buyer):
            assert_problem(api.get("/v1/ops/projections", token=token), 403)

        def skip(at: int) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [VELORA, "projections", "skip", "carts", "--position", str(at)],
                env=cli_env(container),
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )

        refused = skip(position - 1)
        assert refused.returncode == 1 and "not stopped" in refused.stdout
        done = skip(position)
        assert done.returncode == 0, done.stdout + done.stderr
        after = {r["name"]: r for r in api.get("/v1/ops/projections", token=root).json()}
        assert after["carts"]["failed_position"] is None
        assert after["carts"]["position"] >= position
        record = api.get(
            f"/v1/audit/streams/{ProjectionSkip.create_id('carts', position)}/events", token=root
        ).json()["items"]
        assert [(e["type"], e["actor"]) for e in record] == [
            ("ProjectionSkip.Skipped", "system:cli:projections-skip")
        ]
        assert record[0]["data"]["failure"] == "ValueError('cannot apply')"
        # The skipped event's effect is missing from the read model, as the operator chose.
        container.catch_up()
        assert_problem(api.get(f"/v1/carts/{cart}", token=buyer), 404)
