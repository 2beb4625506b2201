"""The admin dashboard: today's orders, orders by status and per hour, low stock, carts and
checkouts running now, and the state of the catalog and its search index."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from domains.identity.roles import Permission

from ...accounts.access import staff_required
from .chart import chart
from .data import dashboard as dashboard_parts


@require_GET
@staff_required(Permission.DASHBOARD)
def dashboard(request: HttpRequest) -> HttpResponse:
    parts = dashboard_parts()
    hours = parts["hours"]
    return render(request, "admin_panel/dashboard.html", {
        **parts, "chart": chart(hours) if hours is not None else None,
        "can_inventory": request.staff.can(Permission.INVENTORY_READ),
        "can_carts": request.staff.can(Permission.CARTS_READ),
        "can_catalog": request.staff.can(Permission.CATALOG_READ),
        "can_orders": request.staff.can(Permission.ORDERS_READ),
    })
