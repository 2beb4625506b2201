"""Owner pages for staff users and settings, and the API tokens page (owners and managers).

Every change goes through identity's workflows with the signed-in staff user as the actor;
refusals (the last owner, a taken email, a revoked token) come back as 409 with the message.
"""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_http_methods
from pydantic import ValidationError

from domains.identity import client as identity
from domains.identity import reads
from domains.identity.client import IdentityError
from domains.identity.messages import EMAIL_PATTERN
from domains.identity.roles import ROLE_PERMISSIONS, Permission, Role, Scope
from domains.identity.shop_settings import ShopSettings, read_shop_settings

from ... import services
from ...accounts.access import staff_required
from ...accounts.passwords import hashed, problems
from ..common import notices
from .amounts import parse_money, parse_percent, show_money, show_percent


def _done(request: HttpRequest, url: str, notice: str) -> HttpResponse:
    notices.notify(request, notice)
    return HttpResponseRedirect(url)


# --- staff ---------------------------------------------------------------------------------

# "Add a staff user" starts on the role that may do least: granting more is a deliberate choice.
LEAST_PRIVILEGED = min(Role, key=lambda r: len(ROLE_PERMISSIONS[r])).value

def _staff_page(request: HttpRequest, status: int = 200, error: str | None = None, form: dict | None = None):
    store = services.store()
    return render(request, "admin_panel/staff.html", {
        "members": reads.all_staff(store), "roles": [r.value for r in Role], "error": error,
        "form": form or {"role": LEAST_PRIVILEGED},
        "role_permissions": {r.value: sorted(p.value for p in ps) for r, ps in ROLE_PERMISSIONS.items()},
        "audit": reads.audit_log(store, limit=30)}, status=status)


