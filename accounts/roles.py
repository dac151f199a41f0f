"""The three roles and the one helper every view uses to check them.

Roles are Django groups so that an admin can grant them in the Django admin. A superuser is treated
as holding every role.
"""

from collections.abc import Callable, Iterable
from functools import wraps

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied

OPS = "ops"
FINANCE = "finance"
ADMIN = "admin"
ALL_ROLES = (OPS, FINANCE, ADMIN)

ROLE_DESCRIPTIONS = {
    OPS: "Triages exceptions, fixes maps from the workbench, requeues transactions.",
    FINANCE: "Reviews daily reconciliation, approves blind returns and tax acceptances, closes months.",
    ADMIN: "Everything, including map administration, POS sources and users.",
}


def user_roles(user: AbstractBaseUser | AnonymousUser) -> frozenset[str]:
    if not user.is_authenticated:
        return frozenset()
    if user.is_superuser:
        return frozenset(ALL_ROLES)
    cached = getattr(user, "_tillbridge_roles", None)
    if cached is None:
        cached = frozenset(user.groups.filter(name__in=ALL_ROLES).values_list("name", flat=True))
        user._tillbridge_roles = cached
    return cached


def has_role(user: AbstractBaseUser | AnonymousUser, *roles: str) -> bool:
    """True if the user holds any of `roles`; admin holds them all."""
    held = user_roles(user)
    return ADMIN in held or bool(held.intersection(roles))


def check_role(user: AbstractBaseUser | AnonymousUser, roles: Iterable[str]) -> None:
    if not has_role(user, *roles):
        raise PermissionDenied("Your role does not allow this page or action.")


def role_required(*roles: str) -> Callable:
    """View decorator: login is enforced by middleware; this refuses the wrong role with 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            check_role(request.user, roles)
            return view(request, *args, **kwargs)

        wrapped.required_roles = roles
        return wrapped

    return decorator


ROLE_PERMISSIONS = {
    "ops": {
        "view": ["integration", "exceptions", "mappings", "reconciliation"],
        "add": ["exceptions.exceptiongroup", "mappings.locationmap", "mappings.skumap"],
        "change": [
            "exceptions.exceptiongroup",
            "exceptions.exceptionoccurrence",
            "mappings.locationmap",
            "mappings.skumap",
            "integration.postransaction",
            "integration.inboundevent",
        ],
    },
    "finance": {
        "view": ["integration", "exceptions", "mappings", "reconciliation"],
        "add": ["reconciliation.tenderbatch"],
        "change": ["reconciliation.tenderbatch", "exceptions.exceptiongroup"],
    },
    "admin": {
        "view": ["integration", "exceptions", "mappings", "reconciliation", "accounts"],
        "add": ["integration", "exceptions", "mappings", "reconciliation"],
        "change": ["integration", "exceptions", "mappings", "reconciliation"],
        "delete": ["mappings"],
    },
}


def _permissions_for(Permission, action, targets):
    perms = []
    for target in targets:
        if "." in target:
            app_label, model = target.split(".")
            perms += Permission.objects.filter(
                content_type__app_label=app_label, content_type__model=model, codename=f"{action}_{model}"
            )
        else:
            perms += Permission.objects.filter(
                content_type__app_label=target, codename__startswith=f"{action}_"
            )
    return perms


def sync_role_groups(group_model, permission_model) -> None:
    """Make the three role groups exist with their permissions. Idempotent.

    Called by the roles migration (with historical models) and after every migrate/flush (with
    the real ones), so a test database flushed between tests keeps its roles.
    """
    for role, grants in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=role)
        perms = []
        for action, targets in grants.items():
            perms += _permissions_for(permission_model, action, targets)
        group.permissions.set(perms)
