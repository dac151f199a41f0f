"""Catch-up pollers: find what webhooks missed. Each keeps a cursor in PosSource.poll_cursor and
reads with an overlapping window (settings.POS_POLL_OVERLAP_MINUTES), so late-indexed records are
not skipped. What a webhook already delivered is recognised (same entity + version already held)
and not stored again; anything else is stored as a `poll` InboundEvent and processed like a webhook.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from integration.models import InboundEvent, Platform, PosSource, PosTransaction
from integration.pos.client import PosApiClient
from integration.services import inbound_event_store


def _already_held(source: PosSource, pos_id: str, version: str) -> bool:
    return (
        PosTransaction.objects.filter(source=source, pos_id=pos_id, pos_version=version).exists()
        if version
        else False
    )


def _store(source: PosSource, *, topic: str, entity: str, version: str, body: dict) -> bool:
    _event, created = inbound_event_store(
        source=source,
        channel=InboundEvent.Channel.POLL,
        dedupe_key=f"poll:{topic}:{entity}:{version}",
        topic=topic,
        entity_ref=entity,
        entity_version=version,
        body=json.dumps(body).encode(),
        headers={},
        content_type="application/json",
    )
    return created


def _window_start(source: PosSource, now: datetime) -> datetime:
    overlap = timedelta(minutes=settings.POS_POLL_OVERLAP_MINUTES)
    last = source.poll_cursor.get("updated_at")
    if last:
        return datetime.fromisoformat(last) - overlap
    return now - timedelta(days=2)  # first run: the last two days


def poll_shopify(source: PosSource, client: PosApiClient, now: datetime) -> int:
    start = _window_start(source, now)
    orders = client.get(
        "/admin/api/2024-04/orders.json", status="any", updated_at_min=start.isoformat(), limit=250
    )
    found = 0
    for order in orders.get("orders", []):
        if order.get("source_name") != "pos":
            continue
        # Refunds ride inside the order; one we never received also makes the order worth storing.
        refunds_missing = any(
            not PosTransaction.objects.filter(source=source, pos_id=f"refund-{r.get('id')}").exists()
            for r in order.get("refunds") or []
        )
        if refunds_missing or not _already_held(source, str(order["id"]), str(order.get("updated_at") or "")):
            found += _store(
                source,
                topic="orders/updated",
                entity=str(order["id"]),
                version=f"{order.get('updated_at')}:{len(order.get('refunds') or [])}",
                body=order,
            )
    source.poll_cursor = {**source.poll_cursor, "updated_at": now.isoformat()}
    return found


def poll_square(source: PosSource, client: PosApiClient, now: datetime) -> int:
    start = _window_start(source, now)
    locations = [loc["id"] for loc in client.get("/v2/locations").get("locations", [])]
    found = 0
    for i in range(0, len(locations), 10):  # SearchOrders takes at most 10 locations per call
        cursor = None
        while True:
            query = {
                "location_ids": locations[i : i + 10],
                "query": {
                    "filter": {
                        "state_filter": {"states": ["COMPLETED"]},
                        "date_time_filter": {
                            "updated_at": {"start_at": start.isoformat(), "end_at": now.isoformat()}
                        },
                    },
                    "sort": {"sort_field": "UPDATED_AT", "sort_order": "ASC"},  # must match the filter field
                },
                "limit": 500,
            }
            if cursor:
                query["cursor"] = cursor
            page = client.post("/v2/orders/search", query)
            for order in page.get("orders", []):
                version = str(order.get("version") or order.get("updated_at") or "")
                if not _already_held(source, order["id"], version):
                    envelope = {"type": "order.polled", "data": {"object": {"order": order}}}
                    found += _store(
                        source, topic="order.polled", entity=order["id"], version=version, body=envelope
                    )
            cursor = page.get("cursor")
            if not cursor:
                break
    source.poll_cursor = {**source.poll_cursor, "updated_at": now.isoformat()}
    return found


def poll_lightspeed(source: PosSource, client: PosApiClient, now: datetime) -> int:
    after = int(source.poll_cursor.get("after") or 0)
    found = 0
    while True:
        page = client.get("/api/2.0/sales", after=after, page_size=200)
        data = page.get("data") or []
        if not data:
            break
        for sale in data:
            version = str(sale.get("version") or "")
            if not _already_held(source, str(sale["id"]), version):
                found += _store(
                    source,
                    topic="sale.polled",
                    entity=str(sale["id"]),
                    version=f"{version}:{sale.get('status')}",
                    body=sale,
                )
        after = int((page.get("version") or {}).get("max") or after)
    source.poll_cursor = {**source.poll_cursor, "after": after}
    return found


POLLERS = {Platform.SHOPIFY: poll_shopify, Platform.SQUARE: poll_square, Platform.LIGHTSPEED: poll_lightspeed}


def poll_source(source: PosSource, *, transport=None) -> int:
    """Poll one source; returns how many new records were stored for processing."""
    poller = POLLERS.get(source.platform)
    if poller is None or not source.api_base_url:
        return 0
    now = timezone.now().astimezone(UTC)
    with PosApiClient(source, transport=transport) as client:
        found = poller(source, client, now)
    source.last_polled_at = now
    source.save(update_fields=["poll_cursor", "last_polled_at"])
    return found


def poll_all() -> dict:
    from integration.pos.client import PosApiError

    result = {}
    for source in PosSource.objects.filter(active=True).exclude(api_base_url=""):
        try:
            result[source.code] = poll_source(source)
        except PosApiError as exc:
            result[source.code] = f"failed: {exc}"
    return result
