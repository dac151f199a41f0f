"""Creating, changing and end-dating maps. Every change writes its audit entry in the same
transaction and then looks for the blocked transactions the new map could release.

Effective-date ranges for one key (a store, a SKU, a tax title and rate, a tender) must never
overlap: if they did, two maps would apply to the same sale and the posting would depend on which
row the database returned first.
"""

import datetime as dt
import logging
from decimal import Decimal

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models, transaction
from django.db.models import Q, QuerySet

from accounts.services import audit_record
from integration.models import PosSource, PosTransaction
from mappings.catalog_sync import catalog_sync  # noqa: F401  (re-exported: the catalog cache's writer)
from mappings.kinds import LOCATION, SKU, TAX, TENDER, MapKind, kind_for
from mappings.models import (
    FulfilChannel,
    FulfilGateway,
    FulfilProduct,
    FulfilTax,
    FulfilWarehouse,
    LocationMap,
    SkuMap,
    TaxMap,
    TenderMap,
)
from mappings.selectors import map_release_candidates

logger = logging.getLogger(__name__)

# The sync engine's `transactions_requeue(*, transactions, actor=None)`, looked up by name so this
# app works before (and without importing) the engine. The first module that has it wins.
REQUEUE_MODULES = ("integration.pipeline.requeue", "integration.pipeline.validate", "integration.pipeline")
REQUEUE_MODULE = REQUEUE_MODULES[0]
REQUEUE_FUNCTION = "transactions_requeue"


def _json_value(value):
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def map_snapshot(obj: models.Model) -> dict:
    """The map's fields as JSON-friendly values (foreign keys as ids plus a readable label)."""
    snap = {}
    for name in kind_for(obj).fields:
        field = obj._meta.get_field(name)
        if field.is_relation:
            related = getattr(obj, name)
            snap[name] = related.pk if related else None
            snap[f"{name}_label"] = str(related) if related else ""
        else:
            snap[name] = _json_value(getattr(obj, name))
    return snap


def overlapping_maps(obj: models.Model) -> QuerySet:
    """Other rows for the same key whose effective range meets this one's."""
    kind = kind_for(obj)
    qs = kind.model.objects.filter(**{f: getattr(obj, f) for f in kind.key_fields})
    if obj.pk:
        qs = qs.exclude(pk=obj.pk)
    if obj.effective_to:
        qs = qs.filter(Q(effective_from__isnull=True) | Q(effective_from__lte=obj.effective_to))
    if obj.effective_from:
        qs = qs.filter(Q(effective_to__isnull=True) | Q(effective_to__gte=obj.effective_from))
    return qs


def _describe_range(obj) -> str:
    start = obj.effective_from.isoformat() if obj.effective_from else "always"
    end = obj.effective_to.isoformat() if obj.effective_to else "further notice"
    return f"from {start} until {end}"


def map_validate(obj: models.Model) -> None:
    """Raise a ValidationError a person can act on: bad dates or an overlapping map."""
    if obj.effective_from and obj.effective_to and obj.effective_to < obj.effective_from:
        raise ValidationError({"effective_to": "The end date is before the start date."})
    clash = overlapping_maps(obj).first()
    if clash is not None:
        raise ValidationError(
            {
                "effective_from": (
                    f"These dates overlap {kind_for(obj).singular} #{clash.pk} ({clash}, "
                    f"{_describe_range(clash)}). End that map first or choose other dates."
                )
            }
        )


def _save(
    obj, *, actor, verb: str, before: dict | None, audit_note: str = "", validate: bool = True, release=True
):
    kind = kind_for(obj)
    if validate:
        map_validate(obj)
    obj.updated_by = actor if getattr(actor, "is_authenticated", False) else None
    obj.save()
    audit_record(
        actor=actor,
        action=f"{kind.audit_name}.{verb}",
        obj=obj,
        before=before,
        after=map_snapshot(obj),
        note=audit_note,
    )
    if release:
        map_changed_release(map_obj=obj, actor=actor)
    return obj


