"""Property-based checks (hypothesis) of the money arithmetic Fulfil does and we predict, and of the
parsers every normalizer uses for POS money, quantities and rates."""

from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from integration.pipeline.money import (
    CENT,
    PRICE_PLACES,
    fulfil_line_amount,
    fulfil_line_tax,
    fulfil_unit_price,
    line_net_excl_tax,
    money,
)
from integration.pos.canonical import NormalizationError
from integration.pos.canonical import money as parse_money
from integration.pos.canonical import quantity as parse_quantity
from integration.pos.canonical import rate as parse_rate

# Amounts a till produces: cents up to £100,000, either sign (returns).
cents = st.integers(min_value=-10_000_000, max_value=10_000_000).map(lambda c: Decimal(c) / 100)
positive_cents = st.integers(min_value=1, max_value=10_000_000).map(lambda c: Decimal(c) / 100)
# Whole-unit quantities as tills ring them (a return is negative), up to 99 of a line.
whole_qty = st.integers(min_value=1, max_value=99).map(Decimal) | st.integers(-99, -1).map(Decimal)
# Weighed goods: up to 3 decimals, under 100 units.
weighed_qty = st.integers(min_value=1, max_value=99_999).map(lambda n: Decimal(n) / 1000)
uk_rates = st.sampled_from([Decimal("0"), Decimal("0.05"), Decimal("0.2")])
any_rate = st.integers(min_value=0, max_value=300_000).map(lambda n: Decimal(n) / 1_000_000)


@given(
    value=st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**9), max_value=10**9, places=6)
)
def test_money_is_idempotent_exactly_two_places_and_within_half_a_cent(value):
    rounded = money(value)
    assert rounded == money(rounded)
    assert rounded.as_tuple().exponent == -2
    assert abs(rounded - value) <= CENT / 2


@given(net=cents, qty=whole_qty | weighed_qty)
def test_the_amount_fulfil_derives_from_our_unit_price_is_the_pos_net_to_the_cent(net, qty):
    """The design rests on this: we send quantity x unit_price, Fulfil rounds it back to the POS net.
    Holds for every quantity below 100 (unit price has 4 places: error < 0.00005 x 100 = half a cent)."""
    assume(net * qty >= 0)  # a return has negative quantity and negative net
    price = fulfil_unit_price(net_excl_tax=net, quantity=qty)
    assert price.as_tuple().exponent == PRICE_PLACES.as_tuple().exponent
    assert fulfil_line_amount(quantity=qty, unit_price=price) == net


@given(net=cents, tax=cents, included=st.booleans())
def test_net_excluding_tax_removes_tax_only_when_prices_include_it(net, tax, included):
    result = line_net_excl_tax(net_amount=net, tax_amount=tax, taxes_included=included)
    assert result == (net - tax if included else net)
    assert result.as_tuple().exponent == -2


@given(amount=cents, rates=st.lists(any_rate, max_size=4))
def test_line_tax_is_the_sum_of_per_tax_rounded_amounts_and_never_far_from_the_exact_tax(amount, rates):
    tax = fulfil_line_tax(amount=amount, rates=rates)
    assert tax.as_tuple().exponent == -2
    exact = sum((amount * r for r in rates), Decimal("0"))
    # Each tax rounds on its own: at most half a cent off each.
    assert abs(tax - exact) <= CENT / 2 * max(1, len(rates))
    assert tax == sum((money(amount * r) for r in rates), Decimal("0.00"))


@given(amount=positive_cents, rate=uk_rates)
def test_a_return_of_a_line_reverses_its_tax_exactly(amount, rate):
    """Round half away from zero is symmetric: refunding a line gives back exactly its tax."""
    assert fulfil_line_tax(amount=-amount, rates=[rate]) == -fulfil_line_tax(amount=amount, rates=[rate])


@given(amounts=st.lists(cents, min_size=1, max_size=30), rate=uk_rates)
def test_summing_then_rounding_differs_from_rounding_each_line_by_at_most_half_a_cent_a_line(amounts, rate):
    """Why validation allows a per-line tolerance when comparing POS tax with Fulfil's."""
    per_line = sum((fulfil_line_tax(amount=a, rates=[rate]) for a in amounts), Decimal("0.00"))
    whole = money(sum(amounts, Decimal("0")) * rate)
    assert abs(per_line - whole) <= CENT / 2 * (len(amounts) + 1)


@given(minor=st.integers(min_value=-(10**12), max_value=10**12))
def test_minor_units_convert_exactly(minor):
    """Square money is integer pence: no rounding may ever happen on the way in."""
    assert parse_money(minor, minor_units=True) == Decimal(minor) / 100


@given(value=cents)
def test_money_parses_numbers_and_strings_alike(value):
    """Shopify mixes strings and numbers; X-Series sends floats."""
    assert parse_money(str(value)) == value
    assert parse_money(float(value)) == value


@given(
    junk=st.one_of(
        st.text(max_size=20),
        st.sampled_from(["NaN", "Infinity", "-inf", "1e999999", "0x10", "1,00", "£5", " ", "--1"]),
        st.lists(st.integers(), max_size=2),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    )
)
def test_parsers_return_a_value_or_refuse_cleanly_never_crash(junk):
    for parse in (parse_money, parse_quantity, parse_rate):
        try:
            result = parse(junk)
        except NormalizationError:
            continue
        assert isinstance(result, Decimal)
        assert result.is_finite()


@pytest.mark.parametrize("value", ["1e999999", "-1e999999", "9" * 60])
def test_absurdly_large_amounts_are_refused_not_crashed(value):
    with pytest.raises(NormalizationError):
        parse_money(value)
