from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django_tables2 import RequestConfig

from accounts.roles import ADMIN, FINANCE, OPS, role_required
from integration import selectors
from integration.filters import TransactionFilter
from integration.models import PosTransaction
from integration.tables import TransactionTable

STAFF = (OPS, FINANCE, ADMIN)


@role_required(*STAFF)
def transaction_list(request):
    filterset = TransactionFilter(request.GET, queryset=selectors.transaction_list())
    table = TransactionTable(filterset.qs)
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    return render(request, "integration/transaction_list.html", {"filter": filterset, "table": table})


@role_required(*STAFF)
def transaction_detail(request, pk: int):
    try:
        txn = selectors.transaction_get(pk=pk)
    except PosTransaction.DoesNotExist:
        txn = get_object_or_404(PosTransaction, pk=pk)
    return render(request, "integration/transaction_detail.html", {"txn": txn})


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
