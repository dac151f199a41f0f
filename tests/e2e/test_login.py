import pytest
from django.core.management import call_command

from accounts.management.commands.seed_demo import DEMO_USERS

EXPECTED_NAV = {
    "ops": ["Exceptions", "Transactions", "Maps", "Health"],
    "finance": ["Exceptions", "Transactions", "Reconciliation", "Health"],
    "admin": ["Exceptions", "Transactions", "Maps", "Reconciliation", "Health"],
}


@pytest.fixture
def demo_users(transactional_db, settings):
    settings.DEBUG = True
    call_command("seed_demo", users_only=True)


@pytest.mark.parametrize(("username", "password", "role", "_staff"), DEMO_USERS)
def test_each_demo_user_logs_in_and_sees_their_navigation(
    demo_users, login, page, username, password, role, _staff
):
    login(username, password)
    nav = page.get_by_role("navigation", name="Main")
    labels = [text.strip() for text in nav.get_by_role("link").all_inner_texts()]
    assert labels == EXPECTED_NAV[role]
    assert page.get_by_text(username, exact=False).first.is_visible()


def test_anonymous_visitor_lands_on_the_login_page(transactional_db, page, live_server):
    page.goto(f"{live_server.url}/transactions/")
    assert "/login/" in page.url
    assert page.get_by_role("heading", name="Log in").is_visible()


def test_wrong_password_says_so(demo_users, login, page):
    login("ops", "not-the-password")
    assert "/login/" in page.url
    assert page.get_by_role("alert").is_visible()
