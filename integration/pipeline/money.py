"""The arithmetic Fulfil does on a sale line, repeated here so validation can predict it.

Fulfil (Tryton) stores `unit_price` with 4 decimals, computes a line's amount as
round(quantity x unit_price, 2) and its tax as round(amount x rate, 2) per line, half-even (Tryton's
currency rounding). We send the
POS's net amount as quantity x unit_price, so the amount Fulfil derives equals the POS net to the cent
for every quantity the tills produce.
"""

from decimal import ROUND_HALF_EVEN, Decimal

CENT = Decimal("0.01")
PRICE_PLACES = Decimal("0.0001")


def money(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_EVEN)


def line_net_excl_tax(*, net_amount: Decimal, tax_amount: Decimal, taxes_included: bool) -> Decimal:
    """The line's value before tax: Fulfil prices are always tax-exclusive."""
    return money(net_amount - tax_amount) if taxes_included else money(net_amount)


def fulfil_unit_price(*, net_excl_tax: Decimal, quantity: Decimal) -> Decimal:
    if not quantity:
        return Decimal("0.0000")
    return (net_excl_tax / quantity).quantize(PRICE_PLACES, rounding=ROUND_HALF_EVEN)


def fulfil_line_amount(*, quantity: Decimal, unit_price: Decimal) -> Decimal:
    return money(quantity * unit_price)


def fulfil_line_tax(*, amount: Decimal, rates: list[Decimal]) -> Decimal:
    return sum((money(amount * rate) for rate in rates), Decimal("0.00"))
