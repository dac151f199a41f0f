import pytest
from django.test import Client

from integration.models import Platform
from integration.possim.generator import ensure_sources, seed_reference
from integration.services import inbound_events_sweep


@pytest.fixture
def pos(db, settings):
    """The three UK sources pointing at the in-process POS simulator, with its reference data."""
    settings.POS_SIMULATOR_INPROCESS = True
    settings.POS_PROCESS_INLINE = False
    from django.core.cache import cache

    cache.clear()
    sources = ensure_sources("http://testserver")
    seed_reference(12)
    return sources


def deliver(d, client=None):
    client = client or Client()
    headers = {k: v for k, v in d.headers.items() if k.lower() != "content-type"}
    return client.post(
        f"/webhooks/{d.source_code}/", data=d.body, content_type=d.content_type, headers=headers
    )


def process_all():
    return inbound_events_sweep(min_age_seconds=0)


__all__ = ["Platform", "deliver", "process_all"]
