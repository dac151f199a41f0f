"""How the client turns Fulfil's answers into typed errors, and which calls it retries.

Fulfil itself is replaced here by httpx.MockTransport (it is the outside system); the sandbox tests
drive the same client against the sandbox.
"""

import json

import httpx
import pytest

from integration.fulfil.client import FulfilClient
from integration.fulfil.errors import (
    AuthError,
    FulfilError,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    TransientError,
    UserError,
)


class Recorder:
    def __init__(self, *responses):
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        item = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        if isinstance(item, Exception):
            raise item
        return item


def _client(recorder, **kwargs) -> FulfilClient:
    sleeps = []
    client = FulfilClient(
        "https://acme.fulfil.io/api/v2",
        api_key="secret-key-123",
        transport=httpx.MockTransport(recorder),
        rate_limit_per_second=0,
        sleep=sleeps.append,
        **kwargs,
    )
    client.sleeps = sleeps
    return client


def _json(status, body, **headers):
    return httpx.Response(status, content=json.dumps(body).encode(), headers=headers)


@pytest.mark.parametrize(
    ("response", "error", "permanent"),
    [
        (
            _json(400, {"type": "UserError", "message": "Sale with Order ID X already exists"}),
            UserError,
            True,
        ),
        (_json(422, {"type": "UserError", "message": "closed period"}), UserError, True),
        (_json(423, {"type": "UserError", "message": "locked"}), UserError, True),
        (_json(401, {"code": 401, "name": "Unauthorized"}), AuthError, True),
        (_json(403, {"code": 403, "name": "Forbidden"}), AuthError, True),
        (_json(404, {"code": 404, "name": "Not Found"}), NotFound, True),
        (_json(400, {"code": 400, "name": "Bad Request", "description": "bad"}), FulfilError, True),
        (httpx.Response(502, text="<html>Bad Gateway</html>"), TransientError, False),
        (httpx.Response(503, text="Service Unavailable"), TransientError, False),
        (_json(429, {"code": 429, "name": "Too Many Requests"}, **{"Retry-After": "5"}), RateLimited, False),
        (_json(429, {"code": 429, "description": "page size cannot exceed 500"}), UserError, True),
        (httpx.Response(200, text="<html>maintenance</html>"), TransientError, False),
    ],
)
def test_each_answer_becomes_an_error_that_says_whether_to_retry(db, response, error, permanent):
    client = _client(Recorder(response))
    with pytest.raises(error) as caught:
        client.write("sale.sale", [1], {"comment": "x"})
    assert type(caught.value) is error
    assert caught.value.permanent is permanent
    assert caught.value.status_code == response.status_code


def test_user_error_carries_fulfils_own_message(db):
    client = _client(
        Recorder(_json(400, {"type": "UserError", "message": "Sale with Order ID A:1 already exists"}))
    )
    with pytest.raises(UserError, match="Sale with Order ID A:1 already exists"):
        client.create("sale.sale", [{"channel_identifier": "A:1"}])


def test_retry_after_is_read_from_a_429(db):
    client = _client(Recorder(_json(429, {"code": 429}, **{"Retry-After": "7"})))
    with pytest.raises(RateLimited) as caught:
        client.create("sale.sale", [{}])
    assert caught.value.retry_after == 7.0


def test_a_read_timeout_after_sending_means_the_outcome_is_unknown(db):
    client = _client(Recorder(httpx.ReadTimeout("slow")))
    with pytest.raises(OutcomeUnknown) as caught:
        client.create("sale.sale", [{}])
    assert not isinstance(caught.value, TransientError), "must not be caught by a blind transient retry"


def test_a_connection_failure_is_transient_because_nothing_was_sent(db):
    client = _client(Recorder(httpx.ConnectError("refused")))
    with pytest.raises(TransientError):
        client.search("sale.sale", [])


def test_writes_are_never_retried_by_the_client(db):
    recorder = Recorder(httpx.Response(502, text="<html/>"))
    client = _client(recorder)
    with pytest.raises(TransientError):
        client.create("sale.sale", [{}])
    assert len(recorder.requests) == 1


def test_reads_are_retried_a_bounded_number_of_times(db):
    recorder = Recorder(httpx.Response(502, text="<html/>"))
    client = _client(recorder, max_read_retries=3)
    with pytest.raises(TransientError):
        client.search("sale.sale", [])
    assert len(recorder.requests) == 4


def test_a_read_succeeds_after_a_transient_failure(db):
    recorder = Recorder(httpx.Response(503, text="down"), _json(200, [1, 2]))
    assert _client(recorder).search("sale.sale", []) == [1, 2]
    assert len(recorder.requests) == 2


def test_requests_carry_the_api_key_and_calls_are_logged_without_it(db, caplog):
    recorder = Recorder(_json(200, [3]))
    client = _client(recorder)
    with caplog.at_level("INFO", logger="integration.fulfil"):
        client.search("product.product", [["code", "=", "X"]], context={"locations": [4]})
    request = recorder.requests[0]
    assert request.method == "PUT"
    assert request.url.path == "/api/v2/model/product.product/search"
    assert request.headers["X-API-KEY"] == "secret-key-123"
    assert request.url.params["context"] == '{"locations":[4]}'
    assert "secret-key-123" not in caplog.text
    assert "model=product.product method=search status=200 duration_ms=" in caplog.text


def test_bearer_token_auth(db):
    recorder = Recorder(_json(200, 0))
    FulfilClient(
        "https://acme.fulfil.io/api/v2",
        oauth_token="tok",
        transport=httpx.MockTransport(recorder),
        rate_limit_per_second=0,
    ).search_count("sale.sale", [])
    assert recorder.requests[0].headers["Authorization"] == "Bearer tok"


def test_search_read_refuses_pages_over_500_before_sending(db):
    recorder = Recorder(_json(200, []))
    with pytest.raises(ValueError, match="500"):
        _client(recorder).search_read("product.product", [], ["code"], limit=501)
    assert recorder.requests == []


def test_a_gateway_page_is_kept_as_text_on_the_error(db):
    client = _client(
        Recorder(httpx.Response(502, text="<html>Bad Gateway</html>", headers={"X-Sentry-ID": "abc"}))
    )
    with pytest.raises(TransientError) as caught:
        client.write("sale.sale", [1], {})
    assert caught.value.body == "<html>Bad Gateway</html>"
    assert "abc" in caught.value.message


def test_get_client_targets_real_fulfil_when_configured(settings, db):
    from integration.fulfil.client import get_client

    settings.FULFIL_BASE_URL = "https://acme.fulfil.io/api/v2"
    settings.FULFIL_API_KEY = "k-123"
    client = get_client()
    assert client.base_url == "https://acme.fulfil.io/api/v2"
    assert client.http.headers["X-API-KEY"] == "k-123"


def test_get_client_falls_back_to_the_sandbox(settings, db):
    from integration.fulfil.client import get_client

    settings.FULFIL_BASE_URL = ""
    settings.FULFIL_SANDBOX_INPROCESS = False
    assert get_client().base_url == settings.FULFIL_SANDBOX_URL
    settings.FULFIL_SANDBOX_INPROCESS = True
    assert get_client().base_url == "http://testserver/sandbox/fulfil/api/v2"
