"""The profiles application: a person's details and saved addresses."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from uuid import UUID

from domain.profiles import Profile
from eventstore.application import CommandResult, command
from eventstore.context import CommandContext
from services.base import ServiceApplication

T = TypeVar("T")


class ProfileApplication(ServiceApplication):
    name = "profiles"

    @command
    def change_details(
        self, ctx: CommandContext, tenant_id: UUID, user_id: UUID, changes: Mapping[str, Any]
    ) -> CommandResult:
        _, result = self._changing(ctx, tenant_id, user_id, lambda p: p.change(changes))
        return result

    @command
    def add_address(
        self,
        ctx: CommandContext,
        tenant_id: UUID,
        user_id: UUID,
        fields: Mapping[str, Any],
        *,
        default: bool,
    ) -> CommandResult:
        address_id, result = self._changing(
            ctx, tenant_id, user_id, lambda p: p.add_address(fields, default=default)
        )
        return CommandResult(address_id, result.position)

    @command
    def change_address(
        self,
        ctx: CommandContext,
        tenant_id: UUID,
        user_id: UUID,
        address_id: UUID,
        fields: Mapping[str, Any],
        *,
        default: bool | None,
    ) -> CommandResult:
        _, result = self._changing(
            ctx,
            tenant_id,
            user_id,
            lambda p: p.change_address(address_id, fields, default=default),
        )
        return CommandResult(address_id, result.position)

    @command
    def remove_address(
        self, ctx: CommandContext, tenant_id: UUID, user_id: UUID, address_id: UUID
    ) -> CommandResult:
        _, result = self._changing(ctx, tenant_id, user_id, lambda p: p.remove_address(address_id))
        return CommandResult(address_id, result.position)

    def _changing(
        self,
        ctx: CommandContext,
        tenant_id: UUID,
        user_id: UUID,
        change: Callable[[Profile], T],
    ) -> tuple[T, CommandResult]:
        """Runs `change` on the person's profile (started on first use) and records it; two
        requests of one person that race are run again on fresh state."""

        def attempt() -> tuple[T, CommandResult]:
            profile = self.get_or_none(Profile.create_id(user_id))
            if profile is None:
                profile = Profile.start(tenant_id, user_id)
            assert isinstance(profile, Profile)
            assert profile.tenant_id == tenant_id
            value = change(profile)
            return value, CommandResult(profile.id, self.record(ctx, profile))

        return self.retrying(attempt, "too many concurrent changes to this profile; try again")
