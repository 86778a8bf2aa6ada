"""Categories: each tenant's tree of product categories, managed by its marketplace admins.
Once a tenant has any, a product's category must name one of them, so search facets and
commission overrides name real categories.

Names are unique within a tenant (whatever the case, and however accents are typed: compared by
`domain.names.name_key`, kept in NFC), so a product names its category by name alone. A
category that products or a commission override use keeps its name (a rename would leave them
naming nothing) and stays (deleting it likewise); one with subcategories stays too."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import event

from domain.base import TenantAggregate
from domain.errors import Conflict, DomainError, Invalid, NotFound
from domain.names import name_key, nfc

MAX_CATEGORIES = 1000
MAX_DEPTH = 6


class CategoryError(DomainError):
    """Base of the categories context's errors."""


class CategoryNotFound(CategoryError, NotFound):
    title = "Category not found"


class UnknownCategory(CategoryError, Invalid):
    """A product names a category its tenant does not have."""

    title = "Unknown category"


class InvalidCategory(CategoryError, Invalid):
    title = "Invalid category"


class CategoryConflict(CategoryError, Conflict):
    title = "Category conflict"


def category_name(name: str) -> str:
    name = " ".join(nfc(name).split())
    if not 1 <= len(name) <= 100:
        raise InvalidCategory("a category's name has 1 to 100 characters")
    return name


class CategoryTree(TenantAggregate):
    """All of one tenant's categories, in one stream: a move or a removal is checked against the
    whole tree at once, so no two concurrent changes can make a cycle or an orphan."""

    class Started(TenantAggregate.Created):
        pass

    class Added(TenantAggregate.Event):
        category_id: UUID
        name: str
        parent_id: UUID | None

    class Renamed(TenantAggregate.Event):
        category_id: UUID
        name: str
        previous: str

    class Moved(TenantAggregate.Event):
        category_id: UUID
        parent_id: UUID | None

    class Removed(TenantAggregate.Event):
        category_id: UUID
        name: str

    @staticmethod
    def create_id(tenant_id: UUID) -> UUID:
        return uuid5(NAMESPACE_URL, f"velora:categories:{tenant_id}")

    @event(Started)
    def __init__(self, tenant_id: UUID) -> None:
        self.tenant_id = tenant_id
        self.names: dict[UUID, str] = {}
        self.parents: dict[UUID, UUID | None] = {}

    @classmethod
    def start(cls, tenant_id: UUID) -> CategoryTree:
        return cls(tenant_id=tenant_id)

    # -- reading -----------------------------------------------------------------------------

    def named(self, name: str) -> str:
        """The category a product names, as the tree spells it. With no categories at all any
        name goes (a tenant that does not manage them)."""
        if not self.names:
            return name
        wanted = name_key(name)
        for known in self.names.values():
            if name_key(known) == wanted:
                return known
        raise UnknownCategory(f"no category is named {name!r}; GET /v1/categories lists them")

    def depth(self, category_id: UUID | None) -> int:
        depth = 0
        while category_id is not None:
            depth, category_id = depth + 1, self.parents[category_id]
        return depth

    def _require(self, category_id: UUID) -> None:
        if category_id not in self.names:
            raise CategoryNotFound(f"category {category_id} not found")

    def _require_free(self, name: str, but: UUID | None = None) -> None:
        for category_id, known in self.names.items():
            if category_id != but and name_key(known) == name_key(name):
                raise CategoryConflict(f"a category is named {known!r} already")

    def _children(self, category_id: UUID) -> list[UUID]:
        return [c for c, parent in self.parents.items() if parent == category_id]

    def _height(self, category_id: UUID) -> int:
        """Levels in the subtree under and including this category."""
        return 1 + max((self._height(c) for c in self._children(category_id)), default=0)

    # -- commands ----------------------------------------------------------------------------

    def add(self, name: str, parent_id: UUID | None) -> UUID:
        name = category_name(name)
        if len(self.names) >= MAX_CATEGORIES:
            raise CategoryConflict(f"a tenant has at most {MAX_CATEGORIES} categories")
        if parent_id is not None:
            self._require(parent_id)
        if self.depth(parent_id) >= MAX_DEPTH:
            raise InvalidCategory(f"categories nest at most {MAX_DEPTH} deep")
        self._require_free(name)
        category_id = uuid4()
        self._added(category_id=category_id, name=name, parent_id=parent_id)
        return category_id

    def rename(self, category_id: UUID, name: str, *, in_use: bool) -> None:
        self._require(category_id)
        name = category_name(name)
        previous = self.names[category_id]
        if name == previous:
            return
        self._require_free(name, but=category_id)
        if in_use:
            raise CategoryConflict(
                f"{previous!r} names products or a commission override: it keeps its name"
            )
        self._renamed(category_id=category_id, name=name, previous=previous)

    def move(self, category_id: UUID, parent_id: UUID | None) -> None:
        self._require(category_id)
        if parent_id is not None:
            self._require(parent_id)
            ancestor: UUID | None = parent_id
            while ancestor is not None:
                if ancestor == category_id:
                    raise InvalidCategory("a category cannot move under itself")
                ancestor = self.parents[ancestor]
        if self.parents[category_id] == parent_id:
            return
        if self.depth(parent_id) + self._height(category_id) > MAX_DEPTH:
            raise InvalidCategory(f"categories nest at most {MAX_DEPTH} deep")
        self._moved(category_id=category_id, parent_id=parent_id)

    def remove(self, category_id: UUID, *, in_use: bool) -> None:
        self._require(category_id)
        if self._children(category_id):
            raise CategoryConflict("a category with subcategories stays; remove them first")
        if in_use:
            raise CategoryConflict(
                f"{self.names[category_id]!r} names products or a commission override"
            )
        self._removed(category_id=category_id, name=self.names[category_id])

    @event(Added)
    def _added(self, category_id: UUID, name: str, parent_id: UUID | None) -> None:
        # NFC already when added now; a name an older Velora stored decomposed reads composed.
        self.names[category_id] = nfc(name)
        self.parents[category_id] = parent_id

    @event(Renamed)
    def _renamed(self, category_id: UUID, name: str, previous: str) -> None:
        self.names[category_id] = nfc(name)

    @event(Moved)
    def _moved(self, category_id: UUID, parent_id: UUID | None) -> None:
        self.parents[category_id] = parent_id

    @event(Removed)
    def _removed(self, category_id: UUID, name: str) -> None:
        del self.names[category_id]
        del self.parents[category_id]
