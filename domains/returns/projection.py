"""A return's document in the order index (the admin's returns list), and rebuilding them.

The `save` activity projects each return as it changes, beside the store rows, at the
snapshot's version: the index never goes backwards. `rebuild_return_documents` projects every
return the store holds (`manage.py reindex --orders`): the index is a read model, the store
is the truth.
"""

from __future__ import annotations

from infra.store import Store, schema
from projections.orders import OrderIndex, ReturnDocument

from .messages import ReturnView

# Rebuilt documents carry version 0, so the return's workflow (saves count from 1) replaces them.
REBUILT_VERSION = 0


def return_document(view: ReturnView, version: int) -> ReturnDocument:
    return ReturnDocument(
        return_id=view.return_id, order_id=view.order_id, confirmation_code=view.confirmation_code,
        email=view.email, status=view.status.value, reasons=sorted({li.reason.value for li in view.lines}),
        created_at=view.created_at, updated_at=view.updated_at, refund_amount=view.refund_amount,
        line_count=len(view.lines), version=version)


def project_return(order_index: OrderIndex, view: ReturnView, version: int) -> None:
    order_index.upsert_returns([return_document(view, version)])


def rebuild_return_documents(store: Store, order_index: OrderIndex) -> int:
    """Projects every return of the store into the index; returns how many. A document the index
    holds at a later version is kept (a return saved since)."""
    rows = store.query(schema.RETURNS_BY_SHOP.name, {"shop": schema.SHOP})
    docs = [return_document(ReturnView.model_validate(r["view"]), REBUILT_VERSION) for r in rows]
    for start in range(0, len(docs), 500):
        order_index.upsert_returns(docs[start:start + 500])
    return len(docs)
