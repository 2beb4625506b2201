"""Saved addresses: add, edit, remove, make default. The shopper's workflow keeps the rules
(at most 20, one default, the first one saved is the default)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_http_methods, require_POST
from pydantic import ValidationError

from domains.identity import client as identity
from domains.identity import reads
from domains.identity.client import IdentityError
from domains.identity.messages import (
    MAX_ADDRESSES,
    TOO_MANY_ADDRESSES,
    UNKNOWN_ADDRESS,
    SaveAddress,
)
from domains.shared import Address

from .. import services
from .shopper_common import ACCOUNT_URL, Refused, form_page, notify, signed_in

FIELDS = ("email", "first_name", "last_name", "address1", "address2", "city", "state", "postal_code", "country",
          "phone")
LABELS = {"email": "email", "first_name": "first name", "last_name": "last name", "address1": "address",
          "address2": "apartment or suite", "city": "city", "state": "state", "postal_code": "postal code",
          "country": "country (two letters)", "phone": "phone", "label": "label"}
TEMPLATE = "shop/account_address.html"


def _saved(request: HttpRequest, address_id: str):
    account = reads.shopper(services.store(), request.shopper.shopper_id)
    found = next((a for a in account.addresses if a.address_id == address_id), None) if account else None
    if found is None:
        raise Http404("no such saved address")
    return found


def _request(post, address_id: str | None) -> SaveAddress:
    data = {f: post.get(f, "").strip() for f in FIELDS}
    try:
        address = Address(**{k: v for k, v in data.items() if v})
        return SaveAddress(address_id=address_id, label=post.get("label", "").strip(), address=address,
                           make_default=post.get("make_default") == "on")
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][-1] if exc.errors()[0]["loc"] else "address")
        raise Refused("invalid_address", f"Please check the {LABELS.get(field, field)} field.") from None


def _save(request: HttpRequest, address_id: str | None) -> HttpResponse:
    form = {f: request.POST.get(f, "").strip() for f in (*FIELDS, "label")}
    context = {"form": form, "address_id": address_id}
    try:
        change = _request(request.POST, address_id)
        try:
            services.call(identity.save_address, request.shopper.shopper_id, change)
        except IdentityError as exc:
            if exc.code == TOO_MANY_ADDRESSES:
                raise Refused("too_many_addresses", f"You can keep at most {MAX_ADDRESSES} addresses; "
                                                    "remove one first.", 409) from None
            if exc.code == UNKNOWN_ADDRESS:
                raise Http404("no such saved address") from None
            raise
    except Refused as refused:
        return form_page(request, TEMPLATE, context, refused)
    notify(request, "address_saved")
    return HttpResponseRedirect(ACCOUNT_URL)


@require_http_methods(["GET", "POST"])
@signed_in
def new_address(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _save(request, None)
    return form_page(request, TEMPLATE, {"form": {"email": request.shopper.email, "country": "US"},
                                         "address_id": None})


@require_http_methods(["GET", "POST"])
@signed_in
def edit_address(request: HttpRequest, address_id: str) -> HttpResponse:
    saved = _saved(request, address_id)
    if request.method == "POST":
        return _save(request, address_id)
    form = {**{k: v or "" for k, v in saved.address.model_dump().items()}, "label": saved.label}
    return form_page(request, TEMPLATE, {"form": form, "address_id": address_id, "is_default": saved.is_default})


@require_POST
@signed_in
def remove_address(request: HttpRequest, address_id: str) -> HttpResponse:
    try:
        services.call(identity.remove_address, request.shopper.shopper_id, address_id)
    except IdentityError as exc:
        if exc.code == UNKNOWN_ADDRESS:
            raise Http404("no such saved address") from None
        raise
    notify(request, "address_removed")
    return HttpResponseRedirect(ACCOUNT_URL)


@require_POST
@signed_in
def make_default(request: HttpRequest, address_id: str) -> HttpResponse:
    saved = _saved(request, address_id)
    services.call(identity.save_address, request.shopper.shopper_id, SaveAddress(
        address_id=address_id, label=saved.label, address=saved.address, make_default=True))
    notify(request, "default_address")
    return HttpResponseRedirect(ACCOUNT_URL)
