"""The sandbox speaks Fulfil's wire format: routes, auth, error bodies, positional and keyword forms."""

import json

import httpx
import pytest

from integration.sandbox.services import sandbox_faults_set

API = "/sandbox/fulfil/api/v2"
KEY = {"HTTP_X_API_KEY": "sandbox-key"}


def put(client, path, body, **extra):
    return client.put(
        f"{API}{path}", data=json.dumps(body), content_type="application/json", **{**KEY, **extra}
    )


def test_every_call_needs_the_api_key(client, sandbox):
    response = client.put(f"{API}/model/product.product/search", data="[[]]", content_type="application/json")
    assert response.status_code == 401
    assert put(client, "/model/product.product/search", [[]], HTTP_X_API_KEY="wrong").status_code == 401
    bearer = client.put(
        f"{API}/model/product.product/search_count", data="[[]]", HTTP_AUTHORIZATION="Bearer sandbox-key"
    )
    assert bearer.status_code == 200


def test_the_content_type_header_is_not_required(client, sandbox):
    # The official Python client posts JSON without setting Content-Type; Fulfil accepts it.
    response = client.generic("PUT", f"{API}/model/product.product/search_count", b"[[]]", **KEY)
    assert response.status_code == 200
    assert response.json() == len(sandbox.products)


def test_search_read_takes_the_documented_positional_form(client, sandbox):
    body = [[], None, None, [["code", "ASC"]], ["variant_name", "code"]]
    response = put(client, "/model/product.product/search_read", body)
    rows = response.json()
    assert response.status_code == 200
    assert [r["code"] for r in rows] == sorted(sandbox.products)
    assert set(rows[0]) == {"id", "variant_name", "code"}


def test_search_read_takes_the_keyword_form(client, sandbox):
    body = {
        "filters": [["code", "ilike", "tee-crw-%"]],
        "fields": ["code"],
        "offset": 0,
        "limit": 2,
        "order": [["code", "DESC"]],
    }
    rows = put(client, "/model/product.product/search_read", body).json()
    assert [r["code"] for r in rows] == sorted(
        (c for c in sandbox.products if c.startswith("TEE-CRW")), reverse=True
    )[:2]
    count = put(
        client, "/model/product.product/search_count", {"filters": [["code", "like", "TEE-CRW%"]]}
    ).json()
    assert count == len([c for c in sandbox.products if c.startswith("TEE-CRW")])


def test_post_is_accepted_as_well_as_put(client, sandbox):
    response = client.post(
        f"{API}/model/product.product/search_count", data="[[]]", content_type="application/json", **KEY
    )
    assert response.json() == len(sandbox.products)


def test_decimals_and_dates_come_back_in_both_forms(client, sandbox):
    pid = sandbox.products["TEE-CRW-BLK-XS"]
    row = put(client, "/model/product.product/read", [[pid], ["list_price", "create_date"]]).json()[0]
    assert row["list_price"] == {"__class__": "Decimal", "decimal": "18.00"}
    assert row["create_date"]["__class__"] == "datetime"
    assert {"iso_string", "year", "month", "day", "hour", "minute", "second", "microsecond"} <= set(
        row["create_date"]
    )


def test_user_error_body(client, sandbox):
    response = put(client, "/model/sale.sale/create", [[{"channel": sandbox.channel}]])
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "UserError"
    assert body["message"] == 'A value is required for field "party" in "sale.sale".'


def test_429_body_and_retry_after_match_the_reference_byte_for_byte(client, sandbox):
    sandbox_faults_set(rate_limit_share=1, retry_after_seconds=5)
    response = put(client, "/model/product.product/search", [[]])
    assert response.status_code == 429
    assert response["Retry-After"] == "5"
    assert response.content == (
        b'{"code":429,"name":"Too Many Requests","description":'
        b'"This user has exceeded an allotted request count. Try again later."}'
    )


def test_server_errors_are_html_gateway_pages(client, sandbox):
    sandbox_faults_set(server_error_share=1)
    response = put(client, "/model/product.product/search", [[]])
    assert response.status_code == 502
    assert response["Content-Type"].startswith("text/html")


def test_unknown_models_and_methods(client, sandbox):
    assert put(client, "/model/no.such.model/search", [[]]).status_code == 404
    assert put(client, "/model/sale.sale/explode", [[]]).status_code == 400
    assert put(client, "/model/product.product/search", [[["nope", "=", 1]]]).status_code == 400


def test_pages_over_500_are_refused(client, sandbox):
    response = put(client, "/model/product.product/search_read", [[], 0, 501, None, ["code"]])
    assert response.status_code == 400
    assert "cannot exceed 500" in response.json()["message"]


def test_get_preferences_answers_like_fulfil(client, sandbox):
    prefs = put(client, "/model/res.user/get_preferences", [True]).json()
    assert prefs["company"] == 1
    assert prefs["language"] == "en"


