"""Domain errors; the API maps them to 4xx with their sentence."""

from __future__ import annotations


class DomainError(Exception):
    """A request that cannot be done; the message says why, in a sentence."""


class NotFound(DomainError):
    """404"""


class Conflict(DomainError):
    """409: illegal in the current state."""


class Invalid(DomainError):
    """422: well-formed but wrong (e.g. a pickup code that does not match)."""


class Forbidden(DomainError):
    """403: outside the caller's scope."""
