"""Factories for the Fulfil catalog cache and the four map kinds (used by tests/mappings and tests/api)."""

import factory

from mappings.models import (
    FulfilChannel,
    FulfilGateway,
    FulfilProduct,
    FulfilTax,
    FulfilWarehouse,
    LocationMap,
    SkuMap,
    TaxMap,
    TenderMap,
)
from tests.factories import PosSourceFactory


class FulfilWarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FulfilWarehouse

    fulfil_id = factory.Sequence(lambda n: 1000 + n)
    code = factory.Sequence(lambda n: f"WH{n:03d}")
    name = factory.Sequence(lambda n: f"Warehouse {n}")


class FulfilProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FulfilProduct

    fulfil_id = factory.Sequence(lambda n: 5000 + n)
    code = factory.Sequence(lambda n: f"SKU-{n:04d}")
    name = factory.Sequence(lambda n: f"Product {n}")


class FulfilTaxFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FulfilTax

    fulfil_id = factory.Sequence(lambda n: 7000 + n)
    name = factory.Sequence(lambda n: f"Tax {n}")


class FulfilChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FulfilChannel

    fulfil_id = factory.Sequence(lambda n: 8000 + n)
    code = factory.Sequence(lambda n: f"CH{n}")
    name = factory.Sequence(lambda n: f"Channel {n}")


class FulfilGatewayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FulfilGateway

    fulfil_id = factory.Sequence(lambda n: 9000 + n)
    code = factory.Sequence(lambda n: f"gw-{n}")
    name = factory.Sequence(lambda n: f"Gateway {n}")


class LocationMapFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LocationMap

    source = factory.SubFactory(PosSourceFactory)
    pos_location_id = factory.Sequence(lambda n: f"loc-{n}")
    pos_location_name = factory.Sequence(lambda n: f"Store {n}")
    warehouse = factory.SubFactory(FulfilWarehouseFactory)


class SkuMapFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SkuMap

    source = factory.SubFactory(PosSourceFactory)
    pos_key = factory.Sequence(lambda n: f"POS-{n}")
    product = factory.SubFactory(FulfilProductFactory)


class TaxMapFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaxMap

    source = factory.SubFactory(PosSourceFactory)
    pos_tax_title = factory.Sequence(lambda n: f"VAT {n}")
    rate = "0.200000"
    tax = factory.SubFactory(FulfilTaxFactory)


class TenderMapFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TenderMap

    source = factory.SubFactory(PosSourceFactory)
    pos_tender = factory.Sequence(lambda n: f"tender-{n}")
    gateway = factory.SubFactory(FulfilGatewayFactory)
