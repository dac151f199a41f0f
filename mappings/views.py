"""Map administration pages: lists, create/edit/end-date, history, import/export, coverage, suggestions.

Ops and admins see every map; ops may add store and SKU maps (the workbench fix); everything else
(editing, ending, tax and tender maps, bulk import, accepting suggestions in bulk) is for admins.
"""

import copy

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_tables2 import RequestConfig

from accounts.roles import ADMIN, OPS, check_role, has_role, role_required
from mappings import coverage, importexport, selectors, services
from mappings.filters import FILTERS
from mappings.forms import FORMS, EndDateForm, ImportForm
from mappings.kinds import KINDS, LOCATION, SKU, MapKind
from mappings.models import FulfilProduct, FulfilWarehouse, LocationMap, SkuMap, TaxMap, TenderMap
from mappings.suggestions import pending_suggestions, suggest_products, suggest_warehouses
from mappings.tables import TABLES

LIST_RELATED = {
    "locations": ("source", "warehouse", "channel"),
    "skus": ("source", "product", "superseded_by"),
    "taxes": ("source", "tax"),
    "tenders": ("source", "gateway"),
}


def _kind(slug: str) -> MapKind:
    try:
        return KINDS[slug]
    except KeyError:
        raise Http404("No such kind of map.") from None


def can_create(user, kind: MapKind) -> bool:
    return has_role(user, OPS, ADMIN) if kind in (LOCATION, SKU) else has_role(user, ADMIN)


@role_required(OPS, ADMIN)
def index(request):
    counts = [
        (KINDS["locations"], LocationMap.objects.count()),
        (KINDS["skus"], SkuMap.objects.count()),
        (KINDS["taxes"], TaxMap.objects.count()),
        (KINDS["tenders"], TenderMap.objects.count()),
    ]
    catalog = {
        "Fulfil warehouses cached": FulfilWarehouse.objects.count(),
        "Fulfil products cached": FulfilProduct.objects.count(),
    }
    recent = [(e, _slug_for(e.object_type)) for e in selectors.map_recent_changes()]
    return render(request, "mappings/index.html", {"counts": counts, "catalog": catalog, "recent": recent})


def _slug_for(object_type: str) -> str:
    return next(k.slug for k in KINDS.values() if k.model._meta.label_lower == object_type)


@role_required(OPS, ADMIN)
def map_list(request, kind: str):
    kind = _kind(kind)
    queryset = kind.model.objects.select_related(*LIST_RELATED[kind.slug])
    filterset = FILTERS[kind.slug](request.GET, queryset=queryset)
    export = request.GET.get("export")
    if export in ("csv", "xlsx"):
        return _export(kind, filterset.qs, export)
    table = TABLES[kind.slug](filterset.qs)
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    context = {
        "kind": kind,
        "filter": filterset,
        "table": table,
        "can_create": can_create(request.user, kind),
        "is_admin": has_role(request.user, ADMIN),
    }
    return render(request, "mappings/map_list.html", context)


def _export(kind: MapKind, queryset, fmt: str) -> HttpResponse:
    stamp = timezone.localdate().isoformat()
    if fmt == "xlsx":
        response = HttpResponse(
            importexport.export_xlsx(kind, queryset),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        response = HttpResponse(
            importexport.export_csv(kind, queryset), content_type="text/csv; charset=utf-8"
        )
    response["Content-Disposition"] = f'attachment; filename="{kind.audit_name}s-{stamp}.{fmt}"'
    return response


@role_required(OPS, ADMIN)
def map_detail(request, kind: str, pk: int):
    kind = _kind(kind)
    obj = get_object_or_404(kind.model.objects.select_related(*LIST_RELATED[kind.slug]), pk=pk)
    context = {
        "kind": kind,
        "obj": obj,
        "fields": [(obj._meta.get_field(f).verbose_name, _shown(obj, f)) for f in kind.fields],
        "history": [(e, selectors.audit_changes(e)) for e in selectors.map_history(map_obj=obj)],
        "posted_count": selectors.map_posted_count(map_obj=obj),
        "release_count": selectors.map_release_candidates(map_obj=obj).count(),
        "is_admin": has_role(request.user, ADMIN),
        "end_form": EndDateForm(),
    }
    return render(request, "mappings/map_detail.html", context)


@role_required(OPS, ADMIN)
def map_create(request, kind: str):
    kind = _kind(kind)
    if not can_create(request.user, kind):
        check_role(request.user, (ADMIN,))
    form = FORMS[kind.slug](request.POST or None, initial=request.GET.dict() or None)
    if request.method == "POST" and form.is_valid():
        try:
            obj = services.map_create(kind=kind, actor=request.user, **form.service_values())
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, f"Saved {kind.singular} {obj}.")
            return redirect("mappings:detail", kind.slug, obj.pk)
    context = {"kind": kind, "form": form, "obj": None, "suggestions": _form_suggestions(kind, request.GET)}
    return render(request, "mappings/map_form.html", context)


