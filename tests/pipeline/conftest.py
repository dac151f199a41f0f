import pytest

from integration.pipeline.validate import transactions_validate
from tests.factories import PosSourceFactory
from tests.pipeline.builders import sale
from tests.pipeline.sandbox_catalog import cache_catalog, map_source, product_facts


@pytest.fixture
def till(sandbox):
    """A POS source whose two stores are mapped onto the sandbox's two store warehouses."""
    source = PosSourceFactory(code="uk-shopify")
    cache_catalog(sandbox)
    stores = {"loc-oxf": "ST-OXF", "loc-man": "ST-MAN"}
    map_source(source=source, estate=sandbox, stores=stores)

    class Till:
        def __init__(self):
            self.source, self.estate, self.stores = source, sandbox, stores

        def sell(self, location="loc-oxf", items=(("TEE-CRW-BLK-M", 1),), **fields):
            from decimal import Decimal

            from tests.pipeline.sandbox_catalog import VAT_TITLES

            lines = []
            for code, qty in items:
                price, vat = product_facts(code)
                lines.append((code, Decimal(qty), price, VAT_TITLES[vat][1]))
            return sale(
                source=source, lines=lines, pos_location_id=location, pos_location_name=location, **fields
            )

        def ready(self):
            return transactions_validate()

    return Till()
