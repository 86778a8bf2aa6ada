"""Sign-in and buyer sign-up."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.deps import (
    Ctx,
    HasherDep,
    IdentityDep,
    LimitsDep,
    TokensDep,
    client_address,
    commanded,
)
from api.problems import Problem
from domain.base import PLATFORM_TENANT_ID

router = APIRouter(prefix="/v1/auth", tags=["auth"])


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=256)
    tenant_id: UUID | None = Field(default=None, description="omit to sign in as platform staff")


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int


class SignupRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tenant_id: UUID
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=8, max_length=256)


class IdResponse(BaseModel):
    id: str


@router.post(
    "/token",
    response_model=TokenResponse,
    responses={
        401: {"description": "bad credentials"},
        429: {"description": "too many attempts from this address or on this account"},
    },
)
async def issue_token(
    body: TokenRequest,
    hasher: HasherDep,
    identity: IdentityDep,
    limits: LimitsDep,
    tokens: TokensDep,
    request: Request,
    response: Response,
) -> TokenResponse:
    """Exchanges an email and password for a signed access token (JWT with sub, tenant_id, roles).
    Without `tenant_id` it signs in platform staff such as the super admin. The account is read
    where it is written, so a sign-in right after the sign-up succeeds."""
    tenant_id = body.tenant_id or PLATFORM_TENANT_ID
    await run_in_threadpool(limits.sign_in, client_address(request), str(tenant_id), body.email)
    user = await run_in_threadpool(identity.signing_in, tenant_id, body.email)
    ok = await run_in_threadpool(hasher.verify, user.password_hash if user else None, body.password)
    if user is None or not ok:
        raise Problem(401, "the email or password is wrong", headers={"WWW-Authenticate": "Bearer"})
    # A token is a secret: no cache, and no idempotent replay, may keep it (RFC 6749 5.1).
    response.headers["Cache-Control"] = "no-store"
    token = tokens.issue(str(user.id), str(user.tenant_id), list(user.roles))
    return TokenResponse(access_token=token, expires_in=tokens.ttl_s)


@router.post(
    "/signup",
    status_code=201,
    response_model=IdResponse,
    responses={429: {"description": "too many sign-ups from this address"}},
)
def sign_up(
    body: SignupRequest,
    identity: IdentityDep,
    limits: LimitsDep,
    ctx: Ctx,
    request: Request,
    response: Response,
) -> dict[str, str]:
    """Registers a buyer of the given tenant. The answer never tells whether the email has an
    account there: for an email an account holds, it is the same 201 with a new id, while
    nothing is registered and the account's owner is mailed that someone tried to sign up with
    it. An email whose person was erased may sign up again, as a new account."""
    limits.sign_up(client_address(request))
    result = identity.sign_up_buyer(
        ctx, tenant_id=body.tenant_id, email=body.email, password=body.password
    )
    return commanded(response, result)
