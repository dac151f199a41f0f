"""Build a realistic Fulfil estate in the sandbox: UK stores, a distribution centre, products with
variants and EAN-13 barcodes, UK VAT, tender gateways, a POS channel, walk-in parties, stock.

Idempotent: every record is looked up by its code first, so running it again changes nothing.
Deterministic: the same arguments always build the same estate (codes, barcodes, prices, stock).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction

from integration.sandbox.models import SandboxRecord, SandboxSequence, SandboxStock
from integration.sandbox.store import Env

DISTRIBUTION_CENTRE = ("DC-NTH", "Northampton Distribution Centre")
STORES = [
    ("ST-OXF", "Oxford Street"),
    ("ST-MAN", "Manchester Arndale"),
    ("ST-BHM", "Birmingham Bullring"),
    ("ST-LDS", "Leeds Trinity"),
    ("ST-GLA", "Glasgow Buchanan Street"),
    ("ST-EDI", "Edinburgh Princes Street"),
    ("ST-BRS", "Bristol Cabot Circus"),
    ("ST-LIV", "Liverpool ONE"),
    ("ST-NCL", "Newcastle Eldon Square"),
    ("ST-CDF", "Cardiff St David's"),
    ("ST-CAM", "Cambridge Grand Arcade"),
    ("ST-BTN", "Brighton Churchill Square"),
]
TAXES = [
    ("standard", "UK VAT Standard 20%", Decimal("0.20")),
    ("reduced", "UK VAT Reduced 5%", Decimal("0.05")),
    ("zero", "UK VAT Zero 0%", Decimal("0")),
]
GATEWAYS = [
    ("card", "Card (in store)", "credit_card"),
    ("cash", "Cash", "manual"),
    ("gift_card", "Gift card", "gift_card"),
    ("store_credit", "Store credit", "manual"),
]
SIZES = ["XS", "S", "M", "L", "XL"]
COLOURS = [("BLK", "Black"), ("NVY", "Navy"), ("WHT", "White"), ("GRN", "Forest Green"), ("RED", "Red")]
# (code stem, name, list price, VAT class, variant axis)
TEMPLATES = [
    ("TEE-CRW", "Crew Neck Tee", "18.00", "standard", "size-colour"),
    ("TEE-VNK", "V-Neck Tee", "18.00", "standard", "size-colour"),
    ("HOOD-ZIP", "Zip Hoodie", "45.00", "standard", "size-colour"),
    ("JUMP-MER", "Merino Jumper", "65.00", "standard", "size"),
    ("CHINO-SLM", "Slim Chinos", "49.50", "standard", "size"),
    ("KIDS-TEE", "Kids' Tee", "9.00", "zero", "size"),
    ("KIDS-COAT", "Kids' Rain Coat", "28.00", "zero", "size"),
    ("SOCK-3PK", "Cotton Socks 3-pack", "12.00", "standard", "colour"),
    ("BEANIE", "Ribbed Beanie", "15.00", "standard", "colour"),
    ("SCARF-WL", "Wool Scarf", "29.99", "standard", "colour"),
    ("TOTE-CNV", "Canvas Tote", "14.99", "standard", "colour"),
    ("MUG-ENM", "Enamel Mug", "11.50", "standard", "colour"),
    ("BOOK-GDN", "Guide to Urban Gardening (book)", "16.99", "zero", "none"),
    ("BOOK-CKB", "Seasonal Cookbook (book)", "22.00", "zero", "none"),
    ("CHOC-DRK", "Dark Chocolate Bar", "3.25", "standard", "none"),
    ("TEA-ERL", "Earl Grey Tea 80 bags", "4.50", "zero", "none"),
    ("CAR-SEAT", "Child Car Seat", "129.00", "reduced", "none"),
    ("SEED-MIX", "Wildflower Seed Mix", "3.99", "zero", "none"),
    ("BAG-RCY", "Recycled Carrier Bag", "0.10", "standard", "none"),
    ("SUNG-CLS", "Classic Sunglasses", "35.00", "standard", "colour"),
    ("WALL-LTH", "Leather Wallet", "39.00", "standard", "colour"),
    ("CAP-BSB", "Baseball Cap", "19.50", "standard", "colour"),
    ("SHRT-OXF", "Oxford Shirt", "42.00", "standard", "size-colour"),
    ("JEAN-STR", "Straight Jeans", "55.00", "standard", "size"),
    ("DRES-MID", "Midi Dress", "59.00", "standard", "size"),
    ("COAT-PKR", "Parka", "120.00", "standard", "size"),
    ("GLOV-KNT", "Knitted Gloves", "16.00", "standard", "colour"),
    ("UMBR-CMP", "Compact Umbrella", "18.00", "standard", "colour"),
    ("BOTL-STL", "Steel Water Bottle", "21.00", "standard", "colour"),
    ("CNDL-SOY", "Soy Candle", "17.50", "standard", "colour"),
    ("PJ-SET", "Pyjama Set", "34.00", "standard", "size"),
    ("KIDS-PJ", "Kids' Pyjamas", "14.00", "zero", "size"),
    ("SLIP-FLT", "Slippers", "24.00", "standard", "size"),
    ("TRNR-RUN", "Running Trainers", "79.00", "standard", "size"),
    ("BELT-LTH", "Leather Belt", "27.00", "standard", "size"),
    ("BKPK-DAY", "Day Backpack", "48.00", "standard", "colour"),
    ("NOTE-A5", "A5 Notebook", "8.50", "standard", "colour"),
    ("PEN-FTN", "Fountain Pen", "25.00", "standard", "colour"),
    ("MAP-UK", "Road Atlas of Britain (book)", "12.99", "zero", "none"),
    ("NAPP-ECO", "Reusable Nappies 3-pack", "21.00", "reduced", "none"),
    ("PNT-ECO", "Loft Insulation Roll", "26.00", "reduced", "none"),
    ("JUICE-ORG", "Orange Juice 1L", "2.20", "zero", "none"),
    ("CRSP-SEA", "Sea Salt Crisps", "1.40", "standard", "none"),
    ("BISC-SHB", "Shortbread Biscuits", "3.75", "zero", "none"),
    ("WATR-SPK", "Sparkling Water 500ml", "1.10", "standard", "none"),
]


@dataclass
class Estate:
    """Ids and codes of what was built, for tests and for the command's summary."""

    warehouses: dict[str, int] = field(default_factory=dict)  # code → stock.location id
    storage: dict[str, int] = field(default_factory=dict)  # warehouse code → storage location id
    products: dict[str, int] = field(default_factory=dict)  # code → product.product id
    barcodes: dict[str, str] = field(default_factory=dict)  # code → EAN-13
    taxes: dict[str, int] = field(default_factory=dict)  # standard/reduced/zero → account.tax id
    gateways: dict[str, int] = field(default_factory=dict)  # card/cash/gift_card/store_credit → id
    walk_ins: dict[str, int] = field(default_factory=dict)  # warehouse code → party.party id
    channel: int = 0
    customer_location: int = 0
    currency: int = 0

    @property
    def store_codes(self) -> list[str]:
        return [code for code in self.warehouses if code.startswith("ST-")]


