"""Velora's configuration: VELORA_* environment variables (a .env file is read too). Each server
URL that is set swaps one embedded part for the real server; the rest stay embedded."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from limits import parse
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from eventstore.postgres import POSTGRES_SCHEMES
from projections.store import sqlalchemy_url

# Secrets that appear in examples and must never guard a real deployment.
KNOWN_DEFAULT_SECRETS = frozenset(
    {
        "",
        "secret",
        "changeme",
        "change-me",
        "change_me",
        "dev",
        "development",
        "velora",
        "please-change-me",
        "insecure",
        "test",
    }
)
MIN_SECRET_LENGTH = 32


class SettingsError(RuntimeError):
    """The configuration cannot run safely; Velora refuses to start."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VELORA_", env_file=".env", extra="ignore")

    data_dir: Path = Path(".velora")
    eventstore_url: str | None = None
    read_db_url: str | None = None
    opensearch_url: str | None = None
    kafka_bootstrap: str | None = None
    # Topics are `<prefix>.<kind>` (velora.orders, ...); the relay creates missing ones.
    kafka_topic_prefix: str = Field(default="velora", pattern=r"^[A-Za-z0-9._-]{1,200}$")
    kafka_partitions: int = Field(default=6, ge=1, le=1000)
    kafka_replication_factor: int = Field(default=1, ge=1, le=10)
    stripe_api_key: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = None
    # Where the Stripe SDK sends its requests; unset means Stripe itself (tests use localstripe).
    stripe_api_base: str | None = None
    secret_key: SecretStr | None = None
    # Product images: an S3 bucket when one is named (AWS, MinIO, ...), else files in the data dir.
    s3_bucket: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    # How long a signed image URL stays valid; URLs are stable within a tenth of it (caching).
    media_url_ttl_s: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    token_ttl_s: int = Field(default=3600, ge=60, le=86400)
    idempotency_ttl_s: int = Field(default=24 * 3600, ge=24 * 3600)
    # How long consumers remember the event ids they applied: longer than the topics' retention.
    consumed_retention_days: int = Field(default=30, ge=1, le=3650)
    # Shared rate-limit counters for several API processes; unset: counted in each process.
    redis_url: str | None = None
    # Every key Velora keeps in Redis starts with this: deployments sharing a Redis set their own.
    redis_key_prefix: str = Field(default="velora", pattern=r"^[A-Za-z0-9._:-]{1,100}$")
    # Abuse limits, in the `limits` library's notation ("10/minute", "10 per 15 minutes").
    rate_sign_in_per_address: str = "30/minute"
    rate_sign_in_per_account: str = "10 per 15 minutes"
    rate_sign_up_per_address: str = "20/minute"
    rate_tenant_requests: str = "2000/second"
    # Password-reset requests, reset confirmations and email verifications per client address,
    # and password-reset requests per account (each one mails its owner).
    rate_account_tokens_per_address: str = "30/minute"
    rate_password_reset_per_account: str = "5 per hour"  # noqa: S105 - a rate, not a password
    # Guests (requests with a publishable key and no token) per client address, whatever the
    # key, and per key, from every address. A storefront that calls from its own server (server
    # rendering) shares one address among its visitors: have it forward their addresses
    # (X-Forwarded-For, with --proxy-headers --forwarded-allow-ips=<it>), or raise this.
    rate_guest_per_address: str = "600/minute"
    rate_guest_per_key: str = "1000/second"
    # The largest request body read, checked before any of it is: 413 beyond it.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=1024**3)
    # Password hashes checked or made at once (argon2 takes 64 MiB each); more wait their turn.
    password_checks: int = Field(default=4, ge=1, le=64)
    # Uploaded images decoded at once (one at the pixel limit takes up to about 180 MiB while
    # it is decoded and resized; a large JPEG far less); more wait their turn.
    image_decodes: int = Field(default=2, ge=1, le=64)
    # Webhooks to other apps (docs/webhooks.md): receivers on private or loopback addresses,
    # and over http, are refused unless this allows them (local receivers, a private network).
    webhooks_allow_private: bool = False
    # How long a receiver has to answer one delivery.
    webhooks_timeout_s: float = Field(default=10.0, gt=0, le=60)
    # The wait after a delivery's first failed attempt, doubling after each one up to six hours;
    # a delivery still failing this long after its first attempt is dead.
    webhooks_retry_first_s: float = Field(default=30.0, gt=0, le=3600)
    webhooks_give_up_after_s: float = Field(default=3 * 24 * 3600.0, gt=0, le=30 * 24 * 3600)
    # How long a dispatcher's claim on the deliveries it is sending lasts: one killed mid-batch
    # leaves them to be sent again after this. Longer than a batch can take to send.
    webhooks_lease_s: float = Field(default=120.0, ge=1, le=3600)
    # How long the delivery log keeps what was delivered or given up (the scheduler deletes it).
    webhooks_log_retention_days: int = Field(default=30, ge=1, le=3650)
    # Mail: SMTP when a URL is set (smtps://, smtp+starttls:// or smtp://user:pass@host:587),
    # else one log line per message. Messages come from the built-in templates, each of which
    # a file of the same name in `mail_templates` replaces.
    smtp_url: SecretStr | None = None
    mail_from: str = Field(default="Velora <no-reply@localhost>", min_length=3, max_length=300)
    mail_templates: Path | None = None
    # Where the storefront is: account mail links to <url>/reset-password?token=… and
    # <url>/verify-email?token=…; unset, mail shows the token and the route to send it to.
    storefront_url: str | None = Field(default=None, pattern=r"^https?://[^\s]+$")
    # How long tokens last: a refresh token from its issue, a password reset, an email
    # verification. API.md fixes 30 days and 30 minutes; shorter suits a stricter operator.
    refresh_token_ttl_s: int = Field(default=30 * 24 * 3600, ge=60, le=365 * 24 * 3600)
    password_reset_ttl_s: int = Field(default=30 * 60, ge=1, le=24 * 3600)
    email_verification_ttl_s: int = Field(default=7 * 24 * 3600, ge=1, le=30 * 24 * 3600)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    # JSON lines for machines; "console" for a person at a terminal. Unset: console when the
    # logs go to a terminal, JSON otherwise (`json_logs`).
    log_format: Literal["json", "console"] | None = None

    @field_validator("log_level", mode="before")
    @classmethod
    def _a_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("eventstore_url")
    @classmethod
    def _a_postgres_url(cls, value: str | None) -> str | None:
        if value and urlsplit(value).scheme not in POSTGRES_SCHEMES:
            raise ValueError("not a PostgreSQL URL, such as postgresql://user:pass@host/db")
        return value

    @field_validator("read_db_url")
    @classmethod
    def _a_read_db_url(cls, value: str | None) -> str | None:
        if value:
            try:
                make_url(sqlalchemy_url(value)).get_dialect()
            except (ArgumentError, NoSuchModuleError):
                raise ValueError(
                    "not a database URL Velora can use, such as mysql://user:pass@host/db "
                    "(MySQL 8 or MariaDB) or sqlite:///path"
                ) from None
        return value

    @field_validator(
        "rate_sign_in_per_address",
        "rate_sign_in_per_account",
        "rate_sign_up_per_address",
        "rate_tenant_requests",
        "rate_account_tokens_per_address",
        "rate_password_reset_per_account",
        "rate_guest_per_address",
        "rate_guest_per_key",
    )
    @classmethod
    def _a_rate(cls, value: str) -> str:
        try:
            parse(value)
        except ValueError as e:
            raise ValueError(f"{value!r} is not a rate like '10/minute': {e}") from None
        return value

    @property
    def json_logs(self) -> bool:
        """Whether logs are JSON lines: as set, else unless they go to a terminal."""
        if self.log_format is not None:
            return self.log_format == "json"
        return not sys.stderr.isatty()

    @property
    def embedded(self) -> bool:
        """True when nothing points at a real server: the laptop default."""
        return not any(
            (
                self.eventstore_url,
                self.read_db_url,
                self.opensearch_url,
                self.kafka_bootstrap,
                self.stripe_api_key,
                self.redis_url,
                self.s3_bucket,
            )
        )

    def signing_key(self) -> str:
        """The JWT signing key. Embedded, a random one is made once and kept in the data dir;
        anywhere else a missing, short or well-known secret stops Velora from starting."""
        configured = self.secret_key.get_secret_value() if self.secret_key else ""
        usable = configured.strip().lower() not in KNOWN_DEFAULT_SECRETS and (
            len(configured) >= MIN_SECRET_LENGTH or self.embedded
        )
        if usable:
            return configured
        if not self.embedded:
            raise SettingsError(
                "VELORA_SECRET_KEY must be set to a random secret of at least "
                f"{MIN_SECRET_LENGTH} characters when Velora uses real servers"
            )
        return self._embedded_secret()

    def webhook_secret(self) -> str | None:
        """The secret payment webhooks are signed with, when one is configured. With a Stripe
        key and no webhook secret Velora refuses to start: it could not verify any webhook."""
        secret = (
            self.stripe_webhook_secret.get_secret_value() if self.stripe_webhook_secret else None
        )
        if self.stripe_api_key and not (secret or "").strip():
            raise SettingsError(
                "VELORA_STRIPE_WEBHOOK_SECRET must be set when VELORA_STRIPE_API_KEY is"
            )
        return secret

    def smtp(self) -> str | None:
        """The SMTP server's URL, when mail goes through one."""
        return self.smtp_url.get_secret_value() if self.smtp_url else None

    def _embedded_secret(self) -> str:
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.touch(mode=0o600)
        path.write_text(key)
        return key
