import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


def _token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def api_clients(ops_user, finance_user, admin_user, outsider_user):
    """Token-authenticated clients per persona, plus an anonymous one."""
    return {
        "ops": _token_client(ops_user),
        "finance": _token_client(finance_user),
        "admin": _token_client(admin_user),
        "outsider": _token_client(outsider_user),
        "anonymous": APIClient(),
    }