def ean13(body12: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body12))
    return body12 + str((10 - total % 10) % 10)


def _find(model: str, code_field: str, code: str) -> int | None:
    env = Env({"active_test": False})
    found = env.search(model, [[code_field, "=", code]], limit=1)
    return found[0] if found else None


def _ensure(env: Env, model: str, code_field: str, code: str, values: dict) -> int:
    found = env.search(model, [[code_field, "=", code]], limit=1)
    if found:
        return found[0]
    return env.create(model, [{code_field: code, **values}])[0]


def _warehouse(env: Env, code: str, name: str, parent: int | None) -> tuple[int, int]:
    found = env.search("stock.location", [["code", "=", code], ["type", "=", "warehouse"]], limit=1)
    if found:
        storage = env.get("stock.location", found[0])["storage_location"]
        return found[0], storage
    wid = env.create("stock.location", [{"code": code, "name": name, "type": "warehouse", "parent": parent}])[
        0
    ]
    children = {}
    for kind in ("input", "storage", "output"):
        children[kind] = env.create(
            "stock.location",
            [
                {
                    "code": f"{code}-{kind.upper()[:3]}",
                    "name": f"{name} {kind.title()}",
                    "type": "storage",
                    "parent": wid,
                }
            ],
        )[0]
    env.write(
        "stock.location",
        [wid],
        {
            "input_location": children["input"],
            "storage_location": children["storage"],
            "output_location": children["output"],
        },
    )
    return wid, children["storage"]


