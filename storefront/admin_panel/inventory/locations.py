"""Admin locations: the warehouses and suppliers stock is kept at (list, create, edit,
activate / deactivate). The registry is `domains/inventory/locations.py`: saving writes the
row and pushes the registry to every inventory shard, so all of them agree.

A bad form comes back with its problems (400), a deactivation the shards refuse (units still
committed there: `LocationInUse`) with the reason (409); never a 500. Saving is absolute (the
same form sent twice saves the same location), and the form's key stops a double-submitted
"create" from being refused as a duplicate of itself.
"""

from __future__ import annotations

import logging
import re
import uuid

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_POST
from pydantic import ValidationError

from domains.identity.roles import Permission
from domains.inventory import client as inventory
from domains.inventory import locations as registry
from domains.inventory.locations import Location, LocationKind

from ... import services
from ...accounts.access import require, staff_required
from ...api.shop_errors import http_of
from ..common import notices
from .adjust import KEY_PATTERN

log = logging.getLogger(__name__)

FIELDS = ("id", "name", "kind", "country", "state", "city", "address_line", "priority")
LABELS = {"id": "Id", "name": "Name", "kind": "Kind", "country": "Country", "state": "State",
          "city": "City", "address_line": "Address", "priority": "Priority", "active": "Active"}
SLUG = re.compile(r"^[a-z0-9-]{1,40}$")
# a double submit of "create" within a session: key -> location id (kept small)
CREATED = "admin_locations_created"
CREATED_KEPT = 20


class LocationRefused(Exception):
    def __init__(self, status: int, problems: list[str]):
        super().__init__("; ".join(problems))
        self.status = status
        self.problems = problems


def parse_location(post, location_id: str | None = None) -> Location:
    """A Location from the form; `location_id` fixes the id (editing). LocationRefused(400) with
    one line per problem otherwise."""
    values = {f: " ".join(post.get(f, "").split()) for f in FIELDS}
    if location_id is not None:
        values["id"] = location_id
    problems = []
    if not SLUG.match(values["id"]):
        problems.append("Id: 1 to 40 lower-case letters, digits or dashes (like east-coast).")
    values["country"] = values["country"].upper()
    if not re.match(r"^[A-Z]{2}$", values["country"]):
        problems.append("Country: its two-letter ISO code (like US, DE, GB).")
    if not values["name"]:
        problems.append("Name: say what staff call it (like East coast warehouse).")
    try:
        priority = int(values["priority"] or "100")
    except ValueError:
        problems.append(f"Priority: a whole number (lower ships first), not {values['priority']!r}.")
        priority = 100
    # a form with the checkbox says so (an unticked box sends nothing); without it, active
    active = post.get("active", "") in ("1", "on", "true") if "active_shown" in post else True
    if problems:
        raise LocationRefused(400, problems)
    try:
        return Location(**{**values, "priority": priority, "active": active})
    except ValidationError as exc:
        raise LocationRefused(400, [f"{LABELS.get(str(e['loc'][0]), e['loc'][0]) if e['loc'] else 'Form'}: "
                                    f"{e['msg']}" for e in exc.errors()]) from None


def _save(location: Location, actor: str) -> Location:
    store = services.store()
    try:
        saved = services.temporal().run(lambda client: registry.save_location(store, client, location))
    except inventory.InventoryError as exc:
        status, _ = http_of(exc.code)
        raise LocationRefused(status, [f"Refused: {exc}."]) from None
    log.info("location %s saved by %s: %s", saved.id, actor, saved.model_dump(mode="json"))
    return saved


def _check_key(post) -> str:
    key = post.get("key", "").strip()
    if not KEY_PATTERN.match(key):
        raise LocationRefused(400, ["This form has expired; reload the page and try again."])
    return key


def _list_page(request: HttpRequest, status: int = 200, **extra) -> HttpResponse:
    return render(request, "admin_panel/inventory_locations.html", {
        "locations": sorted(registry.list_locations(services.store()), key=lambda x: (not x.active, x.priority, x.id)),
        "kinds": [k.value for k in LocationKind], "form_key": uuid.uuid4().hex,
        "can_edit": request.staff.can(Permission.INVENTORY_WRITE), "form": {}, **extra}, status=status)


@require_http_methods(["GET", "POST"])
@staff_required(Permission.INVENTORY_READ)
def location_list(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _list_page(request)
    if (refused := require(request, Permission.INVENTORY_WRITE)) is not None:
        return refused
    form = {f: request.POST.get(f, "") for f in (*FIELDS, "key")}
    try:
        key = _check_key(request.POST)
        location = parse_location(request.POST)
        created = request.session.get(CREATED, {})
        if registry.get_location(services.store(), location.id) is not None and created.get(key) != location.id:
            raise LocationRefused(409, [f"A location {location.id!r} exists already: edit it instead."])
        saved = _save(location, request.staff.actor)
    except LocationRefused as exc:
        return _list_page(request, exc.status, problems=exc.problems, form=form)
    request.session[CREATED] = dict(list({**created, key: saved.id}.items())[-CREATED_KEPT:])
    notices.notify(request, f"Location {saved.name} ({saved.id}) saved.")
    return HttpResponseRedirect("/admin/inventory/locations")


def _edit_page(request: HttpRequest, location: Location, status: int = 200, **extra) -> HttpResponse:
    return render(request, "admin_panel/inventory_location.html", {
        "location": location, "kinds": [k.value for k in LocationKind], "form_key": uuid.uuid4().hex,
        "can_edit": request.staff.can(Permission.INVENTORY_WRITE),
        "form": location.model_dump(mode="json"), **extra}, status=status)


def _existing(location_id: str) -> Location:
    location = registry.get_location(services.store(), location_id)
    if location is None:
        raise Http404(f"no location {location_id}")
    return location


@require_http_methods(["GET", "POST"])
@staff_required(Permission.INVENTORY_READ)
def location_edit(request: HttpRequest, location_id: str) -> HttpResponse:
    current = _existing(location_id)
    if request.method == "GET":
        return _edit_page(request, current)
    if (refused := require(request, Permission.INVENTORY_WRITE)) is not None:
        return refused
    try:
        _check_key(request.POST)
        location = parse_location(request.POST, location_id)
        saved = _save(location, request.staff.actor)
    except LocationRefused as exc:
        form = {f: request.POST.get(f, "") for f in FIELDS} | {"id": location_id}
        return _edit_page(request, current, exc.status, problems=exc.problems, form=form)
    notices.notify(request, f"Location {saved.name} ({saved.id}) saved.")
    return HttpResponseRedirect(f"/admin/inventory/locations/{saved.id}")


@require_POST
@staff_required(Permission.INVENTORY_READ)
def location_active(request: HttpRequest, location_id: str) -> HttpResponse:
    """Activate (`active=1`) or deactivate (`active=0`) a location; the shards refuse deactivating
    one that still has committed units (409, shown on the list)."""
    if (refused := require(request, Permission.INVENTORY_WRITE)) is not None:
        return refused
    current = _existing(location_id)
    try:
        _check_key(request.POST)
        active = request.POST.get("active", "")
        if active not in ("0", "1"):
            raise LocationRefused(400, ["Say active=1 or active=0."])
        saved = _save(current.model_copy(update={"active": active == "1"}), request.staff.actor)
    except LocationRefused as exc:
        return _list_page(request, exc.status, problems=exc.problems)
    notices.notify(request, f"Location {saved.name} ({saved.id}) is now {'active' if saved.active else 'inactive'}.")
    return HttpResponseRedirect("/admin/inventory/locations")
