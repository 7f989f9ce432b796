"""Domain errors: plain exceptions with a code, raised by the core and turned into HTTP answers in the user's
language at the edge (extensions.http_errors). Nothing here knows about HTTP or requests."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Text:
    """A message a lower layer (geo validation, fix checks) already wrote in both languages; the edge picks one."""

    zh: str
    en: str

    def pick(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


class DomainError(Exception):
    """A rule the request broke. `code` names the message (i18n.MESSAGES) and `params` fill it; `text` replaces
    it when a lower layer wrote the message itself; `details` (which may hold Text values) goes to the client."""

    code = "bad_request"

    def __init__(self, code: str | None = None, *, details: dict | None = None, text: Text | None = None,
                 **params: object) -> None:
        super().__init__(code or self.code)
        self.code = code or self.code
        self.details = details or {}
        self.text = text
        self.params = params


class InvalidInput(DomainError):
    code = "bad_request"


class NotAuthenticated(DomainError):
    code = "unauthorized"


class NotAllowed(DomainError):
    code = "forbidden"


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class Unprocessable(DomainError):
    """Read, but its content breaks the rules (a register with rejected rows): 422 with the details."""

    code = "unprocessable"


class TooLarge(DomainError):
    code = "payload_too_large"


class UnsupportedMedia(DomainError):
    code = "unsupported_media_type"


class Unavailable(DomainError):
    """Something the deployment lacks (a font, a service): the operator's to fix, not the user's."""

    code = "service_unavailable"


class Locked(DomainError):
    code = "account_locked"


class TooManyAttempts(DomainError):
    code = "too_many_requests"
