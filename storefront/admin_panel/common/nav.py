"""The admin panel's navigation, filtered by what the signed-in role may open."""

from __future__ import annotations

from django.http import HttpRequest

from domains.identity.roles import Permission

from . import notices

# (path prefix, label, permission to see the link)
NAV = (
    ("/admin/", "Dashboard", Permission.DASHBOARD),
    ("/admin/orders/", "Orders", Permission.ORDERS_READ),
    ("/admin/returns/", "Returns", Permission.ORDERS_READ),
    ("/admin/inventory/", "Inventory", Permission.INVENTORY_READ),
    ("/admin/carts/", "Carts", Permission.CARTS_READ),
    ("/admin/catalog/", "Catalog", Permission.CATALOG_READ),
    ("/admin/cadences/", "Cadences", Permission.CADENCES_READ),
    ("/admin/webhooks/", "Webhooks", Permission.WEBHOOKS_READ),
    ("/admin/tokens/", "API tokens", Permission.TOKENS_MANAGE),
    ("/admin/staff/", "Staff", Permission.STAFF_MANAGE),
    ("/admin/settings/", "Settings", Permission.SETTINGS_WRITE),
    ("/admin/ops/", "Operations", Permission.OPS_READ),
)


def admin_nav(request: HttpRequest) -> dict:
    """Template context: `staff`, the links their role may follow, and the pending notice."""
    staff = getattr(request, "staff", None)
    if staff is None or not request.path.startswith("/admin/"):
        return {"staff": staff, "admin_nav": []}
    current = max((p for p, _, _ in NAV if request.path.startswith(p)), key=len, default="")
    return {"staff": staff, "messages_notice": notices.take(request), "admin_nav": [
        {"url": path, "label": label, "on": path == current} for path, label, perm in NAV if staff.can(perm)]}