def test_the_client_sends_search_read_exactly_as_the_reference_shows(sandbox, fulfil_client):
    sent = []
    fulfil_client.http.event_hooks["request"].append(lambda request: sent.append(request.read()))
    fulfil_client.search_read("product.product", [], ["variant_name", "code"], order=[["code", "ASC"]])
    assert sent == [b'[[],null,null,[["code","ASC"]],["variant_name","code"]]']


def test_the_client_sends_create_as_one_list_argument(sandbox, fulfil_client):
    sent = []
    fulfil_client.http.event_hooks["request"].append(lambda request: sent.append(request.read()))
    fulfil_client.create("party.party", [{"name": "A"}, {"name": "B"}])
    assert sent == [b'[[{"name":"A"},{"name":"B"}]]']


# --- REST-style routes ---------------------------------------------------------------------------


def test_rest_get_one_returns_id_and_rec_name_unless_fields_are_asked_for(client, sandbox):
    pid = sandbox.products["TEE-CRW-BLK-XS"]
    plain = client.get(f"{API}/model/product.product/{pid}", **KEY).json()
    assert plain == {"id": pid, "rec_name": "[TEE-CRW-BLK-XS] Crew Neck Tee Black XS"}
    rich = client.get(f"{API}/model/product.product/{pid}?fields=code,barcode", **KEY).json()
    assert rich["barcode"] == sandbox.barcodes["TEE-CRW-BLK-XS"]
    assert client.get(f"{API}/model/product.product/999999", **KEY).status_code == 404


def test_rest_find_pages_filters_and_fields(client, sandbox):
    query = {
        "filter": json.dumps([["code", "like", "TEE-CRW-%"]]),
        "page": 2,
        "per_page": 3,
        "field": ["code"],
    }
    rows = client.get(f"{API}/model/product.product", query, **KEY).json()
    expected = sorted(c for c in sandbox.products if c.startswith("TEE-CRW-"))
    by_id = sorted(expected, key=lambda c: sandbox.products[c])
    assert [r["code"] for r in rows] == by_id[3:6]
    assert all(set(r) == {"id", "rec_name", "code"} for r in rows)
    ids = ",".join(str(sandbox.products[c]) for c in expected[:2])
    assert len(client.get(f"{API}/model/product.product", {"ids": ids, "fields": "code"}, **KEY).json()) == 2


def test_rest_create_update_delete(client, sandbox):
    created = client.post(
        f"{API}/model/party.party", data=json.dumps([{"name": "Ada"}]), content_type="application/json", **KEY
    ).json()
    pid = created[0]["id"]
    client.put(
        f"{API}/model/party.party/{pid}",
        data=json.dumps({"name": "Ada L."}),
        content_type="application/json",
        **KEY,
    )
    assert client.get(f"{API}/model/party.party/{pid}?fields=name", **KEY).json()["name"] == "Ada L."
    assert client.delete(f"{API}/model/party.party/{pid}", **KEY).status_code == 200
    assert client.get(f"{API}/model/party.party/{pid}", **KEY).status_code == 404


def test_instance_method_route(client, sandbox):
    from tests.sandbox.helpers import sale_values

    sale_id = put(
        client,
        "/model/sale.sale/create",
        [[json.loads(json.dumps(sale_values(sandbox, "r:1"), default=str))]],
    ).json()[0]
    assert put(client, f"/model/sale.sale/{sale_id}/quote", []).status_code == 200
    assert put(client, "/model/sale.sale/read", [[sale_id], ["state"]]).json()[0]["state"] == "quotation"


def test_report_route(client, sandbox):
    response = client.put(f"{API}/report/sale.sale", data=json.dumps({"objects": [1], "data": {}}), **KEY)
    assert set(response.json()) == {"filename", "mimetype", "url"}


@pytest.mark.parametrize("transport_error", [httpx.ReadTimeout])
def test_in_process_commit_then_timeout_raises_a_read_timeout_in_the_transport(sandbox, transport_error):
    from integration.fulfil.transport import SandboxWSGITransport

    sandbox_faults_set(commit_timeout_share=1)
    with (
        httpx.Client(transport=SandboxWSGITransport(), base_url=SandboxWSGITransport.BASE_URL) as http,
        pytest.raises(transport_error),
    ):
        http.put(
            "/model/party.party/create",
            content=b'[[{"name":"Zed"}]]',
            headers={"X-API-KEY": "sandbox-key"},
        )
    from integration.sandbox.models import SandboxRecord

    assert SandboxRecord.objects.filter(model="party.party", data__name="Zed").count() == 1


def test_the_sandbox_is_gone_when_switched_off(client, sandbox, settings, admin_client_):
    settings.FULFIL_SANDBOX_ENABLED = False
    assert put(client, "/model/product.product/search", [[]]).status_code == 404
    assert admin_client_.get("/sandbox/faults/").status_code == 404
