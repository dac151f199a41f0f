"""The real client over a real socket to a live server: the deployment shape of the demo."""

import pytest

from integration.fulfil.client import get_client
from integration.fulfil.errors import AuthError, OutcomeUnknown
from integration.sandbox.services import sandbox_faults_set
from tests.sandbox.helpers import on_hand, post_sale, sale_values

pytestmark = pytest.mark.slow


def test_a_sale_and_its_return_over_loopback(live_sandbox, live_fulfil_client):
    client = live_fulfil_client
    assert client.get_preferences()["company"] == 1
    product, oxf = live_sandbox.products["TEE-CRW-BLK-XS"], live_sandbox.warehouses["ST-OXF"]
    start = on_hand(client, product, oxf)
    sale_id = post_sale(client, sale_values(live_sandbox, "loop:1"))
    assert on_hand(client, product, oxf) == start - 2
    post_sale(
        client,
        sale_values(
            live_sandbox, "loop:2", lines=[("TEE-CRW-BLK-XS", -2, "18.00")], origin=f"sale.sale,{sale_id}"
        ),
    )
    assert on_hand(client, product, oxf) == start


def test_commit_then_timeout_over_a_socket_is_an_unknown_outcome_and_lookup_finds_the_sale(
    live_sandbox, live_fulfil_client
):
    sandbox_faults_set(commit_timeout_share=1)
    with pytest.raises(OutcomeUnknown):
        live_fulfil_client.create("sale.sale", [sale_values(live_sandbox, "loop:9")])
    sandbox_faults_set(commit_timeout_share=0)
    assert len(live_fulfil_client.search("sale.sale", [["channel_identifier", "=", "loop:9"]])) == 1


def test_a_wrong_key_is_an_auth_error(live_sandbox):
    with pytest.raises(AuthError):
        get_client(api_key="wrong").search("sale.sale", [])