@staff_required(Permission.STAFF_MANAGE)
@require_http_methods(["GET", "POST"])
def staff_list(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _staff_page(request)
    form = {k: request.POST.get(k, "").strip() for k in ("email", "name", "role")}
    password = request.POST.get("password", "")
    if not re.match(EMAIL_PATTERN, form["email"]):
        return _staff_page(request, 400, "Enter a valid email address.", form)
    if len(form["name"]) > 120:
        return _staff_page(request, 400, "Keep the name under 120 characters.", form)
    if form["role"] not in {r.value for r in Role}:
        return _staff_page(request, 400, f"Choose a role: {', '.join(r.value for r in Role)}.", form)
    trouble = problems(password, form["email"])
    if trouble:
        return _staff_page(request, 400, " ".join(trouble), form)
    try:
        view = services.temporal().run(lambda client: identity.create_staff(
            client, form["email"], Role(form["role"]), hashed(password), request.staff.actor, form["name"]))
    except IdentityError as exc:
        return _staff_page(request, 409, str(exc), form)
    return _done(request, "/admin/staff/", f"Created {view.role} {view.email}.")


@staff_required(Permission.STAFF_MANAGE)
@require_http_methods(["POST"])
def staff_change(request: HttpRequest, staff_id: str) -> HttpResponse:
    store = services.store()
    member = reads.staff(store, staff_id)
    if member is None:
        return _staff_page(request, 404, "No such staff user.")
    action = request.POST.get("action", "")
    actor = request.staff.actor
    try:
        if action == "role":
            role = request.POST.get("role", "")
            if role not in {r.value for r in Role}:
                return _staff_page(request, 400, f"Unknown role {role!r}.")
            services.call(identity.change_role, store, staff_id, Role(role), actor)
            notice = f"{member.email} is now {role}."
        elif action in ("disable", "enable"):
            services.call(identity.set_staff_active, store, staff_id, action == "enable", actor)
            notice = f"{member.email} is {action}d."
        elif action == "password":
            password = request.POST.get("password", "")
            trouble = problems(password, member.email)
            if trouble:
                return _staff_page(request, 400, " ".join(trouble))
            services.call(identity.change_staff_password, staff_id, hashed(password), actor)
            notice = f"New password set for {member.email}; their other sessions have ended."
        else:
            return _staff_page(request, 400, f"Unknown action {action!r}.")
    except IdentityError as exc:
        return _staff_page(request, 409, str(exc))
    if staff_id == request.staff.staff_id and action == "password":
        from ...accounts.middleware import STAFF_SESSION
        from ...accounts.sign_in import renew_session

        # keep this session (the owner changed their own password here), under a new key
        renew_session(request)
        request.session[STAFF_SESSION] = {"id": staff_id, "epoch": reads.staff(store, staff_id).credentials.epoch}
    return _done(request, "/admin/staff/", notice)


# --- API tokens ----------------------------------------------------------------------------

def _tokens_page(request: HttpRequest, status: int = 200, error: str | None = None, created: str | None = None):
    return render(request, "admin_panel/tokens.html", {
        "tokens": reads.all_tokens(services.store()), "scopes": [s.value for s in Scope], "error": error,
        "created": created}, status=status)


@staff_required(Permission.TOKENS_MANAGE)
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _tokens_page(request)
    name = request.POST.get("name", "").strip()
    chosen = request.POST.getlist("scopes")
    unknown = [s for s in chosen if s not in {x.value for x in Scope}]
    if not name or len(name) > 80:
        return _tokens_page(request, 400, "Name the token (up to 80 characters), e.g. after the integration using it.")
    if not chosen or unknown:
        return _tokens_page(request, 400, f"Choose one or more scopes from {', '.join(s.value for s in Scope)}.")
    _, secret = services.temporal().run(lambda client: identity.create_token(
        client, name, [Scope(s) for s in chosen], request.staff.actor))
    # Shown once, in this response only; the store keeps a hash. No redirect, so it is not in a
    # session, and no cache may keep the page.
    response = _tokens_page(request, 201, created=secret)
    response["Cache-Control"] = "no-store"
    return response


@staff_required(Permission.TOKENS_MANAGE)
@require_http_methods(["POST"])
def token_revoke(request: HttpRequest, token_id: str) -> HttpResponse:
    if reads.token(services.store(), token_id) is None:
        return _tokens_page(request, 404, "No such token.")
    try:
        services.call(identity.revoke_token, token_id, request.staff.actor)
    except IdentityError as exc:
        return _tokens_page(request, 409, str(exc))
    return _done(request, "/admin/tokens/", f"Token {token_id} revoked; requests using it now get 401.")


# --- settings ------------------------------------------------------------------------------

SETTINGS_FIELDS = ("shop_name", "shop_address", "currency", "manual_fulfillment", "reservation_minutes",
                   "checkout_timeout_minutes",
                   "low_stock_threshold", "domestic_standard", "free_over", "international", "home_country",
                   "tax_table")


def _settings_form(settings: ShopSettings) -> dict:
    return {
        "shop_name": settings.shop_name, "shop_address": settings.shop_address, "currency": settings.currency,
        "manual_fulfillment": settings.manual_fulfillment, "reservation_minutes": settings.reservation_minutes,
        "checkout_timeout_minutes": settings.checkout_timeout_minutes,
        "low_stock_threshold": settings.low_stock_threshold,
        "domestic_standard": show_money(settings.shipping.domestic_standard),
        "free_over": show_money(settings.shipping.free_over),
        "international": show_money(settings.shipping.international), "home_country": settings.shipping.home_country,
        "tax_table": "\n".join(f"{region} {show_percent(bp)}"
                               for region, bp in sorted(settings.tax_bp_by_region.items())),
    }


def parse_tax_table(text: str) -> dict[str, int]:
    """Lines of `REGION RATE` (e.g. `CA 7.25%`) as basis points; raises ValueError naming the bad line."""
    table: dict[str, int] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.replace(",", " ").replace("=", " ").split()
        if len(parts) == 3 and parts[2] == "%":
            parts = [parts[0], parts[1] + "%"]
        if len(parts) != 2:
            raise ValueError(f"tax table line {n} ({line.strip()!r}): expected a region and a rate, e.g. CA 7.25%")
        table[parts[0].upper()] = parse_percent(parts[1], f"tax table line {n} ({line.strip()!r})")
    return table


RETURN_SETTINGS = ("return_window_days", "return_ship_days", "restocking_fees", "refund_shipping_on_return",
                   "auto_approve_reasons", "support_refund_limit", "exchange_ships_at_once")


def settings_from_form(post) -> ShopSettings:
    """The submitted form as settings; raises ValueError with a message a person can act on."""
    try:
        free_over = post.get("free_over", "").strip()
        shipping = {"domestic_standard": parse_money(post.get("domestic_standard", ""), "Domestic standard shipping"),
                    "international": parse_money(post.get("international", ""), "International shipping"),
                    "free_over": parse_money(free_over, "Free shipping over") if free_over else None,
                    "home_country": post.get("home_country", "")}
        return ShopSettings.model_validate({
            "shop_name": post.get("shop_name", "").strip(),
            "shop_address": " ".join(post.get("shop_address", "").split()),
            "currency": post.get("currency", "").strip().upper(),
            "manual_fulfillment": post.get("manual_fulfillment") in ("on", "true", "1"),
            "reservation_minutes": post.get("reservation_minutes", ""),
            "checkout_timeout_minutes": post.get("checkout_timeout_minutes", ""),
            "low_stock_threshold": post.get("low_stock_threshold", ""), "shipping": shipping,
            "tax_bp_by_region": parse_tax_table(post.get("tax_table", ""))})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"{where}: {first['msg']}") from None


@staff_required(Permission.SETTINGS_WRITE)
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    store = services.store()
    current = read_shop_settings(store)
    if request.method == "GET":
        return render(request, "admin_panel/settings.html", {
            "form": _settings_form(current), "current": current})
    try:
        wanted = settings_from_form(request.POST)
    except ValueError as exc:
        return render(request, "admin_panel/settings.html", {
            "form": {**_settings_form(current), **{k: request.POST.get(k, "") for k in SETTINGS_FIELDS}},
            "current": current, "error": str(exc)}, status=400)
    # The return policy (docs/domains/returns.md) is kept as it is unless the form sends its fields.
    wanted = wanted.model_copy(update={k: getattr(current, k) for k in RETURN_SETTINGS if k not in request.POST})
    services.temporal().run(lambda client: identity.change_settings(
        client, store, wanted, request.staff.actor))
    return _done(request, "/admin/settings/", "Settings saved. Carts, checkouts and fulfillment use them from now on.")

