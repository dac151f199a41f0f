"""Webhook receiver: verify, store whole, acknowledge. All the real work happens later.

The order matters: size limit (413) → source → signature (401 + SecurityEvent) → one insert of the
raw bytes and the headers that matter → 200. A signed body we cannot even key (unparseable) is
stored as quarantined under a hash of its bytes, so nothing a POS sends is lost.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integration.models import Platform, PosSource, SecurityEvent
from integration.pos import lightspeed, signatures
from integration.pos.canonical import NormalizationError
from integration.services import inbound_event_store

# Headers worth keeping with the body (diagnosis, replay, stale-retry detection). Never cookies.
KEPT_HEADERS = {
    "content-type",
    "user-agent",
    "x-shopify-topic",
    "x-shopify-shop-domain",
    "x-shopify-api-version",
    "x-shopify-webhook-id",
    "x-shopify-event-id",
    "x-shopify-triggered-at",
    "x-shopify-hmac-sha256",
    "x-square-hmacsha256-signature",
    "square-environment",
    "square-initial-delivery-timestamp",
    "square-retry-number",
    "square-retry-reason",
    "x-signature",
}


def _client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _refuse(request, source, kind, status, detail=""):
    SecurityEvent.objects.create(
        source=source,
        kind=kind,
        remote_addr=_client_ip(request),
        path=request.path[:255],
        detail=detail[:255],
    )
    return JsonResponse({"error": SecurityEvent.Kind(kind).label}, status=status)


def _verify(source: PosSource, request, body: bytes) -> tuple[bool, str]:
    """(ok, header). Any of the source's secrets (one per line) may match: this allows a key
    rotation, and a Shopify shop whose admin-created hooks sign with the shop secret."""
    header = ""
    for secret in source.webhook_secret.split():
        ok, header = _verify_one(source, secret, request, body)
        if ok:
            return True, header
    return False, header


def _verify_one(source: PosSource, secret: str, request, body: bytes) -> tuple[bool, str]:
    """Each platform exactly as the reference describes it."""
    if source.platform == Platform.SHOPIFY:
        header = request.headers.get("X-Shopify-Hmac-Sha256")
        return signatures.verify_shopify(secret, body, header), header or ""
    if source.platform == Platform.SQUARE:
        header = request.headers.get("X-Square-Hmacsha256-Signature")
        # The URL Square signed is the one registered with Square, not what our proxy shows us.
        url = source.webhook_url or request.build_absolute_uri()
        return signatures.verify_square(secret, url, body, header), header or ""
    if source.platform == Platform.LIGHTSPEED:
        header = request.headers.get("X-Signature")
        return signatures.verify_lightspeed(secret, body, header), header or ""
    return False, ""


def _event_time(source: PosSource, request, body: bytes) -> dt.datetime | None:
    """When the platform says the event happened (Shopify: X-Shopify-Triggered-At; Square: the
    first delivery's timestamp header, else the event's created_at). None when it gives none."""
    raw = ""
    if source.platform == Platform.SHOPIFY:
        raw = request.headers.get("X-Shopify-Triggered-At", "")
    elif source.platform == Platform.SQUARE:
        raw = request.headers.get("Square-Initial-Delivery-Timestamp", "")
        if not raw:
            raw = str((_json_object(body) or {}).get("created_at") or "")
    if not raw:
        return None
    try:
        when = dt.datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _replay_horizon(source: PosSource) -> dt.timedelta | None:
    seconds = {
        Platform.SHOPIFY: settings.WEBHOOK_REPLAY_HORIZON_SHOPIFY_SECONDS,
        Platform.SQUARE: settings.WEBHOOK_REPLAY_HORIZON_SQUARE_SECONDS,
    }.get(source.platform)
    return dt.timedelta(seconds=seconds) if seconds else None


def _json_object(body: bytes) -> dict | None:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: hostile nesting depth
        return None
    return data if isinstance(data, dict) else None


def _keys(source: PosSource, request, body: bytes) -> dict:
    """dedupe_key, topic, entity_ref, entity_version, quarantine_reason — cheap, never raises."""
    body_hash = "sha256:" + hashlib.sha256(body).hexdigest()
    if source.platform == Platform.SHOPIFY:
        topic = request.headers.get("X-Shopify-Topic", "")
        event_id = request.headers.get("X-Shopify-Event-Id") or request.headers.get("X-Shopify-Webhook-Id")
        data = _json_object(body)
        reason = "" if data is not None else "Body is not a JSON object."
        if data is not None and "id" not in data:
            reason = "JSON has no id: not an order or refund."
        entity = str((data or {}).get("id", ""))
        return {
            "dedupe_key": f"event:{event_id}" if event_id else body_hash,
            "topic": topic,
            "entity_ref": entity,
            "entity_version": str((data or {}).get("updated_at") or ""),
            "quarantine_reason": reason,
        }
    if source.platform == Platform.SQUARE:
        data = _json_object(body)
        if data is None or not data.get("event_id"):
            return {
                "dedupe_key": body_hash,
                "topic": "",
                "quarantine_reason": "Not a Square event (no event_id).",
            }
        obj = ((data.get("data") or {}).get("object") or {}) if isinstance(data.get("data"), dict) else {}
        inner = next((v for v in obj.values() if isinstance(v, dict)), {}) if isinstance(obj, dict) else {}
        return {
            "dedupe_key": f"event:{data['event_id']}",
            "topic": str(data.get("type") or ""),
            "entity_ref": str(inner.get("order_id") or (data.get("data") or {}).get("id") or ""),
            "entity_version": str(inner.get("version") or inner.get("updated_at") or ""),
            "quarantine_reason": "",
        }
    try:
        sale = lightspeed.parse_form(body)
    except NormalizationError as exc:
        return {"dedupe_key": body_hash, "topic": "sale.update", "quarantine_reason": str(exc)}
    # No event id on X-Series: the sale id + version (+ status) identify a delivery.
    return {
        "dedupe_key": lightspeed.dedupe_key(sale),
        "topic": "sale.update",
        "entity_ref": str(sale.get("id")),
        "entity_version": str(sale.get("version") or ""),
        "quarantine_reason": "",
    }


@login_not_required
@csrf_exempt
@require_POST
def receive(request, code: str):
    declared = request.META.get("CONTENT_LENGTH") or "0"
    limit = settings.WEBHOOK_MAX_BODY_BYTES
    source = PosSource.objects.filter(code=code, active=True).exclude(platform=Platform.CSV).first()
    if declared.isdigit() and int(declared) > limit:
        return _refuse(request, source, SecurityEvent.Kind.OVERSIZED, 413, f"{declared} bytes")
    body = request.body
    if len(body) > limit:
        return _refuse(request, source, SecurityEvent.Kind.OVERSIZED, 413, f"{len(body)} bytes")
    if source is None:
        return _refuse(request, None, SecurityEvent.Kind.UNKNOWN_SOURCE, 404, f"code {code[:60]}")
    ok, header = _verify(source, request, body)
    if not ok:
        kind = SecurityEvent.Kind.BAD_SIGNATURE if header else SecurityEvent.Kind.MISSING_SIGNATURE
        return _refuse(request, source, kind, 401)
    # Replay protection: only after the signature, so an unsigned body cannot probe it. A person
    # replaying a quarantined event does so from the stored InboundEvent, never through here.
    horizon, when = _replay_horizon(source), _event_time(source, request, body)
    if horizon and when and dt.datetime.now(dt.UTC) - when > horizon:
        return _refuse(request, source, SecurityEvent.Kind.STALE, 409, f"event time {when.isoformat()}")
    keys = _keys(source, request, body)
    headers = {k.lower(): v for k, v in request.headers.items() if k.lower() in KEPT_HEADERS}
    _event, created = inbound_event_store(
        source=source,
        body=body,
        headers=headers,
        content_type=request.content_type or "",
        remote_addr=_client_ip(request),
        **keys,
    )
    return HttpResponse(status=200, content=b"ok" if created else b"duplicate")
