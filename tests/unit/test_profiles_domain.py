"""The Profile aggregate's own rules, asserted on the events it records."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.profiles import (
    MAX_ADDRESSES,
    AddressBookFull,
    AddressNotFound,
    InvalidAddress,
    InvalidProfile,
    Profile,
)

HOME = {"name": "G", "line1": "1 Yard", "city": "Arlington", "postal_code": "1", "country": "US"}


def events(profile: Profile) -> list[str]:
    return [type(e).__name__ for e in profile.collect_events()]


def test_a_change_records_only_what_differs() -> None:
    profile = Profile.start(uuid4(), uuid4())
    profile.change({"display_name": " Grace ", "marketing_opt_in": False})
    profile.change({"display_name": "Grace"})
    recorded = profile.collect_events()
    assert [type(e).__name__ for e in recorded] == ["Started", "Changed"]
    assert recorded[1].changes == {"display_name": "Grace", "marketing_opt_in": False}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "changes",
    [
        {"phone": "0301234"},
        {"locale": "de_DE"},
        {"marketing_opt_in": 1},
        {"display_name": 5},
        {"nickname": "x"},
    ],
)
def test_invalid_details_are_refused(changes: dict[str, object]) -> None:
    profile = Profile.start(uuid4(), uuid4())
    with pytest.raises(InvalidProfile):
        profile.change(changes)


def test_one_default_and_the_first_address_is_it() -> None:
    profile = Profile.start(uuid4(), uuid4())
    first = profile.add_address(HOME)
    second = profile.add_address({**HOME, "line1": "2 Yard"})
    assert profile.default_address_id == first
    profile.change_address(second, {}, default=True)
    assert profile.default_address_id == second
    profile.remove_address(second)
    assert profile.default_address_id is None and set(profile.addresses) == {first}
    assert events(profile) == [
        "Started",
        "AddressAdded",
        "DefaultAddressChosen",
        "AddressAdded",
        "DefaultAddressChosen",
        "AddressRemoved",
    ]
    with pytest.raises(AddressNotFound):
        profile.remove_address(second)


def test_addresses_are_checked_and_the_book_is_bounded() -> None:
    profile = Profile.start(uuid4(), uuid4())
    for bad in ({**HOME, "country": "USA"}, {**HOME, "city": " "}, {**HOME, "planet": "x"}):
        with pytest.raises(InvalidAddress):
            profile.add_address(bad)
    for _ in range(MAX_ADDRESSES):
        profile.add_address(HOME)
    with pytest.raises(AddressBookFull):
        profile.add_address(HOME)
