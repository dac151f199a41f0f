"""The Fulfil REST v2 client: httpx, pooled, with explicit timeouts, typed errors and a shared rate limit.

Calls use the RPC form the official client uses: `PUT /model/{model}/{method}` with a JSON array of
positional arguments and `?context=<json>`. Reads that are safe to repeat (search, read, counts,
preferences) are retried a bounded number of times on 429/5xx, honouring Retry-After. Writes are
never retried here: a write that timed out or was throttled may still have been applied, so the
typed error goes back to the caller (the sync engine), which looks the record up before resending.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterator
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from django.conf import settings

from integration.fulfil import encoding
from integration.fulfil.errors import (
    AuthError,
    FulfilError,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    TransientError,
    UserError,
)
from integration.fulfil.ratelimit import SharedRateLimiter

logger = logging.getLogger("integration.fulfil")

MAX_PAGE = 500
# Fulfil sometimes answers 429 for requests that are simply invalid (page size too large); those are
# rejections to surface, not throttles to wait out.
_VALIDATION_429_HINTS = ("page size", "cannot exceed", "invalid")


class FulfilClient:
    def __init__(
        self,
        base_url: str,
        *,
        api_key: str = "",
        oauth_token: str = "",
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        rate_limit_per_second: float = 8.0,
        max_read_retries: int = 4,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if api_key:
            headers["X-API-KEY"] = api_key
        elif oauth_token:
            headers["Authorization"] = f"Bearer {oauth_token}"
        self.base_url = base_url.rstrip("/")
        self.read_timeout = read_timeout
        self.max_read_retries = max_read_retries
        self.clock = clock
        self.sleep = sleep
        self.limiter = SharedRateLimiter(rate_limit_per_second, clock=clock, sleep=sleep)
        self.http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(connect=connect_timeout, read=read_timeout, write=read_timeout, pool=5.0),
            limits=httpx.Limits(max_connections=10, max_keepalive_connections=5),
            transport=transport,
        )
        self.context: dict = {}
        # True for the in-process sandbox, which answers on the caller's own database connection: such
        # a client must be called from the thread that owns that connection.
        self.inprocess = bool(getattr(transport, "inprocess", False))

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> FulfilClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- reads (retried on 429/5xx, bounded) ---------------------------------------------------

    def search(
        self,
        model: str,
        domain: list,
        offset: int | None = None,
        limit: int | None = None,
        order: list | None = None,
        context: dict | None = None,
    ) -> list[int]:
        args = _trim([domain, offset, limit, order])
        return self.rpc(model, "search", args, context=context, idempotent=True)

    def search_read(
        self,
        model: str,
        domain: list,
        fields: list[str],
        offset: int | None = None,
        limit: int | None = None,
        order: list | None = None,
        context: dict | None = None,
        *,
        decimals_as_text: bool = False,
    ) -> list[dict]:
        """`decimals_as_text`: amounts come back as Fulfil wrote them ("39.90"), not as Decimal, for a
        caller that compares a great many of them with text of its own (reconciliation)."""
        if limit is not None and limit > MAX_PAGE:
            raise ValueError(f"Fulfil pages hold at most {MAX_PAGE} records")
        args = [domain, offset, limit, order, fields]
        return self.rpc(
            model, "search_read", args, context=context, idempotent=True, decimals_as_text=decimals_as_text
        )

    def search_read_all(
        self,
        model: str,
        domain: list,
        fields: list[str],
        order: list | None = None,
        context: dict | None = None,
        page_size: int = MAX_PAGE,
    ) -> Iterator[dict]:
        """Every matching record, page by page. Ordered by id unless told otherwise, so pages are stable."""
        order = order or [["id", "ASC"]]
        offset = 0
        while True:
            page = self.search_read(model, domain, fields, offset, page_size, order, context=context)
            yield from page
            if len(page) < page_size:
                return
            offset += page_size

    def search_count(self, model: str, domain: list, context: dict | None = None) -> int:
        return self.rpc(model, "search_count", [domain], context=context, idempotent=True)

    def read(self, model: str, ids: list[int], fields: list[str], context: dict | None = None) -> list[dict]:
        rows = self.rpc(model, "read", [list(ids), fields], context=context, idempotent=True)
        # Fulfil does not promise the order of `read`; give it back in the order asked for.
        position = {rid: i for i, rid in enumerate(ids)}
        return sorted(rows, key=lambda row: position.get(row.get("id"), len(position)))

    def get_preferences(self) -> dict:
        prefs = self.rpc("res.user", "get_preferences", [True], idempotent=True)
        self.context = {k: v for k, v in (prefs or {}).items() if k in {"company", "language", "timezone"}}
        return prefs

    # --- writes (never retried here) -------------------------------------------------------------

    def create(self, model: str, records: list[dict], context: dict | None = None) -> list[int]:
        return self.rpc(model, "create", [list(records)], context=context)

    def write(self, model: str, ids: list[int], values: dict, context: dict | None = None) -> None:
        self.rpc(model, "write", [list(ids), values], context=context)

    def delete(self, model: str, ids: list[int], context: dict | None = None) -> None:
        self.rpc(model, "delete", [list(ids)], context=context)

    def call(
        self, model: str, method: str, *args: Any, context: dict | None = None, idempotent: bool = False
    ) -> Any:
        """Any model method, e.g. `call("sale.sale", "quote", [ids])`."""
        return self.rpc(model, method, list(args), context=context, idempotent=idempotent)

    def get_product_inventory(self, product_ids: list[int], warehouse_ids: list[int]) -> dict:
        return self.rpc(
            "product.product", "get_product_inventory", [product_ids, warehouse_ids], idempotent=True
        )

    # --- the wire ------------------------------------------------------------------------------------

    def rpc(
        self,
        model: str,
        method: str,
        args: list,
        *,
        context: dict | None = None,
        idempotent: bool = False,
        decimals_as_text: bool = False,
    ) -> Any:
        attempts = self.max_read_retries + 1 if idempotent else 1
        for attempt in range(1, attempts + 1):
            try:
                return self._send(model, method, args, context, decimals_as_text)
            except (RateLimited, TransientError, OutcomeUnknown) as exc:
                if attempt >= attempts:
                    raise
                self._back_off(exc, attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _back_off(self, exc: FulfilError, attempt: int) -> None:
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            return  # the shared "not before" set from Retry-After already makes us (and everyone) wait
        delay = min(8.0, 0.5 * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)
        self.sleep(delay)

    def _send(
        self, model: str, method: str, args: list, context: dict | None, decimals_as_text: bool = False
    ) -> Any:
        params = {}
        merged = {**self.context, **(context or {})}
        if merged:
            params["context"] = encoding.dumps(merged)
        body = encoding.dumps(args)
        self.limiter.acquire()
        started = self.clock()
        status: int | str = "error"
        try:
            response = self.http.put(f"/model/{model}/{method}", content=body, params=params)
            status = response.status_code
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            status = "connect-failed"
            raise TransientError(f"Could not connect to Fulfil: {type(exc).__name__}") from exc
        except (httpx.ReadTimeout, httpx.WriteTimeout, httpx.RemoteProtocolError, httpx.ReadError) as exc:
            status = "no-response"
            raise OutcomeUnknown(
                f"Fulfil did not answer {model}.{method} in time; it may have been applied"
            ) from exc
        finally:
            logger.info(
                "fulfil call model=%s method=%s status=%s duration_ms=%d",
                model,
                method,
                status,
                (self.clock() - started) * 1000,
            )
        return self._result(response, model, method, decimals_as_text)

    def _result(
        self, response: httpx.Response, model: str, method: str, decimals_as_text: bool = False
    ) -> Any:
        code = response.status_code
        if 200 <= code < 300:
            try:
                return encoding.loads(response.content, decimals_as_text=decimals_as_text)
            except (json.JSONDecodeError, UnicodeDecodeError):  # not a bad value inside valid JSON
                raise TransientError(
                    "Fulfil answered with a page that is not JSON", status_code=code
                ) from None
        body = _json_or_none(response)
        message = _message(body, response)
        if body is _NOT_JSON:
            body = response.text[:2000]
        if isinstance(body, dict) and body.get("type") == "UserError":
            raise UserError(message, status_code=code, body=body)
        if code in (401, 403):
            raise AuthError(message, status_code=code, body=body)
        if code == 404:
            raise NotFound(message, status_code=code, body=body)
        if code == 429:
            if any(hint in message.lower() for hint in _VALIDATION_429_HINTS) and "allotted" not in message:
                raise UserError(message, status_code=code, body=body)
            retry_after = _retry_after(response.headers.get("Retry-After"))
            if retry_after is not None:
                self.limiter.push_back(retry_after)
            raise RateLimited(message, retry_after=retry_after, status_code=code, body=body)
        if code >= 500:
            sentry = response.headers.get("X-Sentry-ID")
            suffix = f" (Sentry {sentry})" if sentry else ""
            raise TransientError(f"Fulfil server error{suffix}: {message}", status_code=code, body=body)
        raise FulfilError(message, status_code=code, body=body, permanent=True)


_NOT_JSON = object()


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:
        return _NOT_JSON


def _message(body: Any, response: httpx.Response) -> str:
    if isinstance(body, dict):
        for key in ("message", "description", "error", "name"):
            if body.get(key):
                return str(body[key])
    text = response.text.strip()
    return text[:300] if text and body is not _NOT_JSON else f"HTTP {response.status_code}"


def _retry_after(raw: str | None) -> float | None:
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _trim(args: list) -> list:
    """Drop trailing None placeholders: `[domain]` rather than `[domain, null, null, null]`."""
    while len(args) > 1 and args[-1] is None:
        args = args[:-1]
    return args


def get_client(**overrides: Any) -> FulfilClient:
    """The client for this deployment: real Fulfil when configured, else the built-in sandbox."""
    options: dict[str, Any] = {
        "connect_timeout": settings.FULFIL_CONNECT_TIMEOUT,
        "read_timeout": settings.FULFIL_READ_TIMEOUT,
        "rate_limit_per_second": settings.FULFIL_RATE_LIMIT_PER_SECOND,
    }
    if settings.FULFIL_BASE_URL:
        options.update(
            base_url=settings.FULFIL_BASE_URL,
            api_key=settings.FULFIL_API_KEY,
            oauth_token=settings.FULFIL_OAUTH_TOKEN,
        )
    elif getattr(settings, "FULFIL_SANDBOX_INPROCESS", False):
        from integration.fulfil.transport import SandboxWSGITransport

        options.update(
            base_url=SandboxWSGITransport.BASE_URL,
            api_key=settings.FULFIL_SANDBOX_API_KEY,
            transport=SandboxWSGITransport(),
        )
    else:
        options.update(base_url=settings.FULFIL_SANDBOX_URL, api_key=settings.FULFIL_SANDBOX_API_KEY)
    options.update(overrides)
    return FulfilClient(**options)
