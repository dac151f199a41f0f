"""factory_boy factories for nested POS data."""

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from integration.models import (
    LineTax,
    Platform,
    PosSource,
    PosTransaction,
    PosTransactionLine,
    Tender,
    TransactionState,
)


class PosSourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PosSource
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"shop-{n}")
    name = factory.LazyAttribute(lambda o: f"Source {o.code}")
    platform = Platform.SHOPIFY
    timezone = "Europe/London"
    currency = "GBP"
    webhook_secret = "whsec-test-secret"


class PosTransactionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PosTransaction

    source = factory.SubFactory(PosSourceFactory)
    pos_id = factory.Sequence(lambda n: f"{100000 + n}")
    pos_number = factory.LazyAttribute(lambda o: f"#{o.pos_id}")
    kind = PosTransaction.Kind.SALE
    state = TransactionState.READY
    pos_location_id = "loc-oxford"
    pos_location_name = "Oxford Street"
    register_id = "till-1"
    occurred_at = factory.LazyFunction(timezone.now)
    business_date = factory.LazyFunction(lambda: timezone.localdate())
    currency = "GBP"
    subtotal = Decimal("10.00")
    tax_total = Decimal("2.00")
    total = Decimal("12.00")
    content_hash = factory.Sequence(lambda n: f"{n:064x}")


class PosTransactionLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PosTransactionLine

    transaction = factory.SubFactory(PosTransactionFactory)
    line_id = factory.Sequence(lambda n: f"line-{n}")
    sku = "TSHIRT-BLK-M"
    description = "T-shirt black M"
    quantity = Decimal("1")
    unit_price = Decimal("10.00")
    net_amount = Decimal("10.00")
    tax_amount = Decimal("2.00")


class LineTaxFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LineTax

    line = factory.SubFactory(PosTransactionLineFactory)
    title = "VAT"
    rate = Decimal("0.20")
    amount = Decimal("2.00")


class TenderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tender

    transaction = factory.SubFactory(PosTransactionFactory)
    tender_type = Tender.Type.CARD
    gateway = "card"
    amount = Decimal("12.00")


def business_day(days_ago: int = 0) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=days_ago)
