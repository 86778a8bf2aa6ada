"""Publishable keys on their own (domain/storefront.py): what a key looks like, which text opens
it, that a deleted one opens nothing, and what each step records."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.accounts import digest, new_secret
from domain.secrets import secret_fields
from domain.storefront import (
    MAX_KEY_LENGTH,
    Guest,
    InvalidKeyName,
    PresentedKey,
    PublishableKey,
)


def created(name: str = "Web shop") -> tuple[PublishableKey, str, str]:
    secret = new_secret()
    key, text = PublishableKey.create(uuid4(), name, uuid4().hex, lambda _: secret)
    return key, text, secret


def test_one_origin_names_one_key_and_its_secret_derives_from_its_id() -> None:
    tenant, seen = uuid4(), []

    def secret_of(key_id: object) -> str:
        seen.append(key_id)
        return f"secret-of-{key_id}".replace("-", "_")[:43].ljust(43, "x")

    key, text = PublishableKey.create(tenant, "W", "admin:key-1", secret_of)
    again, _ = PublishableKey.create(tenant, "W", "admin:key-1", secret_of)
    other, _ = PublishableKey.create(tenant, "W", "admin:key-2", secret_of)
    assert key.id == again.id != other.id
    assert seen[0] == key.id and key.text(secret_of) == text


def test_a_key_reads_pk_its_id_and_a_secret_and_only_the_digest_is_recorded() -> None:
    key, text, secret = created()
    assert text == f"pk_{key.id.hex}.{secret}"
    assert len(text) <= MAX_KEY_LENGTH
    (event,) = key.collect_events()
    assert isinstance(event, PublishableKey.Created)
    assert (event.name, event.key_digest, event.hint) == ("Web shop", digest(secret), text[-4:])
    assert secret not in repr(vars(event)) and text not in repr(vars(event))
    assert secret_fields(PublishableKey.Created) == {"key_digest"}


def test_the_key_opens_its_aggregate_and_no_other_text_does() -> None:
    key, text, _ = created()
    presented = PresentedKey.parse(text)
    assert presented is not None and presented.key_id == key.id
    assert key.opens(presented)
    assert key.guest() == Guest(key_id=key.id, tenant_id=key.tenant_id)
    wrong = PresentedKey.parse(f"pk_{key.id.hex}.{new_secret()}")
    assert wrong is not None and not key.opens(wrong)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "pk_",
        "pk_x",
        "sk_" + "0" * 32 + "." + "a" * 43,  # not publishable
        "0" * 32 + "." + "a" * 43,  # no prefix
        "PK_" + "0" * 32 + "." + "a" * 43,
        "pk_" + "0" * 31 + "." + "a" * 43,  # an id one digit short
        "pk_" + "0" * 32 + "." + "a" * 10,  # a secret too short
        "pk_" + "0" * 32 + "." + "a" * 43 + " ",
        "pk_" + "0" * 32 + "." + "a" * 43 + "é",
        "pk_" + "0" * 32 + "." + "a" * 5000,  # longer than any key
    ],
)
def test_whatever_is_not_a_key_parses_to_none_never_an_error(text: str) -> None:
    assert PresentedKey.parse(text) is None


def test_a_deleted_key_opens_nothing_and_deleting_again_records_nothing() -> None:
    key, text, _ = created()
    key.collect_events()
    key.delete()
    assert [type(e) for e in key.collect_events()] == [PublishableKey.Deleted]
    presented = PresentedKey.parse(text)
    assert presented is not None and not key.opens(presented)
    key.delete()
    assert key.collect_events() == []


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_key_needs_a_name_of_1_to_100_characters(name: str) -> None:
    with pytest.raises(InvalidKeyName):
        created(name)


def test_a_name_is_kept_in_nfc_without_surrounding_space() -> None:
    key, _, _ = created("  Cafe\u0301 app ")
    assert key.name == "Caf\u00e9 app"
