"""The `__class__` wire encoding, byte for byte against the reference's examples."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from integration.fulfil import encoding


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (Decimal("39.98"), '{"__class__":"Decimal","decimal":"39.98"}'),
        (dt.date(2024, 5, 1), '{"__class__":"date","iso_string":"2024-05-01"}'),
        (dt.datetime(2024, 5, 1, 10, 0), '{"__class__":"datetime","iso_string":"2024-05-01T10:00:00"}'),
        (dt.time(10, 0), '{"__class__":"time","iso_string":"10:00:00"}'),
        (dt.timedelta(hours=1), '{"__class__":"timedelta","iso_string":"PT1H0M0S"}'),
        (b"hi", '{"__class__":"bytes","base64":"aGk="}'),
    ],
)
def test_values_encode_exactly_as_the_official_client_sends_them(value, wire):
    assert encoding.dumps(value) == wire


def test_aware_datetimes_are_sent_as_naive_utc():
    london = dt.timezone(dt.timedelta(hours=1))
    assert encoding.dumps(dt.datetime(2024, 5, 1, 11, 0, tzinfo=london)) == (
        '{"__class__":"datetime","iso_string":"2024-05-01T10:00:00"}'
    )


@pytest.mark.parametrize(
    ("wire", "value"),
    [
        ('{"__class__":"date","iso_string":"2024-05-01"}', dt.date(2024, 5, 1)),
        ('{"__class__":"date","year":2024,"month":5,"day":1}', dt.date(2024, 5, 1)),
        (
            '{"__class__":"datetime","year":2024,"month":5,"day":1,"hour":10,"minute":0,"second":0,"microsecond":0}',
            dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC),
        ),
        (
            '{"__class__":"datetime","iso_string":"2024-05-01T10:00:00"}',
            dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC),
        ),
        ('{"__class__":"time","hour":10,"minute":30,"second":0,"microsecond":0}', dt.time(10, 30)),
        ('{"__class__":"timedelta","seconds":3600}', dt.timedelta(hours=1)),
        ('{"__class__":"timedelta","iso_string":"PT1H"}', dt.timedelta(hours=1)),
        ('{"__class__":"Decimal","decimal":"0.10"}', Decimal("0.10")),
    ],
)
def test_both_iso_string_and_component_forms_decode(wire, value):
    assert encoding.loads(wire) == value


def test_nested_structures_round_trip():
    payload = [[{"unit_price": Decimal("9.99"), "sale_date": dt.date(2024, 1, 2), "lines": [["create", []]]}]]
    assert encoding.loads(encoding.dumps(payload)) == payload


def test_one2many_create_action_is_a_plain_json_array():
    lines = {"lines": [["create", [{"product": 11, "quantity": 2, "unit_price": Decimal("19.99")}]]]}
    assert encoding.dumps(lines) == (
        '{"lines":[["create",[{"product":11,"quantity":2,'
        '"unit_price":{"__class__":"Decimal","decimal":"19.99"}}]]]}'
    )


def test_the_sandbox_emits_both_forms_so_either_kind_of_client_can_read_it():
    wire = encoding.dumps(dt.date(2024, 5, 1), components=True)
    assert wire == '{"__class__":"date","iso_string":"2024-05-01","year":2024,"month":5,"day":1}'


_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.text(max_size=20)
    | st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-(10**9), max_value=10**9)
    | st.dates()
    | st.datetimes(timezones=st.just(dt.UTC))
    | st.times(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@given(_values)
def test_anything_we_send_decodes_to_the_same_value(value):
    assert encoding.loads(encoding.dumps(value)) == value
    assert encoding.loads(encoding.dumps(value, components=True)) == value
