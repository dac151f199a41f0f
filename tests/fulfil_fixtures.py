"""Fixtures for driving the real Fulfil client against the sandbox (registered from tests/conftest.py).

- `sandbox`: a small deterministic estate (2 stores + the DC, a handful of products) with every fault
  off; returns the `Estate` (ids and codes of warehouses, products, taxes, gateways, channel, walk-ins).
- `fulfil_client`: the real FulfilClient, in-process through httpx's WSGI transport.
- `live_fulfil_client`: the real FulfilClient over a loopback socket to pytest-django's live server.
"""

import pytest
from django.core.cache import cache

from integration.fulfil.client import FulfilClient, get_client
from integration.fulfil.ratelimit import NOT_BEFORE_KEY

SMALL_ESTATE = {"store_count": 2, "template_count": 4, "seed": 7}


@pytest.fixture
def sandbox_inprocess(settings):
    settings.FULFIL_SANDBOX_INPROCESS = True
    settings.FULFIL_BASE_URL = ""
    settings.FULFIL_RATE_LIMIT_PER_SECOND = 0  # tests measure behaviour, not throughput
    cache.delete(NOT_BEFORE_KEY)
    return settings


@pytest.fixture
def sandbox(db, sandbox_inprocess):
    from integration.sandbox.seed import estate_ensure
    from integration.sandbox.services import sandbox_faults_reset

    sandbox_faults_reset(seed=1234)
    return estate_ensure(**SMALL_ESTATE)


@pytest.fixture
def fulfil_client(sandbox_inprocess) -> FulfilClient:
    client = get_client(read_timeout=2.0)
    yield client
    client.close()


@pytest.fixture
def live_sandbox(transactional_db, live_server, settings):
    from integration.sandbox.seed import estate_ensure
    from integration.sandbox.services import sandbox_faults_reset

    settings.FULFIL_BASE_URL = ""
    settings.FULFIL_SANDBOX_INPROCESS = False
    settings.FULFIL_SANDBOX_URL = f"{live_server.url}/sandbox/fulfil/api/v2"
    settings.FULFIL_RATE_LIMIT_PER_SECOND = 0
    settings.FULFIL_SANDBOX_HANG_SECONDS = 1.0
    cache.delete(NOT_BEFORE_KEY)
    sandbox_faults_reset(seed=1234)
    return estate_ensure(**SMALL_ESTATE)


@pytest.fixture
def live_fulfil_client(live_sandbox) -> FulfilClient:
    client = get_client(read_timeout=0.5)
    yield client
    client.close()
