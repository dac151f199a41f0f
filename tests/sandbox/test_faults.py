"""Fault knobs: a 429 storm, 5xx, latency — the client honours Retry-After and loses nothing."""

import pytest
from django.urls import reverse

from integration.fulfil.client import get_client
from integration.sandbox.models import SandboxFaults, SandboxRecord
from integration.sandbox.services import sandbox_faults_get, sandbox_faults_reset, sandbox_faults_set
from tests.sandbox.helpers import post_sale, sale_values


class FakeClock:
    """Time that moves only when the client sleeps, so Retry-After can be checked without waiting."""

    def __init__(self):
        self.now = 2_000_000.0

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_under_a_429_storm_the_client_honours_retry_after_and_no_request_is_lost(sandbox):
    sandbox_faults_set(rate_limit_share=0.5, retry_after_seconds=3, seed=42)
    clock = FakeClock()
    client = get_client(clock=clock.time, sleep=clock.sleep, max_read_retries=20)
    timeline = []  # (time, event)
    client.http.event_hooks["request"].append(lambda request: timeline.append((clock.now, "sent")))
    client.http.event_hooks["response"].append(
        lambda response: timeline.append((clock.now, response.status_code))
    )

    for n in range(15):
        post_sale(client, sale_values(sandbox, f"storm:{n}"))
    counts = [len(client.search("sale.sale", [["channel_identifier", "=", f"storm:{n}"]])) for n in range(15)]

    assert counts == [1] * 15
    throttled = [i for i, (_, event) in enumerate(timeline) if event == 429]
    assert len(throttled) > 10, "the storm should have throttled many requests"
    for i in throttled:
        next_sent = next((t for t, event in timeline[i + 1 :] if event == "sent"), None)
        if next_sent is not None:
            assert next_sent >= timeline[i][0] + 3, "a request went out before Retry-After had passed"
    states = {
        r["state"]
        for r in client.search_read("sale.sale", [["channel_identifier", "like", "storm:%"]], ["state"])
    }
    assert states == {"done"}


def test_reads_ride_out_server_errors(sandbox):
    sandbox_faults_set(server_error_share=0.5, seed=3)
    clock = FakeClock()
    client = get_client(clock=clock.time, sleep=clock.sleep, max_read_retries=20)
    for _ in range(10):
        assert client.search_count("product.product", []) == len(sandbox.products)


def test_the_same_seed_gives_the_same_faults(sandbox, fulfil_client):
    def pattern():
        sandbox_faults_set(rate_limit_share=0.5, seed=5)
        out = []
        for _ in range(12):
            try:
                fulfil_client.create("party.party", [{"name": "x"}])
                out.append("ok")
            except Exception as exc:
                out.append(type(exc).__name__)
        sandbox_faults_reset()
        return out

    first = pattern()
    SandboxFaults.objects.filter(pk=1).update(seed=0)  # a knob change restarts the stream
    assert first == pattern()
    assert "RateLimited" in first
    assert "ok" in first


def test_knobs_are_validated():
    with pytest.raises(TypeError):
        sandbox_faults_set(blast_radius=3)


@pytest.mark.django_db
def test_share_out_of_range_is_refused():
    with pytest.raises(ValueError, match="share"):
        sandbox_faults_set(rate_limit_share=2)


def test_admins_set_faults_from_the_faults_page(admin_client_, sandbox):
    url = reverse("sandbox:faults")
    assert admin_client_.get(url).status_code == 200
    response = admin_client_.post(
        url,
        {
            "latency_ms": 0,
            "rate_limit_share": "0.25",
            "retry_after_seconds": "2",
            "server_error_share": "0",
            "commit_timeout_share": "0.1",
            "user_error_codes": "TEE-CRW-BLK-XS, MUG-ENM-RED",
            "tax_rounding": "order",
            "seed": 9,
        },
    )
    assert response.status_code == 302
    faults = sandbox_faults_get()
    assert str(faults.rate_limit_share) == "0.250"
    assert faults.user_error_codes == ["MUG-ENM-RED", "TEE-CRW-BLK-XS"]
    assert faults.tax_rounding == "order"
    admin_client_.post(url, {"reset": "1"})
    assert sandbox_faults_get().rate_limit_share == 0
    from accounts.models import AuditEntry

    assert AuditEntry.objects.filter(action__startswith="sandbox.faults").count() == 2


def test_only_admins_reach_the_faults_page(persona_clients, client):
    url = reverse("sandbox:faults")
    for persona, persona_client in persona_clients.items():
        assert persona_client.get(url).status_code == (200 if persona == "admin" else 403), persona
    assert client.get(url).status_code == 302  # anonymous: to the login page


def test_sandbox_data_lives_in_its_own_tables(sandbox):
    assert SandboxRecord._meta.app_label == "sandbox"
    assert SandboxRecord.objects.filter(model="stock.location", data__type="warehouse").count() == 3
