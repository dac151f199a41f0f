"""Every page needs a login and the right role."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

# The only URLs an anonymous visitor may reach. Everything else must redirect to login, so a new
# page is covered by this test the moment it is added to a urls.py.
PUBLIC_PREFIXES = ("login/", "static/", "healthz", "webhooks/", "sandbox/", "api/")


def _all_patterns(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _all_patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def _concrete(route: str) -> str:
    """Turn a route into a requestable path, filling converters with plausible values."""
    import re

    route = route.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\", "")
    route = re.sub(r"<int:[^>]+>", "1", route)
    route = re.sub(r"<(slug|str|path):[^>]+>", "x", route)
    route = re.sub(r"<[^>]+>", "1", route)
    route = re.sub(r"\(\?P<[^>]+>[^)]*\)", "1", route)
    return "/" + route


def test_every_non_public_url_redirects_anonymous_visitors_to_login(client, db):
    checked = 0
    for route, _pattern in _all_patterns():
        path = _concrete(route)
        if any(path.lstrip("/").startswith(p) for p in PUBLIC_PREFIXES) or path.startswith("/admin/"):
            continue
        response = client.get(path)
        assert response.status_code == 302, f"{path} answered {response.status_code} to an anonymous visitor"
        assert response["Location"].startswith(reverse("login")), path
        checked += 1
    assert checked >= 5


def test_admin_site_requires_login(client, db):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_healthz_is_public_and_reports_the_database(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("persona", "visible", "hidden"),
    [
        ("ops", ["Exceptions", "Transactions", "Maps", "Health"], ["Reconciliation"]),
        ("finance", ["Exceptions", "Transactions", "Reconciliation", "Health"], ["Maps"]),
        ("admin", ["Exceptions", "Transactions", "Maps", "Reconciliation", "Health"], []),
        ("outsider", [], ["Exceptions", "Transactions", "Maps", "Reconciliation"]),
    ],
)
def test_navigation_shows_what_the_role_allows(persona_clients, persona, visible, hidden):
    response = persona_clients[persona].get(reverse("integration:health"), follow=False)
    page = response.content.decode()
    nav = page.split('aria-label="Main"', 1)[1].split("</nav>", 1)[0] if 'aria-label="Main"' in page else ""
    for label in visible:
        assert f">{label}</a>" in nav, f"{persona} should see {label}"
    for label in hidden:
        assert f">{label}</a>" not in nav, f"{persona} should not see {label}"


@pytest.mark.parametrize(
    ("url_name", "allowed"),
    [
        ("exceptions:list", {"ops", "finance", "admin"}),
        ("integration:transaction_list", {"ops", "finance", "admin"}),
        ("integration:health", {"ops", "finance", "admin"}),
        ("mappings:index", {"ops", "admin"}),
        ("reconciliation:index", {"finance", "admin"}),
    ],
)
def test_pages_refuse_the_wrong_role(persona_clients, url_name, allowed):
    for persona, client in persona_clients.items():
        status = client.get(reverse(url_name)).status_code
        expected = 200 if persona in allowed else 403
        assert status == expected, f"{persona} on {url_name}: {status}"


def test_home_sends_each_role_to_its_first_page(persona_clients):
    assert persona_clients["finance"].get("/")["Location"] == reverse("exceptions:list")
    assert persona_clients["ops"].get("/")["Location"] == reverse("exceptions:list")


def test_login_page_logs_in_and_out(client, ops_user):
    from tests.conftest import PASSWORD

    response = client.post(reverse("login"), {"username": ops_user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("integration:health")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("integration:health")).status_code == 302


def test_login_is_throttled_after_repeated_failures(client, ops_user):
    from tests.conftest import PASSWORD

    for _ in range(10):
        assert (
            client.post(reverse("login"), {"username": ops_user.username, "password": "wrong"}).status_code
            == 200
        )
    # Even the right password is refused while the throttle holds.
    response = client.post(reverse("login"), {"username": ops_user.username, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed attempts" in response.content.decode()
