"""HTTP client for the POS read APIs (the real platforms, or our simulator under /sandbox/pos/).

The transport is injectable; with settings.POS_SIMULATOR_INPROCESS the simulator is reached
in-process through httpx.WSGITransport, so tests exercise the real client and the real views.
"""

from __future__ import annotations

import httpx
from django.conf import settings
from django.core.cache import cache

from integration.models import Platform, PosSource


class PosApiError(Exception):
    """The POS API could not be read; the event stays `received` and the sweeper retries."""


def _default_transport() -> httpx.BaseTransport | None:
    if getattr(settings, "POS_SIMULATOR_INPROCESS", False):
        from django.core.signals import request_finished, request_started
        from django.core.wsgi import get_wsgi_application
        from django.db import close_old_connections

        django_app = get_wsgi_application()

        def app(environ, start_response):
            # Like django.test.Client: an in-process request must not close the caller's DB
            # connection (it may be inside a transaction, e.g. a test or an ingest).
            request_started.disconnect(close_old_connections)
            request_finished.disconnect(close_old_connections)
            try:
                return list(django_app(environ, start_response))
            finally:
                request_started.connect(close_old_connections)
                request_finished.connect(close_old_connections)

        return httpx.WSGITransport(app=app)
    return None


class PosApiClient:
    def __init__(self, source: PosSource, *, transport: httpx.BaseTransport | None = None):
        self.source = source
        headers = {"Accept": "application/json"}
        token = source.api_credentials
        if source.platform == Platform.SHOPIFY:
            headers["X-Shopify-Access-Token"] = token
        else:
            headers["Authorization"] = f"Bearer {token}"
        if source.platform == Platform.SQUARE:
            headers["Square-Version"] = "2024-10-17"
        self.http = httpx.Client(
            base_url=source.api_base_url.rstrip("/"),
            headers=headers,
            transport=transport or _default_transport(),
            timeout=settings.POS_API_TIMEOUT_SECONDS,
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def request(self, method: str, path: str, **kwargs) -> dict:
        if not self.source.api_base_url:
            raise PosApiError(f"{self.source.code} has no API base URL configured")
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise PosApiError(f"{method} {path}: {exc.__class__.__name__}") from exc
        if response.status_code >= 400:
            raise PosApiError(f"{method} {path}: HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError as exc:
            raise PosApiError(f"{method} {path}: not JSON") from exc

    def get(self, path: str, **params) -> dict:
        return self.request("GET", path, params=params or None)

    def post(self, path: str, payload: dict) -> dict:
        return self.request("POST", path, json=payload)

    # --- lookups cached briefly: locations and catalog change rarely, sales arrive in bursts ---
    def cached(self, key: str, loader, seconds: int = 300):
        full_key = f"posapi:{self.source.code}:{key}"
        value = cache.get(full_key)
        if value is None:
            value = loader()
            cache.set(full_key, value, seconds)
        return value
