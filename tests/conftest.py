"""Personas and shared fixtures. Tests talk to the real database (SQLite locally, PostgreSQL in CI)."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from accounts.roles import ADMIN, FINANCE, OPS

PASSWORD = "correct-horse-battery"


def _make_user(username: str, role: str | None):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def ops_user(db):
    return _make_user("olivia-ops", OPS)


@pytest.fixture
def finance_user(db):
    return _make_user("fred-finance", FINANCE)


@pytest.fixture
def admin_user(db):
    return _make_user("ada-admin", ADMIN)


@pytest.fixture
def outsider_user(db):
    """Logged in, but holds no Tillbridge role."""
    return _make_user("oscar-outsider", None)


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def ops_client(ops_user):
    return _client_for(ops_user)


@pytest.fixture
def finance_client(finance_user):
    return _client_for(finance_user)


@pytest.fixture
def admin_client_(admin_user):
    return _client_for(admin_user)


@pytest.fixture
def outsider_client(outsider_user):
    return _client_for(outsider_user)


@pytest.fixture
def persona_clients(ops_client, finance_client, admin_client_, outsider_client):
    return {"ops": ops_client, "finance": finance_client, "admin": admin_client_, "outsider": outsider_client}


# The Fulfil sandbox fixtures: sandbox, fulfil_client, live_sandbox, live_fulfil_client.
pytest_plugins = ["tests.fulfil_fixtures"]
