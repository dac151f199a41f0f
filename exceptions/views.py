from django.shortcuts import render

from accounts.roles import ADMIN, FINANCE, OPS, role_required
from exceptions.models import ExceptionGroup


@role_required(OPS, FINANCE, ADMIN)
def group_list(request):
    groups = ExceptionGroup.objects.filter(status=ExceptionGroup.Status.OPEN).select_related("source")[:200]
    return render(request, "exceptions/group_list.html", {"groups": groups})
