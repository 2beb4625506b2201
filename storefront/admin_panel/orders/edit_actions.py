"""The admin's order edit flow (docs/domains/orders.md): preview an edit of the address and
lines (the order page then shows the priced edit), confirm it (with a payment method when it
costs more) or abandon it. The same domain calls as the token API, as the staff member."""

from __future__ import annotations

from domains.orders import client as orders
from domains.orders.edit_messages import AbandonEdit, ConfirmEdit, EditOrder, LineChange
from domains.orders.messages import OrderView
from domains.shared import Address

from ...shop.browse import money
from .actions import MAX_REASON, _bad, _order_call, _text

ADDRESS_FIELDS = ("first_name", "last_name", "address1", "address2", "city", "state", "postal_code", "country",
                  "phone")


def _quantity(raw: str, what: str) -> int:
    try:
        n = int(raw)
    except ValueError:
        raise _bad(f"the quantity of {what} must be a whole number, not {raw[:20]!r}") from None
    if not 0 <= n <= 999:
        raise _bad(f"the quantity of {what} must be 0 to 999")
    return n


def edit_request(view: OrderView, actor: str, post) -> EditOrder:
    changes = []
    for line in view.lines:
        raw = post.get(f"qty:{line.variant_id}", "").strip()
        if raw and (n := _quantity(raw, line.product_name)) != line.quantity:
            changes.append(LineChange(variant_id=line.variant_id, quantity=n))
    added = _text(post, "add_variant", 100)
    if added:
        changes.append(LineChange(variant_id=added, quantity=_quantity(post.get("add_quantity", "1").strip() or "1",
                                                                       added)))
    address = None
    if post.get("change_address") in ("on", "1", "true"):
        fields = {k: _text(post, k, 200) for k in ADDRESS_FIELDS}
        address = Address(email=view.shipping_address.email, **{k: v for k, v in fields.items() if v})
    return EditOrder(actor=actor, lines=changes, shipping_address=address, reason=_text(post, "reason", MAX_REASON))


def edit_preview(view: OrderView, actor: str, post) -> str:
    preview = _order_call(orders.preview_edit, view.order_id, edit_request(view, actor, post))
    c = view.currency
    money_part = (f"costs {money(preview.difference, c)} more (needs a payment method)" if preview.difference > 0
                  else f"refunds {money(-preview.difference, c)}" if preview.difference < 0 else "costs the same")
    return f"Edit previewed: the new total is {money(preview.after.total, c)}; it {money_part}. Confirm or abandon it."


def edit_confirm(view: OrderView, actor: str, post) -> str:
    edit_id = _text(post, "edit_id", 120, required="no edit named")
    payment = _text(post, "payment_method", 200) or None
    after = _order_call(orders.confirm_edit, view.order_id, ConfirmEdit(actor=actor, edit_id=edit_id,
                                                                         payment_method=payment))
    return f"Edit confirmed; the order's total is {money(after.total, after.currency)}."


def edit_abandon(view: OrderView, actor: str, post) -> str:
    _order_call(orders.abandon_edit, view.order_id, AbandonEdit(actor=actor, edit_id=_text(post, "edit_id", 120)
                                                                  or None))
    return "Edit abandoned; its held stock is released."
