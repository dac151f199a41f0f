"""Central access checks: every URL pattern, every persona, derived from the views themselves.

The expected allowed set comes from each view's `required_roles` (set by accounts.roles.role_required),
so a view added tomorrow is walked by these tests the moment it is in a urls.py.
"""

import re

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.roles import ADMIN
from tests.accounts.test_access import _all_patterns

# Pages deliberately without a role check: the login/logout pair and home (which redirects by role).
NO_ROLE_NEEDED = {"login", "logout", "home", "healthz"}
# Machine endpoints authenticated by something other than a session (signature, API key, token).
MACHINE_PREFIXES = ("webhooks/", "sandbox/fulfil/", "sandbox/pos/", "api/", "admin/")
# A real map kind, so /maps/<kind>/… resolves instead of 404-ing before anything else runs.
KIND = "skus"


def _fill(route: str) -> str:
    route = route.replace("<slug:kind>", KIND)
    route = re.sub(r"<int:[^>]+>", "1", route)
    route = re.sub(r"<(slug|str|path):[^>]+>", "x", route)
    return "/" + route


def _session_views():
    for route, pattern in _all_patterns():
        if route.startswith(MACHINE_PREFIXES) or "(?P" in route or route.startswith("^"):
            continue
        yield route, pattern


def test_every_session_page_declares_its_roles():
    missing = [
        route
        for route, pattern in _session_views()
        if pattern.name not in NO_ROLE_NEEDED and getattr(pattern.callback, "required_roles", None) is None
    ]
    assert missing == [], f"views without role_required: {missing}"


def test_every_page_and_action_admits_exactly_its_roles(persona_clients):
    """GET each page as each persona; a POST-only action is tried with POST for the refused personas.

    Refused: 403 (never a redirect, never a 200). Allowed: anything but 403 (404 for the dummy ids
    is fine — the role check passed)."""
    walked = 0
    for route, pattern in _session_views():
        roles = getattr(pattern.callback, "required_roles", None)
        if roles is None:
            continue
        allowed = {ADMIN, *roles}
        path = _fill(route)
        for persona, client in persona_clients.items():
            status = client.get(path).status_code
            if persona in allowed:
                assert status != 403, f"{persona} refused on {path} (roles {roles})"
            else:
                if status == 405:
                    status = client.post(path, {}).status_code
                assert status == 403, f"{persona} got {status} on {path}; only {sorted(allowed)} may"
        walked += 1
    assert walked >= 30


def test_api_refuses_requests_without_a_token(db):
    """Every /api/ route except the schema, its docs and the health probe: 401/403 without a token."""
    public = {"schema", "swagger", "redoc", "docs", "health"}
    anonymous = APIClient()
    checked = 0
    for route, pattern in _all_patterns():
        if not route.startswith("api/") or pattern.name in public or "(?P<format>" in route:
            continue
        path = _fill(route).replace("\\", "").replace("^", "").replace("$", "").replace("\\.", ".")
        path = re.sub(r"\(\?P<[^>]+>[^)]*\)", "x", path)
        for method in ("get", "post"):
            status = getattr(anonymous, method)(path).status_code
            if status == 405:  # the method is not served at all; the other one is checked
                continue
            assert status in (401, 403), f"{method.upper()} {path} answered {status} without a token"
        checked += 1
    assert checked >= 5


def test_api_outsider_token_is_refused(db, outsider_user):
    from rest_framework.authtoken.models import Token

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=outsider_user).key}")
    for name in ("api:transaction-list", "api:exception-group-list", "api:source-list"):
        assert client.get(reverse(name)).status_code == 403, name


def test_sandbox_pages_that_are_not_api_need_a_login(client, db):
    response = client.get(reverse("sandbox:faults"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_sandbox_fulfil_api_refuses_a_missing_or_wrong_key(client, db):
    path = "/sandbox/fulfil/api/v2/model/stock.location"
    assert client.get(path).status_code == 401
    assert client.get(path, headers={"X-API-KEY": "wrong"}).status_code == 401


# --- CSRF ------------------------------------------------------------------------------------------
POST_ACTIONS = [
    "/exceptions/bulk/",
    "/exceptions/1/status/",
    "/exceptions/1/requeue/",
    "/exceptions/1/fix/location/",
    "/exceptions/1/fix/sku/",
    "/exceptions/1/fix/link-return/",
    "/exceptions/1/fix/blind-return/",
    "/exceptions/1/fix/accept-tax/",
    f"/maps/{KIND}/new/",
    f"/maps/{KIND}/import/",
    f"/maps/{KIND}/1/edit/",
    f"/maps/{KIND}/1/end/",
    "/maps/catalog/",
    "/maps/suggestions/accept/",
    "/reconciliation/day/1/regenerate",
    "/reconciliation/",
    "/quarantine/1/replay/",
    "/sandbox/faults/",
]


@pytest.mark.parametrize("path", POST_ACTIONS)
def test_a_post_without_the_csrf_token_is_refused(admin_user, path):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    response = client.post(path, {"note": "x"})
    assert response.status_code == 403, f"{path}: {response.status_code}"
    assert b"CSRF" in response.content


def test_every_post_form_on_the_pages_carries_a_csrf_token(admin_client_, db):
    """Render every GET-able page as admin and look at each <form method="post">."""
    from tests.factories import PosSourceFactory

    PosSourceFactory(code="csrf-src")
    forms = 0
    for route, pattern in _session_views():
        if getattr(pattern.callback, "required_roles", None) is None:
            continue
        response = admin_client_.get(_fill(route))
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode()
        for form in re.findall(r"<form[^>]*method=\"post\"[^>]*>.*?</form>", html, flags=re.S | re.I):
            forms += 1
            assert "csrfmiddlewaretoken" in form, f"{route}: a POST form without a CSRF token"
    assert forms >= 3
