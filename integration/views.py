import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_tables2 import RequestConfig

from accounts.roles import ADMIN, FINANCE, OPS, role_required
from integration import selectors, services
from integration.filters import TransactionFilter
from integration.models import InboundEvent, PosSource, PosTransaction
from integration.tables import TransactionTable

STAFF = (OPS, FINANCE, ADMIN)


@role_required(*STAFF)
def transaction_list(request):
    filterset = TransactionFilter(request.GET, queryset=selectors.transaction_list())
    table = TransactionTable(filterset.qs)
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    return render(request, "integration/transaction_list.html", {"filter": filterset, "table": table})


@role_required(*STAFF)
def transaction_export(request):
    """CSV of the filtered list (same filters as the page)."""
    filterset = TransactionFilter(request.GET, queryset=selectors.transaction_list())
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="transactions.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [
            "source",
            "pos_id",
            "receipt",
            "kind",
            "store_id",
            "store",
            "register",
            "business_date",
            "occurred_at",
            "currency",
            "subtotal",
            "tax_total",
            "total",
            "state",
            "original_pos_id",
        ]
    )
    for t in filterset.qs.iterator(chunk_size=2000):
        writer.writerow(
            [
                t.source.code,
                t.pos_id,
                t.pos_number,
                t.kind,
                t.pos_location_id,
                t.pos_location_name,
                t.register_id,
                t.business_date,
                t.occurred_at.isoformat(),
                t.currency,
                t.subtotal,
                t.tax_total,
                t.total,
                t.state,
                t.original_pos_id,
            ]
        )
    return response


@role_required(*STAFF)
def transaction_detail(request, pk: int):
    try:
        txn = selectors.transaction_get(pk=pk)
    except PosTransaction.DoesNotExist:
        txn = get_object_or_404(PosTransaction, pk=pk)
    context = {"txn": txn, **selectors.transaction_related(txn=txn)}
    return render(request, "integration/transaction_detail.html", context)


@role_required(*STAFF)
def quarantine_list(request):
    status = request.GET.get("status") or InboundEvent.Status.QUARANTINED
    if status not in InboundEvent.Status.values:
        status = InboundEvent.Status.QUARANTINED
    events = selectors.quarantine_list(source_code=request.GET.get("source", ""), status=status)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="quarantine.csv"'
        writer = csv.writer(response)
        writer.writerow(["id", "source", "channel", "topic", "entity", "received_at", "deliveries", "reason"])
        for e in events.iterator():
            writer.writerow(
                [
                    e.pk,
                    e.source.code,
                    e.channel,
                    e.topic,
                    e.entity_ref,
                    e.received_at.isoformat(),
                    e.delivery_count,
                    e.error,
                ]
            )
        return response
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "integration/quarantine_list.html",
        {
            "page": page,
            "sources": PosSource.objects.all(),
            "status": status,
            "statuses": InboundEvent.Status.choices,
        },
    )


@role_required(*STAFF)
def quarantine_detail(request, pk: int):
    event = get_object_or_404(InboundEvent.objects.select_related("source"), pk=pk)
    return render(
        request,
        "integration/quarantine_detail.html",
        {"event": event, "raw_body": selectors._raw_text(event)},
    )


@role_required(OPS, ADMIN)
@require_POST
def quarantine_replay(request, pk: int):
    event = get_object_or_404(InboundEvent, pk=pk)
    if event.status == InboundEvent.Status.PROCESSED:
        messages.info(request, "That event was already processed; nothing to replay.")
    else:
        services.inbound_event_replay(event=event, actor=request.user)
        messages.success(request, f"Event {event.pk} queued again from its stored bytes.")
    return redirect("integration:quarantine_detail", pk=pk)


@role_required(*STAFF)
def health(request):
    return render(request, "integration/health.html", {"summary": selectors.health_summary()})


@login_not_required
@never_cache
def healthz(request):
    """For load balancers: 200 when the database answers, 503 when it does not. No details leak."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # any database failure means "not healthy"; the reason goes to the logs
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})
