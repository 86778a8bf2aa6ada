"""Domain errors. Each bounded context subclasses one base per context, and each specific error
also names the kind of failure it is, which is all the API needs to choose a status code."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every expected failure the domain can report."""

    title = "Domain rule violated"
    # The request field the error is about, where one is (an Invalid error's 422 names it).
    field: str | None = None

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if field is not None:
            self.field = field


class NotFound(DomainError):
    """The thing does not exist, or is not visible to the caller (another tenant's)."""

    title = "Not found"


class Conflict(DomainError):
    """The command does not fit the current state (duplicate, wrong lifecycle step)."""

    title = "Conflict"


class Invalid(DomainError):
    """The command's values break a domain rule regardless of state."""

    title = "Invalid"


class NotAllowed(DomainError):
    """The actor may not do this (for example, grant a role above its own)."""

    title = "Not allowed"


class Upstream(DomainError):
    """A service Velora depends on (the payment provider) refused or failed; nothing changed."""

    title = "Upstream service failed"


class Unsupported(DomainError):
    """The content is not of a kind Velora takes (a file that is not an image)."""

    title = "Unsupported media type"


class TooLarge(DomainError):
    """The content is larger than Velora takes (bytes, or pixels once decoded)."""

    title = "Too large"
