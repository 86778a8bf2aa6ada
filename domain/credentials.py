"""Credentials: the email an account signs in with, in its one spelling, and its password,
checked here and hashed through a port (the hashing is slow on purpose, and the application's).

An email is compared as one spelling: NFC-normalised Unicode, lower case, without surrounding
space, so a composed and a decomposed "café@x.io" are one account."""

from __future__ import annotations

import re
import unicodedata
from typing import Protocol

from domain.errors import DomainError, Invalid


class CredentialError(DomainError):
    """Base of the credentials' errors (the identity context)."""


class InvalidEmail(CredentialError, Invalid):
    title = "Invalid email"
    field = "email"


class WeakPassword(CredentialError, Invalid):
    title = "Weak password"


MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


class PasswordHasher(Protocol):
    """The port through which applications hash and check passwords."""

    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...


def normalize_email(email: str) -> str:
    """The one spelling an email is stored, claimed and compared in (see the module's docstring)."""
    email = unicodedata.normalize("NFC", email.strip())
    if len(email) > 254 or not _EMAIL.match(email):
        raise InvalidEmail(f"{email!r} is not an email address")
    # Lower-casing is not bound to keep a string in NFC: normalise what it gives once more.
    return unicodedata.normalize("NFC", email.lower())


def check_password(password: str) -> None:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise WeakPassword(
            f"password must have {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters"
        )
