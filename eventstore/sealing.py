"""Secrets Velora must keep and use again, sealed: a webhook endpoint's signing secret is in its
event (domain/webhooks.py), and a copy of the log, a backup or a read model shows only
ciphertext. AES-256-GCM under a key derived from the deployment's signing key, with what the
secret belongs to (an endpoint's id) as associated data, so a sealed value copied to another
endpoint does not open there."""

from __future__ import annotations

import base64
import hashlib
import os
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12
PREFIX = "v1."


class SealBroken(RuntimeError):
    """A sealed value does not open: another deployment's, or altered."""


class Sealer:
    def __init__(self, secret: str, purpose: str) -> None:
        self._aead = AESGCM(hashlib.sha256(f"velora:sealed:{purpose}:{secret}".encode()).digest())

    def seal(self, value: str, owner: UUID) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = nonce + self._aead.encrypt(nonce, value.encode(), owner.bytes)
        return PREFIX + base64.urlsafe_b64encode(sealed).decode()

    def open(self, sealed: str, owner: UUID) -> str:
        if not sealed.startswith(PREFIX):
            raise SealBroken("not a sealed value")
        raw = base64.urlsafe_b64decode(sealed.removeprefix(PREFIX))
        try:
            return self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], owner.bytes).decode()
        except InvalidTag:
            raise SealBroken("the sealed value does not open with this deployment's key") from None
