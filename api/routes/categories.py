"""Each tenant's category tree: read by anyone in the tenant, managed by its marketplace admins."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import (
    Allowed,
    CategoriesDep,
    CategoryQueriesDep,
    Ctx,
    ReadAfter,
    Scope,
    commanded,
    no_content,
)
from api.policy import crosses_tenants
from api.problems import Problem
from api.security import Principal

router = APIRouter(prefix="/v1/categories", tags=["categories"])
Admin = Annotated[Principal, Depends(Allowed("categories:manage"))]
Reader = Annotated[Principal, Depends(Allowed("categories:read"))]


class CategoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100, description="unique in the tenant")
    parent_id: UUID | None = Field(default=None, description="none: a top-level category")


class CategoryPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=100)
    parent_id: UUID | None = Field(
        default=None, description="moves it; null moves it to the top level"
    )


class CategoryNode(BaseModel):
    id: str
    name: str
    parent_id: str | None
    products: int = Field(description="products buyers can find in it (not in subcategories)")
    created_at: datetime
    children: list[CategoryNode]


class CategoryTreeOut(BaseModel):
    items: list[CategoryNode] = Field(description="the top-level categories, each with its subtree")
    next_cursor: str | None = Field(description="always null: the tree comes whole")


class CategoryOut(BaseModel):
    id: str
    tenant_id: str
    name: str
    parent_id: str | None
    created_at: datetime
    updated_at: datetime


@router.get("", response_model=CategoryTreeOut, dependencies=[Depends(ReadAfter("categories"))])
def category_tree(
    category_queries: CategoryQueriesDep,
    scope: Scope,
    principal: Reader,
    tenant_id: Annotated[
        UUID | None, Query(description="whose tree, for the roles that cross tenants")
    ] = None,
) -> dict[str, Any]:
    """The caller's marketplace's categories as one tree (at most 1,000 categories, so it comes
    whole), each level sorted by name. Guests (a publishable key, no token) read their key's
    marketplace's."""
    if tenant_id is None:
        if crosses_tenants(principal.roles):
            raise Problem(
                422,
                "name the marketplace whose categories you want",
                errors=[{"loc": ["query", "tenant_id"], "msg": "required for your role"}],
            )
        tenant_id = principal.tenant_id
    return {"items": category_queries.tree(scope, str(tenant_id)), "next_cursor": None}


@router.get(
    "/{category_id}", response_model=CategoryOut, dependencies=[Depends(ReadAfter("categories"))]
)
def get_category(
    category_id: UUID, category_queries: CategoryQueriesDep, scope: Scope, _: Reader
) -> dict[str, Any]:
    """One category."""
    category = category_queries.category(scope, str(category_id))
    if category is None:
        raise Problem(404, f"category {category_id} not found")
    return category


@router.post(
    "",
    status_code=201,
    response_model=dict[str, str],
    responses={409: {"description": "the name is taken, or the tree is full"}},
)
def add_category(
    body: CategoryIn, categories: CategoriesDep, ctx: Ctx, response: Response, principal: Admin
) -> dict[str, str]:
    """Adds a category, at the top level or under `parent_id` (at most six levels deep)."""
    result = categories.add(ctx, principal.tenant_id, body.name, body.parent_id)
    return commanded(response, result)


@router.patch(
    "/{category_id}",
    response_model=dict[str, str],
    responses={409: {"description": "renaming a category products or a commission use"}},
)
def change_category(
    category_id: UUID,
    body: CategoryPatch,
    categories: CategoriesDep,
    ctx: Ctx,
    response: Response,
    principal: Admin,
) -> dict[str, str]:
    """Renames a category or moves it (with its subtree) under another parent; never under
    itself. A category that products or a commission override name keeps its name."""
    result = categories.change(
        ctx,
        principal.tenant_id,
        category_id,
        name=body.name,
        move="parent_id" in body.model_fields_set,
        parent_id=body.parent_id,
    )
    return commanded(response, result)


@router.delete(
    "/{category_id}",
    status_code=204,
    responses={409: {"description": "it has subcategories, or products or a commission name it"}},
)
def remove_category(
    category_id: UUID, categories: CategoriesDep, ctx: Ctx, principal: Admin
) -> Response:
    """Removes a category that has no subcategories and that nothing names."""
    result = categories.remove(ctx, principal.tenant_id, category_id)
    return no_content(result)
