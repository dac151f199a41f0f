"""Ops finds an unreadable POS event in the quarantine and replays it."""

from django.core.management import call_command

from integration.models import InboundEvent, Platform, PosSource


def test_ops_opens_a_quarantined_event_and_replays_it(transactional_db, settings, login, page, live_server):
    settings.DEBUG = True
    call_command("seed_demo", users_only=True)
    source = PosSource.objects.create(
        code="lightspeed-uk", name="Lightspeed X-Series (UK)", platform=Platform.LIGHTSPEED
    )
    event = InboundEvent.objects.create(
        source=source,
        dedupe_key="sha256:x",
        topic="sale.update",
        body=b"payload=%7Bbroken",
        status=InboundEvent.Status.QUARANTINED,
        error="payload is not JSON",
    )
    login("ops", "ops-demo-pass")
    page.goto(f"{live_server.url}/quarantine/")
    page.get_by_role("link", name=f"#{event.pk}").click()
    assert page.get_by_text("payload is not JSON").is_visible()
    page.get_by_role("button", name="Replay this event").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("queued again from its stored bytes").is_visible()
    event.refresh_from_db()
    # Back in the queue for a worker (none runs in this test), with the old reason cleared.
    assert event.status == InboundEvent.Status.RECEIVED
    assert event.error == ""
