"""One error type per boundary: every Fulfil failure says whether retrying can help.

`permanent=True` means the same request will fail the same way (a person must act: fix data, fix a
key); `permanent=False` means try again later. `OutcomeUnknown` is the dangerous middle: the request
was sent and may have been applied, so the caller must look the record up before sending it again.
"""

from __future__ import annotations

from typing import Any


class FulfilError(Exception):
    permanent: bool = False

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        body: Any = None,
        permanent: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.body = body
        if permanent is not None:
            self.permanent = permanent

    def __str__(self) -> str:
        return f"{self.message} (HTTP {self.status_code})" if self.status_code else self.message


class UserError(FulfilError):
    """Fulfil refused the request on a business rule; `message` is Fulfil's own words."""

    permanent = True


class AuthError(FulfilError):
    """401/403: the key or token is wrong, expired or lacks access. Alert someone."""

    permanent = True
    alert = True


class NotFound(FulfilError):
    """404: unknown model, method or record."""

    permanent = True


class TransientError(FulfilError):
    """5xx, a gateway's HTML page, or the connection failed before the request was sent."""

    permanent = False


class RateLimited(TransientError):
    """429: slow down. `retry_after` is in seconds when Fulfil said how long."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class OutcomeUnknown(FulfilError):
    """The request went out and no answer came back in time: it may or may not have been applied.

    Transient, but deliberately *not* a TransientError subclass, so that `except TransientError:
    retry()` can never re-send a write blind. Look the record up (e.g. by channel_identifier) first.
    """

    permanent = False
