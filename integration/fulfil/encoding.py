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
        return [to_wire(v, components=components) for v in value]
    raise TypeError(f"Cannot encode {type(value).__name__} for Fulfil")


def _decode_object(obj: dict) -> Any:
    cls = obj.get("__class__")
    if cls is None:
        return {k: from_wire(v) for k, v in obj.items()}
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
    return {k: from_wire(v) for k, v in obj.items()}


def from_wire(value: Any) -> Any:
    """JSON structure → Python, turning every `__class__` object into its Python value."""
    if isinstance(value, dict):
        return _decode_object(value)
    if isinstance(value, list):
        return [from_wire(v) for v in value]
    return value


def dumps(value: Any, *, components: bool = False) -> str:
    """Compact JSON, as Fulfil's documentation prints it: `{"__class__":"Decimal","decimal":"1.00"}`."""
    return json.dumps(to_wire(value, components=components), separators=(",", ":"), ensure_ascii=False)


def loads(text: str | bytes) -> Any:
    return from_wire(json.loads(text))
