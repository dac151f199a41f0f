import csv
import datetime as dt

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_tables2 import RequestConfig

from accounts.roles import ADMIN, FINANCE, OPS, has_role, role_required
from exceptions import fixes, selectors
from exceptions.bulk import bulk_action_start, bulk_requeue_preview
from exceptions.explanations import EXPLANATIONS
from exceptions.filters import ExceptionGroupFilter
from exceptions.models import BulkAction, ExceptionGroup, ExceptionType
from exceptions.services import exception_group_assign, exception_group_reopen, exception_group_snooze
from exceptions.tables import ExceptionGroupTable
from integration.models import PosTransaction

WORKBENCH = (OPS, FINANCE, ADMIN)
FIXERS = (OPS, ADMIN)


@role_required(*WORKBENCH)
def group_list(request):
    filterset = ExceptionGroupFilter(request.GET, queryset=selectors.group_list())
    if request.GET.get("format") == "csv":
        return _csv_response(filterset.qs)
    table = ExceptionGroupTable(filterset.qs)
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    status_only = ExceptionGroupFilter(
        {"status": request.GET.get("status", "")}, queryset=selectors.group_list()
    ).qs
    context = {
        "filter": filterset,
        "table": table,
        "summary": selectors.group_summary(queryset=status_only),
        "active_type": request.GET.get("type", ""),
        "querystring": request.GET.urlencode(),
        "users": get_user_model().objects.filter(is_active=True).order_by("username"),
        "can_fix": has_role(request.user, *FIXERS),
    }
    return render(request, "exceptions/group_list.html", context)


def _csv_response(queryset):
    class Echo:
        def write(self, value):
            return value

    writer = csv.writer(Echo())
    header = [
        "id",
        "type",
        "severity",
        "status",
        "title",
        "blocked",
        "money_at_risk",
        "stores",
        "first_seen",
        "last_seen",
        "assignee",
        "source",
    ]

    def rows():
        yield writer.writerow(header)
        for g in queryset.iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    g.pk,
                    g.type,
                    g.severity,
                    g.status,
                    g.title,
                    g.open_count,
                    g.money_at_risk,
                    "; ".join(g.stores),
                    g.first_seen.isoformat(),
                    g.last_seen.isoformat(),
                    g.assignee.get_username() if g.assignee_id else "",
                    g.source.code if g.source_id else "",
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="exceptions-{timezone.localdate()}.csv"'
    return response


@role_required(*WORKBENCH)
def group_detail(request, pk: int):
    group = get_object_or_404(ExceptionGroup.objects.select_related("source", "assignee"), pk=pk)
    return render(request, "exceptions/group_detail.html", _detail_context(request, group))


def _detail_context(request, group, **extra):
    from accounts.models import AuditEntry

    txns = selectors.group_transactions(group=group, open_only=group.status != ExceptionGroup.Status.RESOLVED)
    context = {
        "group": group,
        "explanation": EXPLANATIONS.get(group.type, {}),
        "transactions": txns[:100],
        "transaction_count": txns.count(),
        "audit": AuditEntry.objects.filter(object_type="exceptions.exceptiongroup", object_id=str(group.pk))[
            :30
        ],
        "users": get_user_model().objects.filter(is_active=True).order_by("username"),
        "can_fix": has_role(request.user, *FIXERS),
        "is_finance": has_role(request.user, FINANCE, ADMIN),
        "fix": _fix_context(group),
        **extra,
    }
    return context


def _fix_context(group):
    if group.type == ExceptionType.UNMAPPED_LOCATION:
        from mappings.models import FulfilWarehouse
        from mappings.suggestions import suggest_warehouses

        subject = selectors.group_subject(group=group)
        return {
            "suggestions": suggest_warehouses(
                pos_location_name=subject["pos_location_name"], pos_location_id=subject["pos_location_id"]
            ),
            "warehouses": FulfilWarehouse.objects.filter(active=True).order_by("name"),
        }
    if group.type == ExceptionType.SKU_MISMATCH:
        from mappings.suggestions import suggest_products

        subject = selectors.group_subject(group=group)
        return {
            "suggestions": suggest_products(
                sku=subject["sku"], barcode=subject["barcode"], description=subject["description"]
            )
        }
    if group.type == ExceptionType.UNLINKED_RETURN:
        return {
            "candidates": [
                {"txn": t, "candidates": selectors.return_candidates(txn=t, limit=5)}
                for t in selectors.group_transactions(group=group)[:20]
            ]
        }
    if group.type == ExceptionType.TAX_DISCREPANCY:
        return {"occurrences": group.occurrences.filter(is_open=True).select_related("transaction")[:50]}
    if group.type in (
        ExceptionType.SYNC_TIMEOUT,
        ExceptionType.FULFIL_REJECTED,
        ExceptionType.STOCK_MISMATCH,
    ):
        from integration.models import PostingAttempt

        return {
            "last_attempt": PostingAttempt.objects.filter(transaction__exceptions__group=group)
            .order_by("-started_at")
            .first()
        }
    return {}


def _fix_response(request, group, summary=None, error=None):
    group.refresh_from_db()
    if request.htmx:
        context = _detail_context(request, group, summary=summary, error=error)
        return render(request, "exceptions/_group_body.html", context)
    if error:
        messages.error(request, error)
    elif summary is not None:
        messages.success(request, _summary_text(summary))
    return redirect("exceptions:detail", pk=group.pk)


