"""Secrets (webhook secrets, POS API credentials, the Fulfil API key) are never logged, rendered,
exported or returned by the API — checked by grepping everything a person or a log file could see."""

import io
import logging

import openpyxl
import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from integration.models import InboundEvent, Platform
from integration.pos import signatures
from tests.hardening.test_access_matrix import _fill, _session_views

WEBHOOK_SECRET = "whsec-SENTINEL-7f3a9c"
API_CREDENTIALS = "shpat-SENTINEL-b41d22"
FULFIL_KEY = "fulfil-SENTINEL-0e8d55"
SECRETS = (WEBHOOK_SECRET, API_CREDENTIALS, FULFIL_KEY)


def _assert_clean(where: str, text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret} appears in {where}"
        # A partial leak (a prefix shown 'for recognition') is still a leak of most of the key.
        assert secret[-6:] not in text, f"the tail of {secret} appears in {where}"


@pytest.fixture
def secret_source(db):
    from tests.factories import PosSourceFactory

    return PosSourceFactory(
        code="secret-shop",
        platform=Platform.SHOPIFY,
        webhook_secret=WEBHOOK_SECRET,
        api_credentials=API_CREDENTIALS,
    )


def test_secrets_never_reach_the_logs_while_receiving_and_calling_fulfil(
    secret_source, sandbox, settings, caplog, client
):
    settings.FULFIL_SANDBOX_API_KEY = FULFIL_KEY
    settings.FULFIL_API_KEY = FULFIL_KEY
    settings.POS_PROCESS_INLINE = False
    for name in ("", "httpx", "httpcore", "integration", "django", "django.request"):
        caplog.set_level(logging.DEBUG, logger=name or None)
    body = b'{"id": 1, "line_items": []}'
    good = signatures.sign_shopify(WEBHOOK_SECRET, body)
    headers = {"X-Shopify-Hmac-Sha256": good, "X-Shopify-Topic": "orders/create", "X-Shopify-Event-Id": "e1"}
    assert client.post("/webhooks/secret-shop/", body, "application/json", headers=headers).status_code == 200
    bad = {
        **headers,
        "X-Shopify-Hmac-Sha256": signatures.sign_shopify("nope", body),
        "X-Shopify-Event-Id": "e2",
    }
    assert client.post("/webhooks/secret-shop/", body, "application/json", headers=bad).status_code == 401

    from integration.fulfil.client import get_client
    from integration.fulfil.errors import FulfilError

    with get_client(read_timeout=2.0) as fulfil:
        fulfil.search_read("stock.location", [], ["name"])
        # An error path too: error messages are where keys most often leak.
        with pytest.raises(FulfilError):
            fulfil.search_read("no.such.model", [], ["name"])
    # And a client with a wrong key: the 401 is logged, the key is not.
    with get_client(api_key="wrong-" + FULFIL_KEY, read_timeout=2.0) as fulfil, pytest.raises(FulfilError):
        fulfil.search_read("stock.location", [], ["name"])
    assert caplog.records, "nothing was logged at all: the test would prove nothing"
    _assert_clean("the logs", caplog.text + "\n".join(str(r.__dict__) for r in caplog.records))
    assert InboundEvent.objects.count() == 1


def test_secrets_never_appear_on_pages_exports_api_or_the_admin(secret_source, admin_client_, admin_user):
    seen = 0
    for route, pattern in _session_views():
        if getattr(pattern.callback, "required_roles", None) is None:
            continue
        for suffix in ("", "?format=csv", "?export=csv", "?export=xlsx"):
            response = admin_client_.get(_fill(route) + suffix)
            if response.status_code != 200:
                continue
            content = b"".join(response.streaming_content) if response.streaming else response.content
            if content[:2] == b"PK":  # XLSX: read the cells, a zip hides plain-text matches
                book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
                text = "\n".join(
                    str(cell)
                    for sheet in book.worksheets
                    for row in sheet.iter_rows(values_only=True)
                    for cell in row
                )
            else:
                text = content.decode("utf-8", "replace")
            _assert_clean(f"{route}{suffix}", text)
            seen += 1
    # The admin (as a superuser): the source's change form and list, and the API's source endpoints.
    from django.contrib.auth import get_user_model
    from django.test import Client

    site_admin = Client()
    site_admin.force_login(
        get_user_model().objects.create_superuser("root", "root@example.com", "x-pass-123")
    )
    for path in (
        reverse("admin:integration_possource_change", args=[secret_source.pk]),
        reverse("admin:integration_possource_changelist"),
        reverse("admin:integration_possource_add"),
    ):
        response = site_admin.get(path)
        assert response.status_code == 200, path
        _assert_clean(path, response.content.decode())
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=admin_user).key}")
    for path in (reverse("api:source-list"), reverse("api:source-detail", args=[secret_source.code])):
        response = api.get(path)
        assert response.status_code == 200, path
        _assert_clean(path, response.content.decode())
    assert seen >= 20
