from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from accounts.models import AuditEntry


def audit_record(
    *,
    actor: AbstractBaseUser | None,
    action: str,
    obj: Any,
    before: dict | None = None,
    after: dict | None = None,
    note: str = "",
) -> AuditEntry:
    """Write one audit entry. Call it inside the transaction that makes the change."""
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEntry.objects.create(
        actor=actor if is_user else None,
        actor_label=actor.get_username() if is_user else "system",
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:255],
        before=before,
        after=after,
        note=note,
    )