def map_create(
    *,
    kind: MapKind,
    actor,
    audit_note: str = "",
    validate: bool = True,
    savepoint: bool = True,
    release: bool = True,
    **values,
) -> models.Model:
    """Create a map of `kind`. `savepoint=False` is for callers already inside one all-or-nothing
    transaction (bulk import), where a savepoint per row only costs round trips."""
    unknown = set(values) - set(kind.fields)
    if unknown:
        raise TypeError(f"{kind.singular} has no field(s) {sorted(unknown)}")
    with transaction.atomic(savepoint=savepoint):
        obj = kind.model(**values)
        return _save(
            obj,
            actor=actor,
            verb="created",
            before=None,
            audit_note=audit_note,
            validate=validate,
            release=release,
        )


def map_update(
    *,
    map_obj: models.Model,
    actor,
    audit_note: str = "",
    validate: bool = True,
    savepoint: bool = True,
    **changes,
):
    """Change some fields of a map; refuses unknown fields and overlapping dates."""
    kind = kind_for(map_obj)
    unknown = set(changes) - set(kind.fields)
    if unknown:
        raise TypeError(f"{kind.singular} has no field(s) {sorted(unknown)}")
    with transaction.atomic(savepoint=savepoint):
        before = map_snapshot(map_obj)
        for name, value in changes.items():
            setattr(map_obj, name, value)
        if map_snapshot(map_obj) == before:
            return map_obj
        return _save(
            map_obj, actor=actor, verb="updated", before=before, audit_note=audit_note, validate=validate
        )


@transaction.atomic
def map_end_date(*, map_obj: models.Model, effective_to: dt.date, actor, note: str = ""):
    """Stop a map applying after `effective_to` (a store closed, a SKU retired). History stays."""
    before = map_snapshot(map_obj)
    map_obj.effective_to = effective_to
    # Ending a map releases nothing, so no revalidation is triggered.
    return _save(map_obj, actor=actor, verb="ended", before=before, audit_note=note, release=False)


def location_map_create(
    *,
    source: PosSource,
    pos_location_id: str,
    warehouse: FulfilWarehouse,
    register_id: str = "",
    channel: FulfilChannel | None = None,
    effective_from: dt.date | None = None,
    effective_to: dt.date | None = None,
    actor,
    pos_location_name: str = "",
    storage_location_id: int | None = None,
    note: str = "",
    release: bool = True,
) -> LocationMap:
    """`release=False` when the caller requeues the blocked sales itself (the workbench's fixes)."""
    return map_create(
        kind=LOCATION,
        actor=actor,
        release=release,
        audit_note=note,
        source=source,
        pos_location_id=pos_location_id.strip(),
        pos_location_name=pos_location_name,
        register_id=register_id.strip(),
        warehouse=warehouse,
        storage_location_id=storage_location_id,
        channel=channel,
        effective_from=effective_from,
        effective_to=effective_to,
    )


def sku_map_create(
    *,
    source: PosSource,
    key_type: str,
    pos_key: str,
    product: FulfilProduct,
    effective_from: dt.date | None = None,
    effective_to: dt.date | None = None,
    actor,
    superseded_by: SkuMap | None = None,
    note: str = "",
    release: bool = True,
) -> SkuMap:
    """`release=False` when the caller requeues the blocked sales itself (the workbench's fixes)."""
    return map_create(
        kind=SKU,
        actor=actor,
        release=release,
        source=source,
        key_type=key_type,
        pos_key=pos_key.strip(),
        product=product,
        superseded_by=superseded_by,
        note=note,
        effective_from=effective_from,
        effective_to=effective_to,
    )


def tax_map_create(
    *,
    source: PosSource,
    pos_tax_title: str,
    rate: Decimal,
    tax: FulfilTax,
    effective_from: dt.date | None = None,
    effective_to: dt.date | None = None,
    actor,
    note: str = "",
) -> TaxMap:
    return map_create(
        kind=TAX,
        actor=actor,
        audit_note=note,
        source=source,
        pos_tax_title=pos_tax_title.strip(),
        rate=Decimal(rate).quantize(Decimal("0.000001")),
        tax=tax,
        effective_from=effective_from,
        effective_to=effective_to,
    )


def tender_map_create(
    *,
    source: PosSource,
    pos_tender: str,
    gateway: FulfilGateway,
    effective_from: dt.date | None = None,
    effective_to: dt.date | None = None,
    actor,
    note: str = "",
) -> TenderMap:
    return map_create(
        kind=TENDER,
        actor=actor,
        audit_note=note,
        source=source,
        pos_tender=pos_tender.strip(),
        gateway=gateway,
        effective_from=effective_from,
        effective_to=effective_to,
    )