@transaction.atomic
def estate_ensure(
    *, store_count: int = 12, template_count: int = len(TEMPLATES), seed: int = 1, with_stock: bool = True
) -> Estate:
    env = Env({"active_test": False})
    rng = random.Random(seed)
    estate = Estate()
    # Created up front so two workers quoting their first sales at once never race to create it.
    SandboxSequence.objects.get_or_create(name="sale.sale")
    estate.currency = _ensure(env, "currency.currency", "code", "GBP", {"name": "Pound Sterling"})
    _ensure(env, "ir.model", "model", "sale.sale", {"name": "Sale"})
    _ensure(env, "res.user", "login", "integration", {"name": "Tillbridge integration"})
    estate.customer_location = _ensure(
        env, "stock.location", "code", "CUSTOMER", {"name": "Customer", "type": "customer"}
    )
    _ensure(env, "stock.location", "code", "SUPPLIER", {"name": "Supplier", "type": "supplier"})
    for code, name, rate in TAXES:
        estate.taxes[code] = _ensure(
            env, "account.tax", "name", name, {"description": name, "type": "percentage", "rate": rate}
        )
    for code, name, method in GATEWAYS:
        estate.gateways[code] = _ensure(
            env, "payment_gateway.gateway", "code", code, {"name": name, "method": method}
        )
    dc_code, dc_name = DISTRIBUTION_CENTRE
    estate.warehouses[dc_code], estate.storage[dc_code] = _warehouse(env, dc_code, dc_name, None)
    for code, name in STORES[:store_count]:
        estate.warehouses[code], estate.storage[code] = _warehouse(env, code, name, None)
        estate.walk_ins[code] = _ensure(
            env,
            "party.party",
            "code",
            f"WALKIN-{code}",
            {"name": f"Walk-in — {name}", "customer_location": estate.customer_location},
        )
    anonymous = _ensure(
        env,
        "party.party",
        "code",
        "WALKIN",
        {"name": "Walk-in customer", "customer_location": estate.customer_location},
    )
    estate.channel = _ensure(
        env,
        "sale.channel",
        "code",
        "POS",
        {
            "name": "Stores POS",
            "source": "pos",
            "warehouse": estate.warehouses[dc_code],
            "anonymous_customer": anonymous,
            "currency": estate.currency,
            "delivery_mode": "pick_up",
        },
    )
    _products(env, estate, rng, template_count)
    if with_stock:
        _stock(estate, rng)
    return estate


def _variants(stem: str, axis: str) -> list[tuple[str, str]]:
    if axis == "size":
        return [(f"{stem}-{size}", size) for size in SIZES]
    if axis == "colour":
        return [(f"{stem}-{c}", name) for c, name in COLOURS]
    if axis == "size-colour":
        return [(f"{stem}-{c}-{size}", f"{name} {size}") for c, name in COLOURS[:4] for size in SIZES]
    return [(stem, "")]


def _products(env: Env, estate: Estate, rng: random.Random, template_count: int) -> None:
    serial = 0
    for t_index, (stem, name, price, vat, axis) in enumerate(TEMPLATES[:template_count]):
        existing = SandboxRecord.objects.filter(model="product.template", data__name=name).first()
        template = existing.pk if existing else env.create("product.template", [{"name": name}])[0]
        list_price = Decimal(price)
        cost = (list_price * Decimal(rng.randint(35, 55)) / 100).quantize(Decimal("0.0001"))
        for code, variant in _variants(stem, axis):
            serial += 1
            barcode = ean13(f"50{t_index + 1:04d}{serial:06d}")
            estate.barcodes[code] = barcode
            estate.products[code] = _ensure(
                env,
                "product.product",
                "code",
                code,
                {
                    "name": f"{name} {variant}".strip(),
                    "variant_name": variant,
                    "template": template,
                    "barcode": barcode,
                    "upc": barcode,
                    "list_price": list_price,
                    "cost_price": cost,
                    "customer_taxes": [estate.taxes[vat]],
                },
            )


def _stock(estate: Estate, rng: random.Random) -> None:
    """Opening stock in each warehouse's storage location (as if received before the sandbox began)."""
    existing = set(SandboxStock.objects.values_list("product_id", "location_id"))
    rows = []
    for wh_code, storage in estate.storage.items():
        low, high = (200, 500) if wh_code.startswith("DC-") else (8, 40)
        for product_id in estate.products.values():
            quantity = Decimal(rng.randint(low, high))
            if (product_id, storage) not in existing:
                rows.append(SandboxStock(product_id=product_id, location_id=storage, quantity=quantity))
    SandboxStock.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
