import csv
import datetime as dt

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django_tables2 import RequestConfig

from accounts.roles import ADMIN, FINANCE, role_required
from reconciliation import exports, selectors, services
from reconciliation.filters import TenderBatchFilter
from reconciliation.forms import SignOffForm
from reconciliation.models import DayStatus, ReconciliationDay, ReconciliationRun
from reconciliation.plot import month_plot_png
from reconciliation.tables import CSV_FIELDS, TenderBatchTable

FINANCE_ROLES = (FINANCE, ADMIN)
STORES_PER_PAGE = 60


def _month_or_404(year: int, month: int) -> dt.date:
    try:
        return dt.date(year, month, 1)
    except ValueError as exc:
        raise Http404("No such month") from exc


def _day_or_404(pk: int) -> ReconciliationDay:
    try:
        return selectors.day_get(pk=pk)
    except ReconciliationDay.DoesNotExist as exc:
        raise Http404("No such report") from exc


@role_required(*FINANCE_ROLES)
def index(request):
    """The day-by-store matrix for a month, coloured by status."""
    month = selectors.parse_month(request.GET.get("month"))
    source, region = request.GET.get("source", ""), request.GET.get("region", "")
    rows = selectors.matrix(month=month, source=source, region=region)
    if request.GET.get("format") == "csv":
        return _matrix_csv(month, rows)
    page = max(1, int(request.GET.get("page", "1")) if request.GET.get("page", "1").isdigit() else 1)
    shown = rows[(page - 1) * STORES_PER_PAGE : page * STORES_PER_PAGE]
    context = {
        "month": month,
        "prev_month": (month - dt.timedelta(days=1)).replace(day=1),
        "next_month": (month + dt.timedelta(days=32)).replace(day=1),
        "dates": selectors.month_days(month),
        "rows": shown,
        "page": page,
        "has_next": len(rows) > page * STORES_PER_PAGE,
        "store_count": len(rows),
        "source": source,
        "region": region,
        "choices": selectors.filter_choices(),
        "statuses": DayStatus,
    }
    return render(request, "reconciliation/index.html", context)


def _matrix_csv(month, rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="reconciliation-{month:%Y-%m}.csv"'
    writer = csv.writer(response)
    writer.writerow(["Source", "Store", "Name", "Business date", "Status", "Variance", "Unexplained"])
    for row in rows:
        for cell in row.cells:
            if cell:
                writer.writerow(
                    [
                        row.source_code,
                        row.store,
                        row.name,
                        cell.business_date.isoformat(),
                        cell.status,
                        cell.variance,
                        cell.unexplained,
                    ]
                )
    return response


def _report_run(request, day: ReconciliationDay) -> ReconciliationRun:
    """The run to show: the current one, or an earlier one from the history (?run=)."""
    run_id = request.GET.get("run", "")
    if run_id.isdigit():
        return get_object_or_404(selectors.runs_of_day(day=day), pk=int(run_id))
    return day.current_run


@role_required(*FINANCE_ROLES)
def report(request, pk: int):
    day = _day_or_404(pk)
    run = _report_run(request, day)
    context = {
        "day": day,
        "run": run,
        "items": selectors.run_items(run=run),
        "history": selectors.runs_of_day(day=day)[:20],
        "adjustment": selectors.post_close_adjustment(day=day),
        "closed_run": day.closed_run,
    }
    return render(request, "reconciliation/report.html", context)


def _export_name(day: ReconciliationDay, ext: str) -> str:
    return f"reconciliation-{day.source.code}-{day.pos_location_id}-{day.business_date}.{ext}"


@role_required(*FINANCE_ROLES)
def report_csv(request, pk: int):
    day = _day_or_404(pk)
    run = _report_run(request, day)
    body = exports.report_csv(exports.report_sections(day, run, selectors.run_items(run=run)))
    response = HttpResponse(body, content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{_export_name(day, "csv")}"'
    return response


@role_required(*FINANCE_ROLES)
def report_xlsx(request, pk: int):
    day = _day_or_404(pk)
    run = _report_run(request, day)
    body = exports.report_xlsx(exports.report_sections(day, run, selectors.run_items(run=run)))
    response = HttpResponse(
        body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{_export_name(day, "xlsx")}"'
    return response


@require_POST
@role_required(*FINANCE_ROLES)
def regenerate(request, pk: int):
    day = _day_or_404(pk)
    result = services.reconciliation_generate(
        source=day.source,
        business_date=day.business_date,
        pos_location_ids=[day.pos_location_id],
        trigger=ReconciliationRun.Trigger.ON_DEMAND,
        actor=request.user,
    )
    run = result.runs[0]
    note = " (after the month was closed: shown as a post-close adjustment)" if run.after_close else ""
    messages.success(request, f"Regenerated: {run.get_status_display()}{note}.")
    return redirect("reconciliation:report", pk=day.pk)


@role_required(*FINANCE_ROLES)
def month(request, year: int, month: int):
    first = _month_or_404(year, month)
    summary = selectors.month_summary(month=first)
    form = SignOffForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.month_close_sign_off(
                month=first,
                actor=request.user,
                note=form.cleaned_data["note"],
                summary=_summary_json(summary),
            )
        except ValueError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"{first:%B %Y} signed off; its reports are locked.")
        return redirect("reconciliation:month", year=year, month=month)
    return render(request, "reconciliation/month.html", {"summary": summary, "form": form, "month": first})


def _summary_json(summary: dict) -> dict:
    """What the month looked like at sign-off, kept with the close."""
    return {
        "totals": summary["totals"],
        "unposted": {k: str(v) for k, v in summary["unposted"].items()},
        "duplicates": {k: str(v) for k, v in summary["duplicates"].items()},
        "exceptions_by_age": [
            {"label": b["label"], "count": b["count"], "money": str(b["money"])}
            for b in summary["exceptions_by_age"]
        ],
    }


@role_required(*FINANCE_ROLES)
def month_plot(request, year: int, month: int):
    first = _month_or_404(year, month)
    png = month_plot_png(selectors.month_series(month=first), title=f"Reconciliation {first:%B %Y}")
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, max-age=60"
    return response


@role_required(*FINANCE_ROLES)
def batches(request):
    """Tender batches from the engine's daily lane: the expected bank deposit per store, day, tender."""
    filterset = TenderBatchFilter(request.GET, queryset=selectors.batch_list())
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="tender-batches.csv"'
        writer = csv.writer(response)
        writer.writerow(CSV_FIELDS)
        writer.writerows(filterset.qs.values_list(*CSV_FIELDS).iterator())
        return response
    table = TenderBatchTable(filterset.qs)
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    return render(request, "reconciliation/batches.html", {"filter": filterset, "table": table})
