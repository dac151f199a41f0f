"""A schema-driven fuzz run: schemathesis generates requests from the API's own OpenAPI schema and
sends them in-process (WSGI) as an admin. Bounded: a few examples per operation, fixed seed."""

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from exceptions.models import ExceptionType
from exceptions.services import exception_raise
from integration.models import TransactionState
from tests.factories import PosSourceFactory, PosTransactionFactory, PosTransactionLineFactory
from tests.map_factories import LocationMapFactory, SkuMapFactory, TaxMapFactory, TenderMapFactory

MAX_EXAMPLES = 4
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


@pytest.fixture
def wsgi_app():
    """Django's real WSGI handler, kept from closing the test's database connection between requests."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def some_data(db):
    source = PosSourceFactory(code="shop")
    txn = PosTransactionFactory(source=source, state=TransactionState.BLOCKED)
    PosTransactionLineFactory(transaction=txn)
    exception_raise(transaction_obj=txn, exc_type=ExceptionType.SKU_MISMATCH, subject="X", title="SKU X")
    for factory in (LocationMapFactory, SkuMapFactory, TaxMapFactory, TenderMapFactory):
        factory(source=source)


@pytest.mark.parametrize(
    ("mode", "checks"),
    [
        # Valid requests: no 5xx, only documented status codes, bodies match their schemas.
        (schemathesis.GenerationMode.POSITIVE, CHECKS),
        # Invalid requests (wrong types, missing fields, junk parameters): refused, never a 5xx.
        (schemathesis.GenerationMode.NEGATIVE, [not_a_server_error]),
    ],
    ids=["valid-requests", "invalid-requests"],
)
def test_fuzzing_the_api_from_its_schema_finds_no_server_errors_or_schema_breaks(
    wsgi_app, some_data, admin_user, mode, checks
):
    headers = {"Authorization": f"Token {Token.objects.create(user=admin_user).key}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app)
    failures: dict[str, str] = {}
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        label = operation.label

        @settings(
            max_examples=MAX_EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def exercise(case):
            try:
                case.call_and_validate(headers=headers, checks=checks)
            except (Exception, BaseExceptionGroup) as exc:  # collect every failure, not just the first
                failures.setdefault(label, str(exc)[:1500])  # noqa: B023

        try:
            exercise()
        except Unsatisfiable:
            # Nothing about this operation can be made invalid (no parameters, no body).
            assert mode == schemathesis.GenerationMode.NEGATIVE
    assert operations >= 25
    assert not failures, "\n\n".join(f"{k}: {v}" for k, v in failures.items())
