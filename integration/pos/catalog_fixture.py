"""The shared demo catalogue: POS simulator and Fulfil sandbox seed both build from this list, so
SKUs and barcodes line up across the two sides. Deterministic; do not reorder (codes are stable).
"""

from decimal import Decimal

# (sku, name, price incl. VAT, VAT rate). UK VAT: 20 % standard, 5 % reduced, 0 % zero-rated
# (children's clothing, books).
_ITEMS = [
    ("TEE-BLK-S", "Organic tee black S", "18.00", "0.20"),
    ("TEE-BLK-M", "Organic tee black M", "18.00", "0.20"),
    ("TEE-BLK-L", "Organic tee black L", "18.00", "0.20"),
    ("TEE-WHT-M", "Organic tee white M", "18.00", "0.20"),
    ("HOOD-NVY-M", "Heavy hoodie navy M", "55.00", "0.20"),
    ("HOOD-NVY-L", "Heavy hoodie navy L", "55.00", "0.20"),
    ("JEAN-IND-32", "Straight jeans indigo 32", "65.00", "0.20"),
    ("JEAN-IND-34", "Straight jeans indigo 34", "65.00", "0.20"),
    ("JKT-WAX-M", "Waxed jacket olive M", "149.00", "0.20"),
    ("SCARF-WOOL", "Lambswool scarf", "29.99", "0.20"),
    ("BEANIE-GRY", "Ribbed beanie grey", "14.99", "0.20"),
    ("SOCK-3PK", "Cotton socks 3-pack", "9.99", "0.20"),
    ("BAG-TOTE", "Canvas tote bag", "12.50", "0.20"),
    ("CAP-BLK", "Six-panel cap black", "19.99", "0.20"),
    ("KID-TEE-5Y", "Kids tee age 5", "8.00", "0.00"),
    ("KID-TEE-7Y", "Kids tee age 7", "8.00", "0.00"),
    ("KID-COAT-6Y", "Kids rain coat age 6", "32.00", "0.00"),
    ("BOOK-STYLE", "The Style Handbook (book)", "16.99", "0.00"),
    ("CANDLE-FIG", "Fig soy candle", "22.00", "0.20"),
    ("MUG-LOGO", "Enamel mug", "11.00", "0.20"),
    ("SEAT-CHILD", "Child car seat cover", "24.00", "0.05"),
    ("SANPRO-PK", "Reusable period pants", "15.00", "0.00"),
    ("BELT-LTH-M", "Leather belt M", "35.00", "0.20"),
    ("SHIRT-OXF-M", "Oxford shirt blue M", "45.00", "0.20"),
]


def ean13(base12: str) -> str:
    digits = [int(c) for c in base12]
    check = (10 - sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10) % 10
    return base12 + str(check)


def demo_products() -> list[dict]:
    """[{sku, barcode, name, price (GBP incl. VAT, Decimal), vat_rate (Decimal fraction)}]."""
    return [
        {
            "sku": sku,
            "barcode": ean13(f"50601234{n:04d}"),
            "name": name,
            "price": Decimal(price),
            "vat_rate": Decimal(vat),
        }
        for n, (sku, name, price, vat) in enumerate(_ITEMS, start=1)
    ]


# POS store names; the Fulfil sandbox seeds warehouses ST-OXF "Oxford Street" etc. with these names.
DEMO_STORES = [
    ("OXF", "Oxford Street"),
    ("MAN", "Manchester Arndale"),
    ("BHM", "Birmingham Bullring"),
    ("LDS", "Leeds Trinity"),
    ("GLA", "Glasgow Buchanan Street"),
    ("EDI", "Edinburgh Princes Street"),
    ("BRS", "Bristol Cabot Circus"),
    ("LIV", "Liverpool One"),
    ("CDF", "Cardiff St David's"),
    ("NCL", "Newcastle Eldon Square"),
    ("CAM", "Cambridge Grand Arcade"),
    ("BTN", "Brighton Churchill Square"),
]
# A store that opened at the POS but exists nowhere in Fulfil (an unmapped-location exception).
NEW_STORE = ("BTH", "Bath SouthGate")
