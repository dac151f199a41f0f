"""The catalog sync page: when each part of Fulfil's catalog was last fetched, and what changed."""

import csv

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from accounts.roles import ADMIN, OPS, role_required
from mappings import selectors
from mappings.catalog_sync import CATALOG
from mappings.models import CatalogSyncRun


@role_required(OPS, ADMIN)
def catalog_sync_status(request):
    if request.method == "POST":
        return _catalog_sync_now(request)
    model = request.GET.get("model", "")
    model = model if model in CATALOG else ""
    failed_only = request.GET.get("failed") == "1"
    runs = selectors.catalog_sync_runs(model=model, failed_only=failed_only)
    if request.GET.get("format") == "csv":
        return _runs_csv(runs)
    page = Paginator(runs, 50).get_page(request.GET.get("page"))
    context = {
        "summary": selectors.catalog_sync_summary(),
        "page": page,
        "models": [(key, spec.label) for key, spec in CATALOG.items()],
        "model": model,
        "failed_only": failed_only,
        "interval": settings.CATALOG_SYNC_INTERVAL_MINUTES,
    }
    return render(request, "mappings/catalog_sync.html", context)


def _catalog_sync_now(request):
    from django_q.tasks import async_task

    model = request.POST.get("model", "")
    models = [model] if model in CATALOG else None
    transaction.on_commit(lambda: async_task("mappings.tasks.catalog_sync_task", models))
    messages.success(request, "Catalog sync queued. Refresh in a minute to see what changed.")
    return redirect("mappings:catalog_sync")


def _runs_csv(runs) -> HttpResponse:
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="catalog-sync-runs.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [
            "model",
            "started_at",
            "finished_at",
            "full",
            "fetched",
            "created",
            "updated",
            "deactivated",
            "error",
        ]
    )
    for run in runs:
        writer.writerow(
            [
                run.model,
                run.started_at.isoformat(),
                run.finished_at.isoformat() if run.finished_at else "",
                run.full,
                run.fetched,
                run.created,
                run.updated,
                run.deactivated,
                run.error,
            ]
        )
    return response


@role_required(OPS, ADMIN)
def catalog_sync_run(request, pk: int):
    run = get_object_or_404(CatalogSyncRun, pk=pk)
    spec = CATALOG.get(run.model)
    return render(
        request, "mappings/catalog_sync_run.html", {"run": run, "label": spec.label if spec else run.model}
    )
