from django.conf import settings
from django.contrib import messages
from django.forms.models import model_to_dict
from django.http import Http404
from django.shortcuts import redirect, render

from accounts.roles import ADMIN, role_required
from accounts.services import audit_record
from integration.sandbox.forms import FaultsForm
from integration.sandbox.services import KNOBS, sandbox_faults_get, sandbox_faults_reset, sandbox_faults_set


def _knobs(faults) -> dict:
    data = model_to_dict(faults, fields=sorted(KNOBS))
    data["user_error_codes"] = ", ".join(faults.user_error_codes or [])
    return {k: v if isinstance(v, int | str) else str(v) for k, v in data.items()}


@role_required(ADMIN)
def faults(request):
    if not settings.FULFIL_SANDBOX_ENABLED:
        raise Http404("The Fulfil sandbox is switched off in this deployment.")
    current = sandbox_faults_get()
    before = _knobs(current)
    if request.method == "POST" and "reset" in request.POST:
        sandbox_faults_reset()
        audit_record(actor=request.user, action="sandbox.faults_reset", obj=current, before=before, after={})
        messages.success(request, "Every sandbox fault is off again.")
        return redirect("sandbox:faults")
    form = FaultsForm(request.POST or None, initial=before)
    if request.method == "POST" and form.is_valid():
        updated = sandbox_faults_set(**form.cleaned_data)
        audit_record(
            actor=request.user, action="sandbox.faults_set", obj=updated, before=before, after=_knobs(updated)
        )
        messages.success(request, "Sandbox faults saved. They apply to the next request.")
        return redirect("sandbox:faults")
    return render(request, "sandbox/faults.html", {"form": form, "faults": current})
