"""Profiles: what a person keeps about themselves beside their account: how they are called, how
to reach them, their language, their marketing consent, and the addresses they ship to. All of
it is personal data, sealed with the person's key, so their erasure makes it unreadable."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import event

from domain.base import TenantAggregate
from domain.errors import Conflict, DomainError, Invalid, NotFound

MAX_ADDRESSES = 20
# E.164: a plus, a country code and the number, at most 15 digits in all.
_PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")
# A BCP 47 language tag as storefronts use them: language, optional script, optional region.
_LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-(?:[A-Z]{2}|[0-9]{3}))?$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
# Each address field: (required, most characters).
ADDRESS_FIELDS: Mapping[str, tuple[bool, int]] = {
    "name": (True, 200),
    "line1": (True, 200),
    "line2": (False, 200),
    "city": (True, 100),
    "region": (False, 100),
    "postal_code": (True, 20),
    "country": (True, 2),
}


class ProfileError(DomainError):
    """Base of the profiles context's errors."""


class AddressNotFound(ProfileError, NotFound):
    title = "Address not found"


class InvalidProfile(ProfileError, Invalid):
    title = "Invalid profile"


class InvalidAddress(ProfileError, Invalid):
    title = "Invalid address"


class AddressBookFull(ProfileError, Conflict):
    title = "Address book full"


def shipping_address(fields: Mapping[str, Any]) -> dict[str, str]:
    """An address as orders and address books keep it: every field present, text trimmed,
    the country an ISO 3166 alpha-2 code."""
    unknown = set(fields) - set(ADDRESS_FIELDS)
    if unknown:
        raise InvalidAddress(f"unknown address fields {sorted(unknown)}")
    address = {}
    for name, (required, most) in ADDRESS_FIELDS.items():
        value = fields.get(name) or ""
        if not isinstance(value, str):
            raise InvalidAddress(f"{name} must be text")
        value = value.strip()
        if required and not value:
            raise InvalidAddress(f"{name} is required")
        if len(value) > most:
            raise InvalidAddress(f"{name} has at most {most} characters")
        address[name] = value
    if not _COUNTRY.match(address["country"]):
        raise InvalidAddress("country must be an ISO 3166 alpha-2 code such as DE")
    return address