def _form_suggestions(kind: MapKind, params) -> list[tuple[str, object, object]]:
    """Suggested targets for a prefilled POS key (from coverage or the workbench): (query, suggestion)."""
    if kind is LOCATION and params.get("pos_location_id"):
        found = suggest_warehouses(
            pos_location_name=params.get("pos_location_name", ""), pos_location_id=params["pos_location_id"]
        )
        return [("warehouse", s.pk, s) for s in found]
    if kind is SKU and params.get("pos_key"):
        found = suggest_products(sku=params["pos_key"], description=params.get("description", ""))
        return [("product", s.target.code, s) for s in found]
    return []


@role_required(ADMIN)
def map_edit(request, kind: str, pk: int):
    kind = _kind(kind)
    obj = get_object_or_404(kind.model, pk=pk)
    # The form edits a copy: the service must see the map as it was to record "before".
    form = FORMS[kind.slug](request.POST or None, instance=copy.copy(obj))
    if request.method == "POST" and form.is_valid():
        try:
            services.map_update(map_obj=obj, actor=request.user, **form.service_values())
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, f"Saved {kind.singular} {obj}.")
            return redirect("mappings:detail", kind.slug, obj.pk)
    return render(request, "mappings/map_form.html", {"kind": kind, "form": form, "obj": obj})


@require_POST
@role_required(ADMIN)
def map_end(request, kind: str, pk: int):
    kind = _kind(kind)
    obj = get_object_or_404(kind.model, pk=pk)
    form = EndDateForm(request.POST)
    if form.is_valid():
        try:
            services.map_end_date(
                map_obj=obj,
                effective_to=form.cleaned_data["effective_to"],
                actor=request.user,
                note=form.cleaned_data["note"],
            )
            messages.success(request, f"The {kind.singular} now ends on {obj.effective_to}.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, "Give the last day the map applies.")
    return redirect("mappings:detail", kind.slug, obj.pk)


OPEN_ENDS = {"effective_from": "since always", "effective_to": "until further notice"}


def _shown(obj, field: str):
    value = getattr(obj, field)
    return OPEN_ENDS.get(field, value) if value is None else value


def _form_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


@role_required(ADMIN)
def map_import(request, kind: str):
    kind = _kind(kind)
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        try:
            text = form.text()
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            if form.cleaned_data["apply"]:
                result = importexport.import_apply(kind, text, actor=request.user)
            else:
                result = importexport.import_preview(kind, text)
            if result.applied:
                counts = result.counts()
                messages.success(
                    request,
                    f"Imported: {counts['create']} new, {counts['update']} changed, "
                    f"{counts['unchanged']} unchanged.",
                )
                return redirect("mappings:list", kind.slug)
    context = {"kind": kind, "form": form, "result": result, "columns": importexport.COLUMNS[kind.slug]}
    return render(request, "mappings/map_import.html", context)


@role_required(OPS, ADMIN)
def coverage_page(request):
    return render(request, "mappings/coverage.html", {"summary": coverage.coverage_summary()})


@role_required(OPS, ADMIN)
def suggestions_page(request):
    try:
        threshold = float(request.GET.get("threshold", 90))
    except ValueError:
        threshold = 90.0
    items = pending_suggestions()
    above = [i for i in items if i.best and i.best.score >= threshold]
    context = {
        "items": items,
        "above": above,
        "threshold": threshold,
        "is_admin": has_role(request.user, ADMIN),
    }
    return render(request, "mappings/suggestions.html", context)


@require_POST
@role_required(ADMIN)
def suggestions_accept(request):
    created, problems = services.suggestions_accept(tokens=request.POST.getlist("accept"), actor=request.user)
    if created:
        messages.success(request, f"Created {len(created)} maps from suggestions.")
    for problem in problems:
        messages.error(request, problem)
    return redirect("mappings:suggestions")
