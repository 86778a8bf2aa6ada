"""Signing in and staying in: access and refresh tokens, signing out, sign-up, password resets
and email verification. The rules are domain/accounts.py's; services/accounts.py carries them
out. Every refusal of a token is answered alike (401 on refresh, 400 on a reset or a
verification), whatever the reason, so an answer never says more than "not this token"."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.concurrency import run_in_threadpool

from api.deps import (
    POSITION_HEADER,
    Ctx,
    HasherDep,
    IdentityDep,
    LimitsDep,
    TokensDep,
    client_address,
    commanded,
)
from api.problems import Problem
from api.security import TokenService
from domain.accounts import TokenCheck
from domain.base import PLATFORM_TENANT_ID
from services.accounts import AccountApplication, SignedIn

router = APIRouter(prefix="/v1/auth", tags=["auth"])


async def _accounts(request: Request) -> AccountApplication:
    return request.app.state.container.accounts  # type: ignore[no-any-return]


AccountsDep = Annotated[AccountApplication, Depends(_accounts)]

# A token in a body: `<id>.<secret>`, a few dozen characters; anything longer is no token.
TokenText = Annotated[str, Field(min_length=1, max_length=200)]


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=256)
    tenant_id: UUID | None = Field(default=None, description="omit to sign in as platform staff")


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int
    refresh_token: str = Field(
        description="exchange it at POST /v1/auth/refresh for new tokens; it lives 30 days "
        "and works once"
    )


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: TokenText


class SignupRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tenant_id: UUID | None = Field(
        default=None, description="the marketplace; omit only for role seller_pro"
    )
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=8, max_length=256)
    role: Literal["buyer", "seller", "seller_pro"] = Field(
        default="buyer",
        description="seller: a user who may then register a shop with POST /v1/sellers, where "
        "the tenant allows sellers to sign up (seller_signup); seller_pro (without tenant_id): "
        "a platform user who founds an organisation that sells on several marketplaces "
        "(docs/api-seller-pro.md)",
    )

    @model_validator(mode="after")
    def _platform_only_for_seller_pro(self) -> SignupRequest:
        if (self.tenant_id is None) != (self.role == "seller_pro"):
            raise ValueError("tenant_id is required, except for role seller_pro, which has none")
        return self


class PasswordResetRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tenant_id: UUID | None = Field(default=None, description="omit for platform staff")
    email: str = Field(min_length=3, max_length=254)


class PasswordResetConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: TokenText
    new_password: str = Field(min_length=8, max_length=256)


class VerifyEmailRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: TokenText


class Accepted(BaseModel):
    detail: str


class IdResponse(BaseModel):
    id: str


RESET_ACCEPTED = "if an account has this email, a link to choose a new password is on its way"


def _tokens(signed_in: SignedIn, tokens: TokenService, response: Response) -> TokenResponse:
    # Tokens are secrets: no cache, and no idempotent replay, may keep them (RFC 6749 5.1).
    response.headers["Cache-Control"] = "no-store"
    access = tokens.issue(str(signed_in.user_id), str(signed_in.tenant_id), signed_in.roles)
    return TokenResponse(
        access_token=access, expires_in=tokens.ttl_s, refresh_token=signed_in.refresh_token
    )


def _refused_token() -> Problem:
    return Problem(400, "the token is not valid: unknown, used or expired")


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
    accounts: AccountsDep,
    limits: LimitsDep,
    tokens: TokensDep,
    ctx: Ctx,
    request: Request,
    response: Response,
) -> TokenResponse:
    """Exchanges an email and password for a signed access token (JWT with sub, tenant_id,
    roles) and a refresh token, which starts this sign-in. Without `tenant_id` it signs in
    platform staff such as the super admin. The account is read where it is written, so a
    sign-in right after the sign-up succeeds."""
    tenant_id = body.tenant_id or PLATFORM_TENANT_ID
    await run_in_threadpool(limits.sign_in, client_address(request), str(tenant_id), body.email)
    user = await run_in_threadpool(identity.signing_in, tenant_id, body.email)
    ok = await run_in_threadpool(hasher.verify, user.password_hash if user else None, body.password)
    if user is None or not ok:
        # Said whether or not the email has an account anywhere, so it reveals none.
        wrong = "the email or password is wrong" + (
            "" if body.tenant_id else "; a marketplace's user signs in with its tenant_id"
        )
        raise Problem(401, wrong, headers={"WWW-Authenticate": "Bearer"})
    signed_in = await run_in_threadpool(accounts.start_session, ctx, user)
    return _tokens(signed_in, tokens, response)


@router.post(
    "/refresh",
    response_model=TokenResponse,
    responses={401: {"description": "the refresh token is unknown, spent, expired or revoked"}},
)
def refresh(
    body: RefreshRequest,
    accounts: AccountsDep,
    tokens: TokensDep,
    ctx: Ctx,
    response: Response,
) -> TokenResponse:
    """Exchanges a refresh token for a new access token and a new refresh token; the one sent
    is spent. Sending a spent refresh token again ends the whole sign-in it belongs to (every
    refresh token of it answers 401 from then on): one of the two parties holding it stole it.
    The new access token carries the account's roles as they are now."""
    result = accounts.refresh(ctx, body.refresh_token)
    if not isinstance(result, SignedIn):
        raise Problem(
            401,
            "the refresh token is not valid: sign in again",
            headers={"WWW-Authenticate": "Bearer"},
        )
    response.headers[POSITION_HEADER] = str(result.position)
    return _tokens(result, tokens, response)