def profile_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """The validated changes to a profile's details; None clears a text field."""
    allowed = {"display_name", "phone", "locale", "marketing_opt_in"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidProfile(f"unknown profile fields {sorted(unknown)}")
    checked: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "marketing_opt_in":
            if not isinstance(value, bool):
                raise InvalidProfile(
                    "marketing_opt_in must be true or false", field="marketing_opt_in"
                )
            checked[name] = value
            continue
        if value is not None and not isinstance(value, str):
            raise InvalidProfile(f"{name} must be text or null", field=name)
        value = value.strip() if value is not None else None
        if not value:
            checked[name] = None
        elif name == "display_name" and len(value) > 100:
            raise InvalidProfile("display_name has at most 100 characters", field="display_name")
        elif name == "phone" and not _PHONE.match(value.replace(" ", "")):
            raise InvalidProfile("phone must be in E.164 form, such as +4930123456", field="phone")
        elif name == "locale" and not _LOCALE.match(value):
            raise InvalidProfile(
                "locale must be a language tag such as de-DE or pt-BR", field="locale"
            )
        else:
            checked[name] = value.replace(" ", "") if name == "phone" else value
    return checked


class Profile(TenantAggregate):
    """One person's details and saved addresses. Its id derives from the user's, so there is
    one per user however many requests start it at once."""

    class Started(TenantAggregate.Created):
        user_id: UUID

    class Changed(TenantAggregate.Event):
        personal: ClassVar[Mapping[str, str]] = {"changes": "user_id"}
        user_id: UUID
        changes: dict[str, Any]

    class AddressAdded(TenantAggregate.Event):
        personal: ClassVar[Mapping[str, str]] = {"address": "user_id"}
        user_id: UUID
        address_id: UUID
        address: dict[str, str]

    class AddressChanged(TenantAggregate.Event):
        personal: ClassVar[Mapping[str, str]] = {"address": "user_id"}
        user_id: UUID
        address_id: UUID
        address: dict[str, str]

    class AddressRemoved(TenantAggregate.Event):
        user_id: UUID
        address_id: UUID

    class DefaultAddressChosen(TenantAggregate.Event):
        """`address_id` None: the person has no default address any more."""

        user_id: UUID
        address_id: UUID | None

    @staticmethod
    def create_id(user_id: UUID) -> UUID:
        return uuid5(NAMESPACE_URL, f"velora:profile:{user_id}")

    @event(Started)
    def __init__(self, tenant_id: UUID, user_id: UUID) -> None:
        self.tenant_id = tenant_id
        self.user_id = user_id
        self.details: dict[str, Any] = {}
        self.addresses: dict[UUID, dict[str, str]] = {}
        self.default_address_id: UUID | None = None

    @classmethod
    def start(cls, tenant_id: UUID, user_id: UUID) -> Profile:
        return cls(tenant_id=tenant_id, user_id=user_id)

    def change(self, changes: Mapping[str, Any]) -> None:
        """Changes the given details; what is not given stays. Nothing new: no event."""
        checked = profile_changes(changes)
        changed = {k: v for k, v in checked.items() if self.details.get(k) != v}
        if changed:
            self._changed(user_id=self.user_id, changes=changed)

    @event(Changed)
    def _changed(self, user_id: UUID, changes: dict[str, Any]) -> None:
        self.details.update(changes)

    def add_address(self, fields: Mapping[str, Any], *, default: bool = False) -> UUID:
        """Saves an address and returns its id. The first address saved becomes the default."""
        if len(self.addresses) >= MAX_ADDRESSES:
            raise AddressBookFull(f"an address book holds at most {MAX_ADDRESSES} addresses")
        address_id = uuid4()
        self._address_added(
            user_id=self.user_id, address_id=address_id, address=shipping_address(fields)
        )
        if default or self.default_address_id is None:
            self._default_chosen(user_id=self.user_id, address_id=address_id)
        return address_id

    @event(AddressAdded)
    def _address_added(self, user_id: UUID, address_id: UUID, address: dict[str, str]) -> None:
        self.addresses[address_id] = address

    def change_address(
        self, address_id: UUID, fields: Mapping[str, Any], *, default: bool | None = None
    ) -> None:
        """Changes the given fields of a saved address; `default` True makes it the default,
        False stops it being the default, None leaves that as it is."""
        address = self.address(address_id)
        changed = shipping_address({**address, **fields})
        if changed != address:
            self._address_changed(user_id=self.user_id, address_id=address_id, address=changed)
        if default and self.default_address_id != address_id:
            self._default_chosen(user_id=self.user_id, address_id=address_id)
        elif default is False and self.default_address_id == address_id:
            self._default_chosen(user_id=self.user_id, address_id=None)

    @event(AddressChanged)
    def _address_changed(self, user_id: UUID, address_id: UUID, address: dict[str, str]) -> None:
        self.addresses[address_id] = address

    def remove_address(self, address_id: UUID) -> None:
        """Forgets a saved address. Removing the default leaves no default."""
        self.address(address_id)
        self._address_removed(user_id=self.user_id, address_id=address_id)

    @event(AddressRemoved)
    def _address_removed(self, user_id: UUID, address_id: UUID) -> None:
        del self.addresses[address_id]
        if self.default_address_id == address_id:
            self.default_address_id = None

    @event(DefaultAddressChosen)
    def _default_chosen(self, user_id: UUID, address_id: UUID | None) -> None:
        self.default_address_id = address_id

    def address(self, address_id: UUID) -> dict[str, str]:
        """A saved address, to ship to."""
        try:
            return dict(self.addresses[address_id])
        except KeyError:
            raise AddressNotFound(f"address {address_id} not found") from None
