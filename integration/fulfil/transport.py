"""Drive the sandbox in-process through httpx's WSGI transport: the real client, no server.

Two things a socket would do are recreated here: Django's per-request connection housekeeping is
suspended (as django.test.Client does) so the sandbox shares the caller's database transaction, and
the sandbox's "commit then time out" fault, which it signals with a response header in-process,
becomes the httpx.ReadTimeout a real socket would raise.
"""

from __future__ import annotations

import httpx
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

SIMULATE_HEADER = "X-Sandbox-Simulate"
INPROCESS_HEADER = "X-Sandbox-Inprocess"

_wsgi_app = None


def _django_app():
    global _wsgi_app
    if _wsgi_app is None:
        from django.core.wsgi import get_wsgi_application

        _wsgi_app = get_wsgi_application()
    return _wsgi_app


class SandboxWSGITransport(httpx.WSGITransport):
    BASE_URL = "http://testserver/sandbox/fulfil/api/v2"
    inprocess = True  # answers on the calling thread's database connection

    def __init__(self) -> None:
        super().__init__(app=_django_app())

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.headers[INPROCESS_HEADER] = "1"
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            response = super().handle_request(request)
            content = response.read()
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
        if response.headers.get(SIMULATE_HEADER) == "read-timeout":
            raise httpx.ReadTimeout("sandbox: committed, then never answered", request=request)
        return httpx.Response(response.status_code, headers=response.headers, content=content)
