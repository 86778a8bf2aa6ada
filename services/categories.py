"""The categories application: each tenant's category tree, managed by its marketplace admins."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from domain.categories import CategoryNotFound, CategoryTree
from domain.identity import Tenant
from domain.names import name_key
from eventstore.application import CommandResult, command
from eventstore.context import CommandContext
from eventstore.log import EventLog
from services.base import ServiceApplication

# How many products of a tenant name a category (read from the catalog model).
ProductsNamed = Callable[[UUID, str], int]


class CategoryApplication(ServiceApplication):
    name = "categories"

    def __init__(self, log: EventLog, products_named: ProductsNamed, **kwargs: Any) -> None:
        super().__init__(log, **kwargs)
        self._products_named = products_named

    @command
    def add(
        self, ctx: CommandContext, tenant_id: UUID, name: str, parent_id: UUID | None
    ) -> CommandResult:
        def attempt() -> CommandResult:
            tree = self._tree(tenant_id)
            category_id = tree.add(name, parent_id)
            return CommandResult(category_id, self.record(ctx, tree))

        return self.retrying(attempt, "too many concurrent changes to the categories")

    @command
    def change(
        self,
        ctx: CommandContext,
        tenant_id: UUID,
        category_id: UUID,
        *,
        name: str | None,
        move: bool,
        parent_id: UUID | None,
    ) -> CommandResult:
        """Renames the category (`name`), moves it under `parent_id` (`move`; None: to the top),
        or both, in one step."""

        def attempt() -> CommandResult:
            tree = self._tree(tenant_id)
            if name is not None:
                tree.rename(category_id, name, in_use=self._in_use(tree, category_id))
            if move:
                tree.move(category_id, parent_id)
            return CommandResult(category_id, self.record(ctx, tree))

        return self.retrying(attempt, "too many concurrent changes to the categories")

    @command
    def remove(self, ctx: CommandContext, tenant_id: UUID, category_id: UUID) -> CommandResult:
        def attempt() -> CommandResult:
            tree = self._tree(tenant_id)
            tree.remove(category_id, in_use=self._in_use(tree, category_id))
            return CommandResult(category_id, self.record(ctx, tree))

        return self.retrying(attempt, "too many concurrent changes to the categories")

    def _tree(self, tenant_id: UUID) -> CategoryTree:
        tree = self.get_or_none(CategoryTree.create_id(tenant_id))
        return tree if isinstance(tree, CategoryTree) else CategoryTree.start(tenant_id)

    def _in_use(self, tree: CategoryTree, category_id: UUID) -> bool:
        """Whether products or a commission override name the category. Products are counted
        in the catalog model, which may trail the log by a moment."""
        name = tree.names.get(category_id)
        if name is None:
            raise CategoryNotFound(f"category {category_id} not found")
        tenant = self.read_or_none(tree.tenant_id)
        overrides = tenant.category_commission if isinstance(tenant, Tenant) else {}
        if any(name_key(known) == name_key(name) for known in overrides):
            return True
        return self._products_named(tree.tenant_id, name) > 0