def location_map_update(*, location_map: LocationMap, actor, note: str = "", **changes) -> LocationMap:
    return map_update(map_obj=location_map, actor=actor, audit_note=note, **changes)


def sku_map_update(*, sku_map: SkuMap, actor, audit_note: str = "", **changes) -> SkuMap:
    # `note` is a field of SKU maps, so the audit note has its own name here.
    return map_update(map_obj=sku_map, actor=actor, audit_note=audit_note, **changes)


def tax_map_update(*, tax_map: TaxMap, actor, note: str = "", **changes) -> TaxMap:
    return map_update(map_obj=tax_map, actor=actor, audit_note=note, **changes)


def tender_map_update(*, tender_map: TenderMap, actor, note: str = "", **changes) -> TenderMap:
    return map_update(map_obj=tender_map, actor=actor, audit_note=note, **changes)


def location_map_end_date(*, location_map: LocationMap, effective_to: dt.date, actor, note: str = ""):
    return map_end_date(map_obj=location_map, effective_to=effective_to, actor=actor, note=note)


def sku_map_end_date(*, sku_map: SkuMap, effective_to: dt.date, actor, note: str = ""):
    return map_end_date(map_obj=sku_map, effective_to=effective_to, actor=actor, note=note)


def tax_map_end_date(*, tax_map: TaxMap, effective_to: dt.date, actor, note: str = ""):
    return map_end_date(map_obj=tax_map, effective_to=effective_to, actor=actor, note=note)


def tender_map_end_date(*, tender_map: TenderMap, effective_to: dt.date, actor, note: str = ""):
    return map_end_date(map_obj=tender_map, effective_to=effective_to, actor=actor, note=note)


def map_changed_release(*, map_obj: models.Model, actor) -> int:
    """Hand the blocked transactions this map could release to the engine's requeue service.

    Returns how many transactions were candidates. Nothing is closed here: only revalidation can
    say whether a transaction has no other problem.
    """
    from integration.pipeline.validate import transactions_requeue as requeue

    candidates: list[PosTransaction] = list(map_release_candidates(map_obj=map_obj))
    if not candidates:
        return 0
    # After commit, so revalidation sees the saved map from any worker; robust, so a failure in the
    # engine is logged without undoing the map the person just saved (they can requeue again).
    transaction.on_commit(lambda: requeue(transactions=candidates, actor=actor), robust=True)
    return len(candidates)


def suggestions_accept(*, tokens: list[str], actor) -> tuple[list, list[str]]:
    """Create the maps an admin accepted on the suggestions page.

    Each token is "<exception group id>:<Fulfil record id>" for an open unmapped store or SKU.
    Returns (maps created, problems): one bad token does not stop the others.
    """
    from exceptions.models import ExceptionGroup, ExceptionType

    created, problems = [], []
    for token in tokens:
        try:
            group_id, target_id = (int(part) for part in token.split(":", 1))
            group = ExceptionGroup.objects.select_related("source").get(pk=group_id)
            if group.type == ExceptionType.UNMAPPED_LOCATION:
                made = location_map_create(
                    source=group.source,
                    pos_location_id=group.subject,
                    pos_location_name=(group.stores[0] if group.stores else ""),
                    warehouse=FulfilWarehouse.objects.get(pk=target_id, active=True),
                    actor=actor,
                    note="accepted suggestion",
                )
            elif group.type == ExceptionType.SKU_MISMATCH:
                made = sku_map_create(
                    source=group.source,
                    key_type=SkuMap.KeyType.SKU,
                    pos_key=group.subject,
                    product=FulfilProduct.objects.get(pk=target_id, active=True),
                    actor=actor,
                    note="accepted suggestion",
                )
            else:
                raise ValidationError("Only unmapped stores and SKUs take suggestions.")
            created.append(made)
        except (ValueError, ObjectDoesNotExist) as exc:
            problems.append(f"{token}: {exc}")
        except ValidationError as exc:
            problems.append(f"{token}: {' '.join(exc.messages)}")
    return created, problems
