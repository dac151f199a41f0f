"""Constraints that make duplicates impossible at the database, not just in code."""

import pytest
from django.db import IntegrityError, transaction

from integration.models import InboundEvent
from tests.factories import PosSourceFactory, PosTransactionFactory, PosTransactionLineFactory


def test_a_pos_transaction_is_unique_per_source(db):
    txn = PosTransactionFactory(pos_id="A-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        PosTransactionFactory(pos_id="A-1", source=txn.source)
    # The same POS id from another source is a different transaction.
    PosTransactionFactory(pos_id="A-1", source=PosSourceFactory(code="other"))


def test_an_inbound_event_is_unique_per_source_and_dedupe_key(db):
    source = PosSourceFactory()
    InboundEvent.objects.create(source=source, dedupe_key="evt-1", body=b"{}")
    with pytest.raises(IntegrityError), transaction.atomic():
        InboundEvent.objects.create(source=source, dedupe_key="evt-1", body=b"{}")


def test_raw_body_is_kept_byte_for_byte(db):
    body = b'{"total": "10.00"}\n\xff\xfe not utf-8'
    event = InboundEvent.objects.create(source=PosSourceFactory(), dedupe_key="evt-2", body=body)
    event.refresh_from_db()
    assert bytes(event.body) == body


def test_line_ids_are_unique_within_a_transaction(db):
    line = PosTransactionLineFactory(line_id="L1")
    with pytest.raises(IntegrityError), transaction.atomic():
        PosTransactionLineFactory(line_id="L1", transaction=line.transaction)


def test_channel_identifier_names_source_and_pos_id(db):
    txn = PosTransactionFactory(pos_id="9001", source=PosSourceFactory(code="oxford-shopify"))
    assert txn.channel_identifier == "oxford-shopify:9001"


def test_secrets_never_show_in_repr_or_str(db):
    source = PosSourceFactory(webhook_secret="super-secret-value", api_credentials="token-123")
    assert "super-secret-value" not in repr(source) + str(source)
    assert "token-123" not in repr(source) + str(source)
