"""The account rules on their own (domain/accounts.py): which token opens what, once, until
when, and what each use records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from domain.accounts import (
    AccountToken,
    EmailVerification,
    PasswordReset,
    Session,
    TokenCheck,
    new_secret,
    reset_password,
    verify_email,
)
from domain.identity import User

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class Plain:
    def hash(self, password: str) -> str:
        return f"plain:{password}"

    def verify(self, password_hash: str, password: str) -> bool:
        return password_hash == f"plain:{password}"


def user() -> User:
    person = User.register(uuid4(), "ann@shop.test", "long enough", ["buyer"], Plain())
    person.collect_events()
    return person


def kinds(aggregate: object) -> list[str]:
    return [type(e).__qualname__ for e in aggregate.collect_events()]  # type: ignore[attr-defined]


def started(person: User) -> tuple[Session, AccountToken]:
    secret = new_secret()
    session = Session.start(person, secret, NOW)
    session.collect_events()
    return session, AccountToken(session.id, secret)


def test_a_token_is_its_aggregates_id_and_a_secret_and_parses_back() -> None:
    token = AccountToken(uuid4(), new_secret())
    assert AccountToken.parse(str(token)) == token
    assert token.secret not in repr(token)
    for text in ("", "x", f"{token.aggregate_id}.{token.secret}", str(token) + "!", "a.b"):
        assert AccountToken.parse(text) is None


def test_a_refresh_token_rotates_once_and_a_spent_one_revokes_the_session() -> None:
    person = user()
    session, first = started(person)
    second_secret = new_secret()
    assert session.refresh(first, second_secret, person, NOW) is TokenCheck.OK
    second = AccountToken(session.id, second_secret)
    assert kinds(session) == ["Session.Rotated"]
    assert session.refresh(first, new_secret(), person, NOW) is TokenCheck.SPENT
    assert kinds(session) == ["Session.Revoked"] and session.revoked == "reused"
    assert session.refresh(second, new_secret(), person, NOW) is TokenCheck.REVOKED
    assert kinds(session) == []


def test_a_wrong_secret_under_a_real_id_revokes_nothing() -> None:
    person = user()
    session, token = started(person)
    forged = AccountToken(session.id, new_secret())
    assert session.refresh(forged, new_secret(), person, NOW) is TokenCheck.UNKNOWN
    assert session.sign_out(forged) is TokenCheck.UNKNOWN
    assert kinds(session) == []
    assert session.refresh(token, new_secret(), person, NOW) is TokenCheck.OK


@pytest.mark.parametrize(
    ("after", "expected"),
    [(timedelta(days=29), TokenCheck.OK), (timedelta(days=30), TokenCheck.EXPIRED)],
)
def test_a_refresh_token_lives_thirty_days_from_its_issue(
    after: timedelta, expected: TokenCheck
) -> None:
    person = user()
    session, token = started(person)
    assert session.refresh(token, new_secret(), person, NOW + after) is expected


def test_signing_out_ends_the_session_and_an_erased_or_revoked_user_ends_them_all() -> None:
    person = user()
    session, token = started(person)
    assert session.sign_out(token) is TokenCheck.OK
    assert kinds(session) == ["Session.Revoked"]
    assert session.sign_out(token) is TokenCheck.REVOKED

    other, other_token = started(person)
    person.revoke_sessions(other.created_on)
    assert other.refresh(other_token, new_secret(), person, NOW) is TokenCheck.REVOKED
    assert other.refresh(other_token, new_secret(), None, NOW) is TokenCheck.REVOKED


def test_a_reset_changes_the_password_once_revokes_sessions_and_verifies_the_email() -> None:
    person = user()
    secret = new_secret()
    reset = PasswordReset.request(person, secret, NOW)
    token = AccountToken(reset.id, secret)
    assert reset_password(reset, person, token, "plain:new one", NOW) is TokenCheck.OK
    assert kinds(reset) == ["PasswordReset.Requested", "PasswordReset.Used"]
    assert kinds(person) == ["User.PasswordChanged", "User.SessionsRevoked", "User.EmailVerified"]
    assert person.password_hash == "plain:new one" and person.email_verified
    assert reset_password(reset, person, token, "plain:again", NOW) is TokenCheck.SPENT
    assert kinds(person) == []


@pytest.mark.parametrize(
    ("presented", "at", "expected"),
    [
        ("right", timedelta(minutes=29), TokenCheck.OK),
        ("right", timedelta(minutes=30), TokenCheck.EXPIRED),
        ("wrong", timedelta(minutes=1), TokenCheck.UNKNOWN),
    ],
)
def test_a_reset_token_opens_for_thirty_minutes_with_its_own_secret(
    presented: str, at: timedelta, expected: TokenCheck
) -> None:
    person = user()
    secret = new_secret()
    reset = PasswordReset.request(person, secret, NOW)
    token = AccountToken(reset.id, secret if presented == "right" else new_secret())
    assert reset_password(reset, person, token, "plain:x", NOW + at) is expected


def test_a_reset_asked_for_before_the_last_change_is_spent() -> None:
    person = user()
    older_secret, newer_secret = new_secret(), new_secret()
    # Timed as the application times them: the clock's now, as events' timestamps are.
    older = PasswordReset.request(person, older_secret, datetime.now(UTC))
    newer = PasswordReset.request(person, newer_secret, datetime.now(UTC))
    used = reset_password(
        newer, person, AccountToken(newer.id, newer_secret), "p:1", datetime.now(UTC)
    )
    assert used is TokenCheck.OK
    check = reset_password(
        older, person, AccountToken(older.id, older_secret), "p:2", datetime.now(UTC)
    )
    assert check is TokenCheck.SPENT


def test_a_verification_verifies_once() -> None:
    person = user()
    secret = new_secret()
    verification = EmailVerification.request(person, secret, NOW)
    token = AccountToken(verification.id, secret)
    assert verify_email(verification, person, token, NOW + timedelta(days=8)) == "expired"
    assert verify_email(verification, person, token, NOW) is TokenCheck.OK
    (event,) = [e for e in person.collect_events() if isinstance(e, User.EmailVerified)]
    assert (event.originator_id, event.tenant_id, event.email) == (
        person.id,
        person.tenant_id,
        "ann@shop.test",
    )
    assert verify_email(verification, person, token, NOW) is TokenCheck.SPENT
    person.erase()
    other_secret = new_secret()
    again = EmailVerification.request(person, other_secret, NOW)
    assert verify_email(again, person, AccountToken(again.id, other_secret), NOW) == "revoked"
