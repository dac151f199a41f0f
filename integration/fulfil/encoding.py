"""Fulfil's (Tryton's) JSON encoding: `{"__class__": "Decimal", "decimal": "39.98"}` and friends.

Output matches the official Python client (fulfil-client 3.x): Decimal as `decimal`, date/datetime/
time as `iso_string`. Input accepts both the `iso_string` and the component forms (`year`, `month`,
…) because different Fulfil clients and versions produce different ones. JSON is written compact
(no spaces), byte for byte as in Fulfil's documentation examples.

Datetimes: Fulfil stores naive UTC. Aware datetimes are converted to UTC before sending; decoded
datetimes come back aware in UTC (our house rule: no naive datetimes inside Tillbridge).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any

_DURATION = re.compile(
    r"^P(?:(?P<days>\d+(?:\.\d+)?)D)?(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


_PLAIN = frozenset({int, str, float, bool, type(None)})


def _iso_duration(value: dt.timedelta) -> str:
    seconds = value.total_seconds()
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    hours, rem = divmod(seconds, 3600)
    minutes, secs = divmod(rem, 60)
    secs_text = f"{secs:g}"
    return f"{sign}PT{int(hours)}H{int(minutes)}M{secs_text}S"


def to_wire(value: Any, *, components: bool = False) -> Any:
    """Python → JSON-able structure. `components=True` also emits year/month/… (the sandbox does)."""
    if isinstance(value, bool) or value is None or isinstance(value, int | float | str):
        return value
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        out = {"__class__": "datetime", "iso_string": value.isoformat()}
        if components:
            out.update(
                year=value.year,
                month=value.month,
                day=value.day,
                hour=value.hour,
                minute=value.minute,
                second=value.second,
                microsecond=value.microsecond,
            )
        return out
    if isinstance(value, dt.date):
        out = {"__class__": "date", "iso_string": value.isoformat()}
        if components:
            out.update(year=value.year, month=value.month, day=value.day)
        return out
    if isinstance(value, dt.time):
        out = {"__class__": "time", "iso_string": value.isoformat()}
        if components:
            out.update(
                hour=value.hour, minute=value.minute, second=value.second, microsecond=value.microsecond
            )
        return out
    if isinstance(value, dt.timedelta):
        return {"__class__": "timedelta", "iso_string": _iso_duration(value)}
    if isinstance(value, bytes | bytearray):
        return {"__class__": "bytes", "base64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dict):
        return {str(k): to_wire(v, components=components) for k, v in value.items()}
    if isinstance(value, list | tuple):
        if all(type(v) in _PLAIN for v in value):  # ids in a domain: hundreds a call, nothing to encode
            return list(value)
        return [to_wire(v, components=components) for v in value]
    raise TypeError(f"Cannot encode {type(value).__name__} for Fulfil")


def _decode_object(obj: dict) -> Any:
    """One JSON object whose values are already decoded (json's object_hook calls it innermost first)."""
    value = obj.get("decimal")  # the most common by far (every amount of every record): tried first
    if type(value) is str and obj.get("__class__") == "Decimal":
        return Decimal(value)
    cls = obj.get("__class__")
    if cls is None:
        return obj
    if cls == "Decimal":
        return Decimal(str(obj["decimal"]))
    if cls == "date":
        if obj.get("iso_string"):
            return dt.date.fromisoformat(obj["iso_string"][:10])
        return dt.date(int(obj["year"]), int(obj["month"]), int(obj["day"]))
    if cls == "datetime":
        if obj.get("iso_string"):
            value = dt.datetime.fromisoformat(obj["iso_string"])
        else:
            value = dt.datetime(  # noqa: DTZ001 - Fulfil sends naive UTC; made aware just below
                int(obj["year"]),
                int(obj["month"]),
                int(obj["day"]),
                int(obj.get("hour", 0)),
                int(obj.get("minute", 0)),
                int(obj.get("second", 0)),
                int(obj.get("microsecond", 0)),
            )
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)
    if cls == "time":
        if obj.get("iso_string"):
            return dt.time.fromisoformat(obj["iso_string"])
        return dt.time(
            int(obj.get("hour", 0)),
            int(obj.get("minute", 0)),
            int(obj.get("second", 0)),
            int(obj.get("microsecond", 0)),
        )
    if cls == "timedelta":
        if "seconds" in obj:
            return dt.timedelta(seconds=float(obj["seconds"]))
        text = obj["iso_string"]
        sign = -1 if text.startswith("-") else 1
        match = _DURATION.match(text.lstrip("-"))
        if not match:
            raise ValueError(f"Bad ISO duration {text!r}")
        parts = {k: float(v) for k, v in match.groupdict().items() if v}
        return sign * dt.timedelta(**parts)
    if cls == "bytes":
        return base64.b64decode(obj["base64"])
    # Model references and AsyncResult stay as plain dicts: callers read model_name/id themselves.
    return obj


def from_wire(value: Any) -> Any:
    """JSON structure → Python, turning every `__class__` object into its Python value."""
    if isinstance(value, dict):
        return _decode_object({k: from_wire(v) for k, v in value.items()})
    if isinstance(value, list):
        return [from_wire(v) for v in value]
    return value


def dumps(value: Any, *, components: bool = False) -> str:
    """Compact JSON, as Fulfil's documentation prints it: `{"__class__":"Decimal","decimal":"1.00"}`."""
    return json.dumps(to_wire(value, components=components), separators=(",", ":"), ensure_ascii=False)


def _decode_object_text(obj: dict) -> Any:
    """As `_decode_object`, but a Decimal stays the text Fulfil wrote: "39.90"."""
    value = obj.get("decimal")
    if type(value) is str and obj.get("__class__") == "Decimal":
        return value
    return _decode_object(obj)


def loads(text: str | bytes, *, decimals_as_text: bool = False) -> Any:
    # Decoding inside the parser (object_hook) rather than walking the parsed tree again in Python:
    # a page of 500 sales holds some 2,000 objects, and this is most of a large read's CPU time.
    return json.loads(text, object_hook=_decode_object_text if decimals_as_text else _decode_object)
