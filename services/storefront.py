"""The storefront application: a marketplace's publishable keys, made and deleted by its admins,
and the check every guest request makes of the key it came with. The rules are
domain/storefront.py's; this loads, calls and saves.

A key is checked against its aggregate as the event log has it now (`read_or_none`: the
process's aggregate cache, which reads what the log gained before it answers), so a key deleted
by any process opens nothing in every process from the moment the deletion is recorded."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from uuid import UUID

from domain.identity import Tenant, TenantNotFound
from domain.storefront import Guest, PresentedKey, PublishableKey, PublishableKeyNotFound
from eventstore.application import CommandResult, command
from eventstore.context import CommandContext
from services.base import ServiceApplication


@dataclass(frozen=True)
class CreatedKey:
    """A key just made: its id, its text (shown this once) and the position of its event."""

    id: UUID
    key: str = field(repr=False)
    position: int


class StorefrontApplication(ServiceApplication):
    name = "storefront"

    @command
    def create_key(
        self,
        ctx: CommandContext,
        tenant_id: UUID,
        within: UUID | None,
        name: str,
        *,
        origin: str,
        secret_of: Callable[[UUID], str],
    ) -> CreatedKey:
        """Makes a publishable key for a tenant (`within`: the tenant the caller may touch,
        None for the platform's staff). `origin` names the request (an admin and its
        Idempotency-Key): a repeat of it answers the key it made, and makes no other; the key's
        secret derives from its id through `secret_of` (api/security.py), so nothing but its
        digest is kept."""
        tenant = self.load(Tenant, tenant_id, within, TenantNotFound, reading=True)
        made = self.get_or_none(PublishableKey.create_id(tenant.id, origin))
        if isinstance(made, PublishableKey):
            return CreatedKey(made.id, made.text(secret_of), self._log.head())
        key, text = PublishableKey.create(tenant.id, name, origin, secret_of)
        return CreatedKey(key.id, text, self.record(ctx, key))

    @command
    def delete_key(
        self, ctx: CommandContext, tenant_id: UUID, within: UUID | None, key_id: UUID
    ) -> CommandResult:
        """Deletes a tenant's key: it opens nothing from now on. A key of another tenant than
        the one named, or than the caller's, is unknown."""

        def attempt() -> CommandResult:
            key = self.load(PublishableKey, key_id, within, PublishableKeyNotFound)
            if key.tenant_id != tenant_id:
                raise PublishableKeyNotFound(f"publishable key {key_id} not found")
            key.delete()
            return CommandResult(key.id, self.record(ctx, key))

        return self.retrying(attempt, "this key is being deleted by many at once")

    def guest(self, text: str) -> Guest | None:
        """The guest a publishable key lets in, or None when the text is not a key of ours, names
        no key, or names a deleted one (all answered alike)."""
        presented = PresentedKey.parse(text)
        if presented is None:
            return None
        key = self.read_or_none(presented.key_id)
        if not isinstance(key, PublishableKey) or not key.opens(presented):
            return None
        return key.guest()