def _summary_text(summary: dict) -> str:
    ready = summary.get("ready", 0)
    blocked = summary.get("blocked", 0)
    return f"{ready} transaction(s) released to post; {blocked} still blocked."


@require_POST
@role_required(*FIXERS)
def fix_location(request, pk: int):
    from mappings.models import FulfilWarehouse

    group = get_object_or_404(ExceptionGroup, pk=pk)
    warehouse = get_object_or_404(FulfilWarehouse, pk=request.POST.get("warehouse"))
    return _run_fix(
        request,
        group,
        lambda: fixes.fix_unmapped_location(group=group, warehouse=warehouse, actor=request.user),
    )


@require_POST
@role_required(*FIXERS)
def fix_sku(request, pk: int):
    from mappings.models import FulfilProduct

    group = get_object_or_404(ExceptionGroup, pk=pk)
    product = get_object_or_404(FulfilProduct, pk=request.POST.get("product"))
    return _run_fix(
        request, group, lambda: fixes.fix_sku_mismatch(group=group, product=product, actor=request.user)
    )


@require_POST
@role_required(*FIXERS)
def fix_link_return(request, pk: int):
    group = get_object_or_404(ExceptionGroup, pk=pk)
    txn = get_object_or_404(PosTransaction, pk=request.POST.get("transaction"))
    original = get_object_or_404(PosTransaction, pk=request.POST.get("original"))
    return _run_fix(request, group, lambda: fixes.link_return(txn=txn, original=original, actor=request.user))


@require_POST
@role_required(FINANCE, ADMIN)
def fix_blind_return(request, pk: int):
    group = get_object_or_404(ExceptionGroup, pk=pk)
    note = request.POST.get("note", "")
    return _run_fix(
        request, group, lambda: fixes.approve_blind_return(group=group, actor=request.user, note=note)
    )


@require_POST
@role_required(FINANCE, ADMIN)
def fix_accept_tax(request, pk: int):
    group = get_object_or_404(ExceptionGroup, pk=pk)
    note = request.POST.get("note", "")
    return _run_fix(
        request, group, lambda: fixes.accept_tax_variance(group=group, actor=request.user, note=note)
    )


@require_POST
@role_required(*FIXERS)
def requeue(request, pk: int):
    group = get_object_or_404(ExceptionGroup, pk=pk)
    return _run_fix(request, group, lambda: fixes.group_requeue(group=group, actor=request.user))


def _run_fix(request, group, action):
    try:
        summary = action()
    except ValidationError as exc:
        return _fix_response(request, group, error=" ".join(exc.messages))
    return _fix_response(request, group, summary=summary)


@require_POST
@role_required(*WORKBENCH)
def update_status(request, pk: int):
    """Assign, snooze, reopen, resolve or ignore with a note."""
    group = get_object_or_404(ExceptionGroup, pk=pk)
    op, note = request.POST.get("op"), request.POST.get("note", "")
    try:
        with transaction.atomic():
            _apply_status_op(request, group, op, note)
    except ValidationError as exc:
        return _fix_response(request, group, error=" ".join(exc.messages))
    return _fix_response(request, group)


def _apply_status_op(request, group, op, note):
    if op == "assign":
        user_id = request.POST.get("assignee")
        assignee = get_user_model().objects.filter(pk=user_id).first() if user_id else None
        exception_group_assign(group=group, assignee=assignee, actor=request.user)
    elif op == "snooze":
        hours = int(request.POST.get("hours") or 4)
        exception_group_snooze(
            group=group, until=timezone.now() + dt.timedelta(hours=hours), actor=request.user, note=note
        )
    elif op == "reopen":
        exception_group_reopen(group=group, actor=request.user, note=note)
    elif op in ("resolve", "ignore"):
        fixes.group_resolve_with_note(group=group, actor=request.user, note=note, ignore=op == "ignore")
    else:
        raise ValidationError("Unknown action.")


@role_required(*WORKBENCH)
def group_progress(request, pk: int):
    """How the group's transactions are doing since the fix: polled by the page while any are on their way."""
    group = get_object_or_404(ExceptionGroup, pk=pk)
    return render(
        request, "exceptions/_group_progress.html", {"group": group, **selectors.group_progress(group=group)}
    )


@require_POST
@role_required(*WORKBENCH)
def bulk(request):
    """Preview (requeue) or start a bulk action on everything the current filter selects."""
    query = request.POST.get("filter_query", "")
    from django.http import QueryDict

    filterset = ExceptionGroupFilter(QueryDict(query), queryset=selectors.group_list())
    action = request.POST.get("action")
    if action == BulkAction.Action.REQUEUE and not has_role(request.user, *FIXERS):
        return HttpResponse(status=403)
    if action == BulkAction.Action.REQUEUE and request.POST.get("confirm") != "yes":
        preview = bulk_requeue_preview(groups=filterset.qs)
        return render(request, "exceptions/_bulk_preview.html", {"preview": preview, "filter_query": query})
    try:
        job = bulk_action_start(
            groups=filterset.qs,
            action=action,
            params=request.POST.dict(),
            actor=request.user,
            filter_query=query,
        )
    except ValidationError as exc:
        return render(request, "exceptions/_bulk_progress.html", {"error": " ".join(exc.messages)})
    return render(request, "exceptions/_bulk_progress.html", {"job": job})


@role_required(*WORKBENCH)
def bulk_status(request, pk: int):
    job = get_object_or_404(BulkAction, pk=pk, created_by=request.user)
    return render(request, "exceptions/_bulk_progress.html", {"job": job})
