from django.urls import reverse

from accounts.roles import ADMIN, FINANCE, OPS, has_role, user_roles

# (label, url name, roles that see it). The views enforce the same roles; this only hides links.
NAVIGATION = (
    ("Exceptions", "exceptions:list", (OPS, FINANCE, ADMIN)),
    ("Transactions", "integration:transaction_list", (OPS, FINANCE, ADMIN)),
    ("Maps", "mappings:index", (OPS, ADMIN)),
    ("Reconciliation", "reconciliation:index", (FINANCE, ADMIN)),
    ("Health", "integration:health", (OPS, FINANCE, ADMIN)),
)


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "user_roles": []}
    path = request.path
    items = []
    for label, url_name, roles in NAVIGATION:
        if has_role(user, *roles):
            url = reverse(url_name)
            items.append({"label": label, "url": url, "active": path.startswith(url)})
    return {"nav_items": items, "user_roles": sorted(user_roles(user))}
