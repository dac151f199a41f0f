from django.shortcuts import render

from accounts.roles import ADMIN, FINANCE, role_required
from reconciliation.models import TenderBatch


@role_required(FINANCE, ADMIN)
def index(request):
    batches = TenderBatch.objects.select_related("source")[:100]
    return render(request, "reconciliation/index.html", {"batches": batches})