@router.post("/logout", status_code=204, response_class=Response)
def logout(body: RefreshRequest, accounts: AccountsDep, ctx: Ctx) -> Response:
    """Ends the sign-in the refresh token belongs to: none of its refresh tokens works again.
    Access tokens already issued run out by themselves (they live `expires_in` seconds). The
    answer is 204 whatever the token, as OAuth's token revocation (RFC 7009) answers."""
    position = accounts.sign_out(ctx, body.refresh_token)
    return Response(status_code=204, headers={POSITION_HEADER: str(position)})


@router.post(
    "/signup",
    status_code=201,
    response_model=IdResponse,
    responses={
        403: {"description": "role seller where the tenant does not let sellers sign up"},
        429: {"description": "too many sign-ups from this address"},
    },
)
def sign_up(
    body: SignupRequest,
    identity: IdentityDep,
    limits: LimitsDep,
    ctx: Ctx,
    request: Request,
    response: Response,
) -> dict[str, str]:
    """Registers a buyer of the given tenant, or a seller (who then registers a shop with
    `POST /v1/sellers`) where the tenant's `seller_signup` allows it, and mails a token that
    verifies the email (`POST /v1/auth/verify-email`). The answer never tells whether the email
    has an account there: for an email an account holds, it is the same 201 with a new id,
    while nothing is registered and the account's owner is mailed that someone tried to sign up
    with it. An email whose person was erased may sign up again, as a new account."""
    limits.sign_up(client_address(request))
    tenant_id = PLATFORM_TENANT_ID if body.tenant_id is None else body.tenant_id
    result = identity.sign_up(
        ctx, tenant_id=tenant_id, email=body.email, password=body.password, role=body.role
    )
    return commanded(response, result)


@router.post(
    "/password-reset",
    status_code=202,
    response_model=Accepted,
    responses={429: {"description": "too many requests from this address or for this account"}},
)
def request_password_reset(
    body: PasswordResetRequest,
    accounts: AccountsDep,
    limits: LimitsDep,
    ctx: Ctx,
    request: Request,
) -> Accepted:
    """Mails a link to choose a new password (a token that works once, for 30 minutes) to the
    account with this email, if there is one. The answer is the same 202 either way, given
    before the account is even looked for, so neither it nor its timing tells whether the email
    has an account. Without `tenant_id`, platform staff's accounts."""
    tenant_id = body.tenant_id or PLATFORM_TENANT_ID
    limits.password_reset(client_address(request), str(tenant_id), body.email)
    accounts.request_password_reset(ctx, tenant_id, body.email)
    return Accepted(detail=RESET_ACCEPTED)


@router.post(
    "/password-reset/confirm",
    status_code=204,
    response_class=Response,
    responses={400: {"description": "the token is unknown, used or expired"}},
)
def confirm_password_reset(
    body: PasswordResetConfirm,
    accounts: AccountsDep,
    limits: LimitsDep,
    ctx: Ctx,
    request: Request,
) -> Response:
    """Sets a new password with the token a password reset mailed. Every sign-in of the account
    ends: its refresh tokens answer 401 from now on. The email counts as verified, since the
    token came through it. A token works once, and not after 30 minutes (400)."""
    limits.account_token(client_address(request))
    check, position = accounts.reset_password(ctx, body.token, body.new_password)
    if check is not TokenCheck.OK:
        raise _refused_token()
    return Response(status_code=204, headers={POSITION_HEADER: str(position)})


@router.post(
    "/verify-email",
    status_code=204,
    response_class=Response,
    responses={400: {"description": "the token is unknown, used or expired"}},
)
def verify_email(
    body: VerifyEmailRequest,
    accounts: AccountsDep,
    limits: LimitsDep,
    ctx: Ctx,
    request: Request,
) -> Response:
    """Verifies an account's email with the token mailed at sign-up. A token works once (400
    after that, or once expired)."""
    limits.account_token(client_address(request))
    check, position = accounts.verify_email(ctx, body.token)
    if check is not TokenCheck.OK:
        raise _refused_token()
    return Response(status_code=204, headers={POSITION_HEADER: str(position)})
