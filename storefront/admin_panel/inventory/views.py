"""Admin inventory: stock per blank SKU, a SKU's page, reservations, and adjusting stock."""

from __future__ import annotations

import logging
import uuid

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from domains.identity.roles import Permission
from domains.identity.shop_settings import read_shop_settings
from domains.inventory import locations as registry
from infra.store import schema

from ... import services
from ...accounts.access import require, staff_required
from ...stock_levels import projected_level
from ..common import notices
from ..common.paging import page_number
from . import data, stock_forms
from .adjust import AdjustRefused, apply_adjustment, parse_adjustment

log = logging.getLogger(__name__)


def _form_key() -> str:
    """Drawn once per form: submitting the same form twice sends the same key."""
    return uuid.uuid4().hex


def _list_context(request: HttpRequest, **extra) -> dict:
    store = services.store()
    threshold = read_shop_settings(store).low_stock_threshold
    params = request.GET
    text, low_only = params.get("q", "")[:100], params.get("low") == "1"
    stock = data.stock_list(store, text=text, low_only=low_only, threshold=threshold,
                            page=page_number(params.get("page")))
    return {"stock": stock, "q": text, "low": low_only, "threshold": threshold,
            "reservations": data.reservations(text), "form_key": _form_key(),
            "locations": [loc for loc in registry.list_locations(store) if loc.active],
            "can_adjust": request.staff.can(Permission.INVENTORY_WRITE),
            **extra}


@require_GET
@staff_required(Permission.INVENTORY_READ)
def inventory_list(request: HttpRequest) -> HttpResponse:
    return render(request, "admin_panel/inventory.html", _list_context(request))


def _sku_context(request: HttpRequest, sku: str, **extra) -> dict:
    store = services.store()
    row = store.get(schema.STOCK.name, {"sku": sku})
    if row is None:
        raise Http404(f"no SKU {sku}")
    threshold = read_shop_settings(store).low_stock_threshold
    live = (data.live_levels([sku]) or {}).get(sku)
    level = live.model_dump() if live else row
    places = data.location_levels(store, live or projected_level(row))
    return {"sku": sku, "level": level, "live": live is not None, "low": data.is_low(level["available"], threshold),
            "places": places, "active_places": [p for p in places if p.active],
            "policy": data.policy_of(live, row),
            "threshold": threshold, "products": data.products_using(store, sku),
            "reservations": data.reservations(sku=sku), "adjustments": data.recent_adjustments(sku),
            "form_key": _form_key(), "can_adjust": request.staff.can(Permission.INVENTORY_WRITE),
            **extra}


@require_GET
@staff_required(Permission.INVENTORY_READ)
def inventory_sku(request: HttpRequest, sku: str) -> HttpResponse:
    return render(request, "admin_panel/inventory_sku.html", _sku_context(request, sku))


def _back_to(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    # only back into the inventory pages: never an address from outside
    return target if target.startswith("/admin/inventory/") and "//" not in target else "/admin/inventory/"


@require_POST
@staff_required(Permission.INVENTORY_READ)
def inventory_adjust(request: HttpRequest) -> HttpResponse:
    if (refused := require(request, Permission.INVENTORY_WRITE)) is not None:
        return refused
    actor = request.staff.actor
    try:
        adjustment = parse_adjustment(request.POST)
        level = apply_adjustment(services.store(), adjustment, actor)
    except AdjustRefused as exc:
        log.info("stock adjustment refused for %s: %s", actor, exc.message)
        form = {k: request.POST.get(k, "") for k in ("sku", "delta", "reason", "key", "location")}
        sku = form["sku"].strip()
        on_sku_page = _back_to(request).startswith("/admin/inventory/sku/") and sku
        try:
            if on_sku_page:
                context = _sku_context(request, sku, error=exc.message, form=form)
                return render(request, "admin_panel/inventory_sku.html", context, status=exc.status)
        except Http404:
            pass
        return render(request, "admin_panel/inventory.html", _list_context(request, error=exc.message, form=form),
                      status=exc.status)
    log.info("stock adjusted by %s: %s %+d (%s) -> on hand %d", actor, adjustment.sku, adjustment.delta,
             adjustment.reason, level.on_hand)
    notices.notify(request, f"{level.sku}: {adjustment.delta:+d} ({adjustment.reason}). "
                            f"Now {level.on_hand} on hand, {level.available} available.")
    return HttpResponseRedirect(_back_to(request))


def _sku_form(request: HttpRequest, sku: str, name: str, parse, apply, done) -> HttpResponse:
    """One of the SKU page's forms (move, count, policy): checked, applied, then back to the
    page with a notice; refused: the page again with the reason and what was typed."""
    if (refused := require(request, Permission.INVENTORY_WRITE)) is not None:
        return refused
    actor = request.staff.actor
    store = services.store()
    try:
        parsed = parse(store, request.POST)
        result = apply(store, sku, parsed, actor)
    except AdjustRefused as exc:
        log.info("%s refused for %s on %s: %s", name, actor, sku, exc.message)
        form = {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}
        context = _sku_context(request, sku, error=exc.message, **{f"{name}_form": form})
        return render(request, "admin_panel/inventory_sku.html", context, status=exc.status)
    text = done(parsed, result)
    log.info("%s on %s by %s: %s", name, sku, actor, text)
    notices.notify(request, f"{sku}: {text}")
    return HttpResponseRedirect(f"/admin/inventory/sku/{sku}/")


@require_POST
@staff_required(Permission.INVENTORY_READ)
def inventory_move(request: HttpRequest, sku: str) -> HttpResponse:
    return _sku_form(request, sku, "move", stock_forms.parse_move, stock_forms.apply_move,
                     lambda m, _r: f"moved {m.quantity} from {m.from_location} to {m.to_location}.")


@require_POST
@staff_required(Permission.INVENTORY_READ)
def inventory_count(request: HttpRequest, sku: str) -> HttpResponse:
    return _sku_form(request, sku, "count", stock_forms.parse_count, stock_forms.apply_count,
                     lambda c, lv: f"counted {c.counted} at {c.location}; now {lv.on_hand} on hand in all, "
                                   f"{lv.available} available.")


@require_POST
@staff_required(Permission.INVENTORY_READ)
def inventory_policy(request: HttpRequest, sku: str) -> HttpResponse:
    def policy_text(p, _lv) -> str:
        if p.preorder_until:
            return (f"preorder until {p.preorder_until:%Y-%m-%d}"
                    + (f", at most {p.backorder_limit} below zero." if p.backorder_limit else ", no limit."))
        return f"backorders up to {p.backorder_limit} below zero." if p.backorder_limit else "no backorders."

    return _sku_form(request, sku, "policy", lambda _store, post: stock_forms.parse_policy(post),
                     lambda store, s, p, actor: stock_forms.apply_policy(store, s, p, actor), policy_text)
