"""CSV / JSON import: an upload page (dry run first) and a token-protected API endpoint."""

from __future__ import annotations

import hmac
import json

from django import forms
from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.roles import ADMIN, OPS, role_required
from integration.models import Platform, PosSource
from integration.pos.csv_import import COLUMNS, parse_csv, parse_json
from integration.services import import_commit

MAX_IMPORT_BYTES = 5 * 1024 * 1024


class ImportForm(forms.Form):
    source = forms.ModelChoiceField(queryset=PosSource.objects.filter(platform=Platform.CSV, active=True))
    file = forms.FileField(help_text="CSV in the documented layout, or a JSON list of transactions.")
    commit = forms.BooleanField(required=False, label="Import now (leave unticked for a dry run)")


def parse_upload(raw: bytes, name: str = ""):
    text = raw.decode("utf-8-sig", errors="replace")
    if name.endswith(".json") or text.lstrip().startswith(("[", "{")):
        try:
            return parse_json(json.loads(text))
        except ValueError:
            from integration.pos.csv_import import RowError

            return [], [RowError(0, "", "not valid JSON")]
    return parse_csv(text)


@role_required(OPS, ADMIN)
def import_page(request):
    result = None
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            form.add_error("file", "Files over 5 MB: split them or use the API.")
        else:
            transactions, errors = parse_upload(upload.read(), upload.name)
            result = {"transactions": transactions, "errors": errors, "committed": None}
            if form.cleaned_data["commit"] and not errors:
                result["committed"] = import_commit(
                    source=form.cleaned_data["source"], transactions=transactions, actor=request.user
                )
    return render(request, "integration/import.html", {"form": form, "result": result, "columns": COLUMNS})


@login_not_required
@csrf_exempt
@require_POST
def import_api(request, code: str):
    """POST a CSV or JSON body with `Authorization: Bearer <source API token>`; `?dry_run=1` to check."""
    source = PosSource.objects.filter(code=code, platform=Platform.CSV, active=True).first()
    auth = request.headers.get("Authorization", "")
    token = auth[7:] if auth.startswith("Bearer ") else ""
    if (
        source is None
        or not token
        or not hmac.compare_digest(token.encode(), source.api_credentials.encode())
    ):
        return JsonResponse({"error": "unknown source or bad token"}, status=401)
    if len(request.body) > MAX_IMPORT_BYTES:
        return JsonResponse({"error": "body over 5 MB"}, status=413)
    transactions, errors = parse_upload(
        request.body, ".json" if "json" in (request.content_type or "") else ""
    )
    payload = {
        "transactions": len(transactions),
        "errors": [{"row": e.row, "pos_id": e.pos_id, "message": e.message} for e in errors],
        "committed": None,
    }
    if errors:
        return JsonResponse(payload, status=400)
    if request.GET.get("dry_run") not in ("1", "true"):
        payload["committed"] = import_commit(source=source, transactions=transactions)
    return JsonResponse(payload)
