"""Read APIs of the simulated POS platforms. Public prefix /sandbox/pos/, guarded by the source's
API token (X-Shopify-Access-Token, or Authorization: Bearer)."""

import json
from datetime import datetime
from functools import wraps

from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from integration.models import PosSource
from integration.possim.models import SimRecord


def _guard(platform: str):
    def deco(view):
        @login_not_required
        @csrf_exempt
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            token = request.headers.get("X-Shopify-Access-Token") or ""
            auth = request.headers.get("Authorization", "")
            if auth.startswith("Bearer "):
                token = auth[7:]
            if not token or not PosSource.objects.filter(platform=platform, api_credentials=token).exists():
                return JsonResponse({"errors": "Invalid API key or access token"}, status=401)
            return view(request, *args, **kwargs)

        return wrapper

    return deco


def _body(request) -> dict:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _when(value):
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def _shopify_order(record: SimRecord) -> dict:
    order = dict(record.data)
    order["refunds"] = [
        r.data
        for r in SimRecord.objects.filter(platform="shopify", kind="refund", parent_id=record.object_id)
    ]
    return order


@_guard("shopify")
def shopify_orders(request):
    qs = SimRecord.objects.filter(platform="shopify", kind="order").order_by("updated_at", "id")
    since = _when(request.GET.get("updated_at_min", ""))
    if since:
        qs = qs.filter(updated_at__gte=since)
    limit = min(int(request.GET.get("limit", "250") or 250), 250)
    return JsonResponse({"orders": [_shopify_order(r) for r in qs[:limit]]})


@_guard("shopify")
def shopify_transactions(request, oid):
    record = SimRecord.objects.filter(platform="shopify", kind="order", object_id=oid).first()
    if record is None:
        return JsonResponse({"errors": "Not Found"}, status=404)
    return JsonResponse({"transactions": record.data.get("transactions", [])})


@_guard("shopify")
def shopify_refunds(request, oid):
    return JsonResponse(
        {
            "refunds": [
                r.data for r in SimRecord.objects.filter(platform="shopify", kind="refund", parent_id=oid)
            ]
        }
    )


@_guard("shopify")
def shopify_locations(request):
    return JsonResponse(
        {"locations": [r.data for r in SimRecord.objects.filter(platform="shopify", kind="location")]}
    )


@_guard("shopify")
def shopify_variant(request, vid):
    record = SimRecord.objects.filter(platform="shopify", kind="variant", object_id=vid).first()
    if record is None:
        return JsonResponse({"errors": "Not Found"}, status=404)
    return JsonResponse({"variant": record.data})


@_guard("square")
def square_orders_batch(request):
    ids = [str(i) for i in _body(request).get("order_ids") or []][:100]
    records = SimRecord.objects.filter(platform="square", kind="order", object_id__in=ids)
    return JsonResponse({"orders": [r.data for r in records]})


@_guard("square")
def square_orders_search(request):
    body = _body(request)
    qs = SimRecord.objects.filter(platform="square", kind="order").order_by("updated_at", "id")
    locations = body.get("location_ids") or []
    if locations:
        qs = qs.filter(location_id__in=locations[:10])
    window = (((body.get("query") or {}).get("filter") or {}).get("date_time_filter") or {}).get(
        "updated_at"
    ) or {}
    start, end = _when(window.get("start_at", "")), _when(window.get("end_at", ""))
    if start:
        qs = qs.filter(updated_at__gte=start)
    if end:
        qs = qs.filter(updated_at__lt=end)
    offset = int(body.get("cursor") or 0)
    limit = min(int(body.get("limit") or 500), 1000)
    page = list(qs[offset : offset + limit + 1])
    result = {"orders": [r.data for r in page[:limit]]}
    if len(page) > limit:
        result["cursor"] = str(offset + limit)
    return JsonResponse(result)


@_guard("square")
def square_list(request, kind):
    return JsonResponse(
        {f"{kind}s": [r.data for r in SimRecord.objects.filter(platform="square", kind=kind)[:500]]}
    )


@_guard("square")
def square_get(request, oid, kind):
    record = SimRecord.objects.filter(platform="square", kind=kind, object_id=oid).first()
    if record is None:
        return JsonResponse({"errors": [{"code": "NOT_FOUND"}]}, status=404)
    return JsonResponse({kind: record.data})


@_guard("square")
def square_catalog(request):
    ids = [str(i) for i in _body(request).get("object_ids") or []][:1000]
    records = SimRecord.objects.filter(platform="square", kind="catalog", object_id__in=ids)
    return JsonResponse({"objects": [r.data for r in records]})


@_guard("square")
def square_locations(request):
    return JsonResponse(
        {"locations": [r.data for r in SimRecord.objects.filter(platform="square", kind="location")]}
    )


def _xs_v2(record: SimRecord) -> dict:
    """The API 2.0 shape differs from the 1.0 webhook payload (reference §3.2): `line_items`,
    `payments`, `version` from the change feed, UTC timestamps with an offset."""
    sale = dict(record.data)
    sale["line_items"] = sale.pop("register_sale_products", [])
    sale["payments"] = [
        {"id": p.get("id"), "payment_type": p.get("name"), "amount": p.get("amount")}
        for p in sale.pop("register_sale_payments", [])
    ]
    sale.pop("totals", None)
    sale["version"] = record.version
    return sale


@_guard("lightspeed")
def xs_sales(request):
    after = int(request.GET.get("after") or 0)
    size = min(int(request.GET.get("page_size") or 200), 500)
    records = list(
        SimRecord.objects.filter(platform="lightspeed", kind="sale", version__gt=after).order_by("version")[
            :size
        ]
    )
    data = [_xs_v2(r) for r in records]
    versions = (
        {"min": records[0].version, "max": records[-1].version} if records else {"min": after, "max": after}
    )
    return JsonResponse({"data": data, "version": versions})


@_guard("lightspeed")
def xs_get(request, oid, kind):
    record = SimRecord.objects.filter(platform="lightspeed", kind=kind, object_id=oid).first()
    if record is None:
        return JsonResponse({"error": "Not found"}, status=404)
    return JsonResponse({"data": _xs_v2(record) if kind == "sale" else record.data})


@_guard("lightspeed")
def xs_list(request, kind):
    return JsonResponse(
        {"data": [r.data for r in SimRecord.objects.filter(platform="lightspeed", kind=kind)]}
    )
