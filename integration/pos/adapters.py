"""Turn one stored InboundEvent into canonical transactions, whatever its platform and channel."""

from __future__ import annotations

import json

from integration.models import InboundEvent, Platform
from integration.pos import lightspeed, shopify, square
from integration.pos.canonical import CanonicalTransaction, NormalizationError


def _json(body: bytes):
    try:
        return json.loads(bytes(body).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # RecursionError: hostile nesting
        raise NormalizationError("body is not valid UTF-8 JSON") from exc


def normalize_event(event: InboundEvent, *, client=None) -> list[CanonicalTransaction]:
    platform = event.source.platform
    body = bytes(event.body)
    if platform == Platform.SHOPIFY:
        data = _json(body)
        if not isinstance(data, dict):
            raise NormalizationError("body is not a JSON object")
        return shopify.normalize_event(event.topic, data, client=client)
    if platform == Platform.SQUARE:
        data = _json(body)
        if not isinstance(data, dict):
            raise NormalizationError("body is not a JSON object")
        return square.normalize_event(data, client=client)
    if platform == Platform.LIGHTSPEED:
        sale = _json(body) if event.channel == InboundEvent.Channel.POLL else lightspeed.parse_form(body)
        return [lightspeed.normalize_sale(sale, client=client)]
    if platform == Platform.CSV:
        from integration.pos.csv_import import canonical_from_dict

        return [canonical_from_dict(_json(body))]
    raise NormalizationError(f"no adapter for platform {platform!r}")
