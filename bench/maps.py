"""Map administration figures: suggestions over a large catalog, bulk import and export.

`DATABASE_URL=postgres://… python -m bench.maps` — runs in a throwaway test database (never touches
the configured one) and prints rows of (figure, value).
"""

import os
import sys
import time

import django


def _setup():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    return connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)


def run(products: int = 20000, rows: int = 5000) -> list[tuple[str, str]]:
    from django.contrib.auth import get_user_model

    from integration.models import PosSource
    from mappings.importexport import export_csv, import_apply, import_preview
    from mappings.kinds import SKU
    from mappings.models import FulfilProduct, SkuMap
    from mappings.suggestions import ProductIndex, suggest_products

    source = PosSource.objects.create(code="bench", name="Bench", platform="shopify")
    FulfilProduct.objects.bulk_create(
        FulfilProduct(fulfil_id=i, code=f"SKU-{i:06d}", name=f"Product {i} colour {i % 17} size {i % 5}")
        for i in range(products)
    )
    actor = get_user_model().objects.create_user("bench-admin")
    figures = []

    started = time.perf_counter()
    index = ProductIndex()
    figures.append((f"ProductIndex load, {products} products", f"{time.perf_counter() - started:.2f} s"))
    started = time.perf_counter()
    for i in range(200):
        suggest_products(sku=f"sku {i * 7:06d}", description=f"Product {i * 7} colour", index=index)
    per = (time.perf_counter() - started) / 200
    figures.append(
        (f"suggest_products (code + normalised + fuzzy name) over {products}", f"{per * 1000:.1f} ms")
    )

    text = "source,key_type,pos_key,product_code\n" + "".join(
        f"bench,sku,POS-{i},SKU-{i:06d}\n" for i in range(rows)
    )
    started = time.perf_counter()
    assert import_preview(SKU, text).ok
    figures.append((f"import dry run, {rows} SKU rows", f"{time.perf_counter() - started:.2f} s"))
    started = time.perf_counter()
    assert import_apply(SKU, text, actor=actor).applied
    figures.append(
        (
            f"import apply, {rows} SKU rows (audit + release check per row)",
            f"{time.perf_counter() - started:.2f} s",
        )
    )
    started = time.perf_counter()
    exported = export_csv(SKU, SkuMap.objects.filter(source=source))
    figures.append((f"CSV export, {rows} SKU maps", f"{time.perf_counter() - started:.2f} s"))
    started = time.perf_counter()
    assert import_preview(SKU, exported).counts()["unchanged"] == rows
    figures.append(
        (
            f"re-import dry run of the export, {rows} rows (all unchanged)",
            f"{time.perf_counter() - started:.2f} s",
        )
    )
    return figures


def main() -> int:
    name = _setup()
    try:
        for figure, value in run():
            print(f"{figure}: {value}")
    finally:
        from django.db import connection

        connection.creation.destroy_test_db(name, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
