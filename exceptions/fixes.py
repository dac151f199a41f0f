"""Fix a root cause and release what it blocked — one action, one database transaction.

Each fix writes its change (a map, a link, an acceptance) with an audit entry, then requeues the
group's transactions through the engine's requeue service, which revalidates them: a transaction
only becomes ready when nothing else still blocks it.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet

from accounts.roles import ADMIN, FINANCE, has_role
from accounts.services import audit_record
from exceptions import selectors
from exceptions.models import ExceptionGroup, ExceptionType
from exceptions.services import exception_group_resolve
from integration.models import PosTransaction


def _requeue(transactions, actor) -> dict:
    """`transactions`: a list, or a queryset (a whole group: its ids are read, no rows loaded)."""
    from integration.pipeline.validate import transactions_requeue

    if isinstance(transactions, QuerySet):
        summary = transactions_requeue(queryset=transactions, actor=actor)
    else:
        summary = transactions_requeue(transactions=transactions, actor=actor)
    if summary.get("ready"):
        # Post now rather than at the next scheduled run: the person who fixed it is watching.
        transaction.on_commit(_kick_inventory_lane)
    return summary


def _kick_inventory_lane() -> None:
    from django_q.tasks import async_task

    async_task("integration.tasks.engine_inventory_lane", task_name="inventory lane (after a fix)")


def group_requeue(*, group: ExceptionGroup, actor) -> dict:
    """Revalidate every open transaction of the group; the ones nothing else blocks become ready."""
    with transaction.atomic():
        summary = _requeue(selectors.group_transactions(group=group), actor)
        audit_record(actor=actor, action="exception_group.requeued", obj=group, after=_plain(summary))
    return summary


@transaction.atomic
def fix_unmapped_location(*, group: ExceptionGroup, warehouse, actor, channel=None) -> dict:
    from mappings.services import location_map_create

    _expect(group, ExceptionType.UNMAPPED_LOCATION)
    subject = selectors.group_subject(group=group)
    location_map_create(
        source=group.source,
        pos_location_id=subject["pos_location_id"],
        pos_location_name=subject["pos_location_name"],
        warehouse=warehouse,
        channel=channel,
        actor=actor,
        release=False,  # requeued below, inside this transaction, so the page can say what happened
    )
    return _fixed_then_requeue(group, actor, f"Mapped to warehouse {warehouse}")


@transaction.atomic
def fix_sku_mismatch(*, group: ExceptionGroup, product, actor) -> dict:
    from mappings.models import SkuMap
    from mappings.services import sku_map_create

    _expect(group, ExceptionType.SKU_MISMATCH)
    key_type = group.context.get("key_type", SkuMap.KeyType.SKU)
    sku_map_create(
        source=group.source,
        key_type=key_type,
        pos_key=group.context.get("sku", group.subject),
        product=product,
        actor=actor,
    )
    return _fixed_then_requeue(group, actor, f"Mapped to product {product}")


@transaction.atomic
def link_return(*, txn: PosTransaction, original: PosTransaction, actor) -> dict:
    if original.source_id != txn.source_id or original.kind == PosTransaction.Kind.RETURN:
        raise ValidationError("The original must be a sale from the same POS source.")
    before = {"original": txn.original_id, "original_pos_id": txn.original_pos_id}
    txn.original, txn.original_pos_id = original, original.pos_id
    txn.save(update_fields=["original", "original_pos_id", "updated_at"])
    audit_record(
        actor=actor,
        action="transaction.return_linked",
        obj=txn,
        before=before,
        after={"original": original.pk, "original_pos_id": original.pos_id},
    )
    return _requeue([txn], actor)


@transaction.atomic
def approve_blind_return(*, group: ExceptionGroup, actor, note: str) -> dict:
    """Finance: post these returns without an original, costed under the configured policy.

    The group closes as *accepted*; validation never raises an accepted problem again for the
    transactions it covered, so the requeue releases them.
    """
    _require_finance(actor)
    _expect(group, ExceptionType.UNLINKED_RETURN)
    _require_note(note)
    txns = list(selectors.group_transactions(group=group))
    PosTransaction.objects.filter(pk__in=[t.pk for t in txns]).update(blind_return_approved=True)
    return _accept_then_requeue(group, txns, actor, note)


@transaction.atomic
def accept_tax_variance(*, group: ExceptionGroup, actor, note: str) -> dict:
    """Finance: post with an adjustment line for the difference, within TAX_ACCEPT_LIMIT each."""
    _require_finance(actor)
    _expect(group, ExceptionType.TAX_DISCREPANCY)
    _require_note(note)
    limit = settings.TAX_ACCEPT_LIMIT
    occurrences = list(group.occurrences.filter(is_open=True).select_related("transaction"))
    over = [o for o in occurrences if abs(_variance(o.detail)) > limit]
    if over:
        raise ValidationError(
            f"{len(over)} transaction(s) differ by more than {limit}; fix the tax map instead, or raise "
            "TAX_ACCEPT_LIMIT with your finance lead."
        )
    return _accept_then_requeue(group, [o.transaction for o in occurrences], actor, note)


def _accept_then_requeue(group, txns, actor, note) -> dict:
    exception_group_resolve(
        group=group, actor=actor, resolution=ExceptionGroup.Resolution.ACCEPTED, note=note
    )
    return _requeue(txns, actor)


def group_resolve_with_note(
    *, group: ExceptionGroup, actor, note: str, ignore: bool = False
) -> ExceptionGroup:
    if not note.strip():
        raise ValidationError("Say why, so the next person knows.")
    resolution = ExceptionGroup.Resolution.IGNORED if ignore else ExceptionGroup.Resolution.MANUAL
    return exception_group_resolve(group=group, actor=actor, resolution=resolution, note=note)


def _require_note(note: str) -> None:
    if not note.strip():
        raise ValidationError("Say why, so the next person knows.")


def _variance(detail: dict) -> Decimal:
    return Decimal(str(detail.get("difference") or detail.get("variance") or "0"))


def _fixed_then_requeue(group, actor, note, resolution=ExceptionGroup.Resolution.FIXED) -> dict:
    summary = _requeue(selectors.group_transactions(group=group), actor)
    group.refresh_from_db()
    if group.status == ExceptionGroup.Status.RESOLVED:
        group.resolution = resolution
        group.save(update_fields=["resolution"])
    audit_record(actor=actor, action="exception_group.fixed", obj=group, after=_plain(summary), note=note)
    return summary


def _expect(group: ExceptionGroup, exc_type: str) -> None:
    if group.type != exc_type:
        raise ValidationError(f"This fix is for {exc_type} groups, not {group.type}.")


def _require_finance(actor) -> None:
    if not has_role(actor, FINANCE, ADMIN):
        raise PermissionDenied("Only finance can accept variances or approve blind returns.")


def _plain(summary: dict) -> dict:
    return {k: (v if isinstance(v, int | str | float | list | dict) else str(v)) for k, v in summary.items()}
