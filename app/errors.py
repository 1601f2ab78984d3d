"""The one error type services raise for a refusal a user should read, with the HTTP status a route
answers it with. `create_app()` installs the single handler that turns it into `{"detail": message}`."""

from __future__ import annotations


class DomainError(ValueError):
    """A refused request, with a message fit to show the user; nothing was written."""

    status = 422  # what an HTTP route answers; subclasses pick their own default
    retry_after: int | None = None  # seconds; the handler sends it as Retry-After when set

    def __init__(self, message: str, status: int | None = None, code: str | None = None):
        super().__init__(message)
        if status is not None:
            self.status = status
        self.code = code  # a word a client may branch on (the message is for people and may change)

    def body(self) -> dict[str, str]:
        return {"detail": str(self), **({"code": self.code} if self.code else {})}


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class TooLarge(DomainError):
    status = 413


class TooManyRequests(DomainError):
    """429: try again in `retry_after` seconds."""

    status = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class Unavailable(DomainError):
    """503: a service the request needs (the broker) cannot be reached; try again shortly."""

    status = 503
    retry_after = 5
