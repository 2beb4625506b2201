"""A signal (or update) sent through a declaration reaches the handler of the same wire name.

Child domains declare what they send their parent (the parent's workflow is above them),
and the cadences' activities declare what they send an enrollment (its workflow imports
them). The names are the ones recorded histories hold, so they never change."""

from __future__ import annotations

import pytest
from temporalio.workflow import _SignalDefinition, _UpdateDefinition

from domains.cadences.signals import EnrollmentCalls
from domains.cadences.workflows import EnrollmentWorkflow
from domains.cart.workflows import CartWorkflow
from domains.checkout.signals import CartReports
from domains.fulfillment.signals import OrderReports
from domains.orders.workflows import OrderWorkflow


def signal_name(fn) -> str:
    definition = _SignalDefinition.from_fn(fn)
    assert definition is not None, f"{fn.__qualname__} is not a signal"
    return definition.name


def update_name(fn) -> str:
    name, _ = _UpdateDefinition.get_name_and_result_type(fn)
    return name


@pytest.mark.parametrize(("declared", "handler", "wire"), [
    (OrderReports.supplier_order_changed, OrderWorkflow.supplier_order_changed, "supplier_order_changed"),
    (CartReports.checkout_ended, CartWorkflow.checkout_ended, "checkout_ended"),
    (EnrollmentCalls.update_steps, EnrollmentWorkflow.update_steps, "update_steps"),
], ids=lambda v: getattr(v, "__qualname__", v))
def test_declared_signals_match_their_handlers(declared, handler, wire):
    assert signal_name(declared) == signal_name(handler) == wire


def test_declared_updates_match_their_handlers():
    assert update_name(EnrollmentCalls.cancel) == update_name(EnrollmentWorkflow.cancel) == "cancel"


def test_the_names_a_return_calls_its_order_by_are_the_orders_handlers():
    """Returns sit below orders: a return signals `return_changed` and its activity calls the
    `refund_return` update by the names returns' messages declare."""
    from domains.returns.messages import REFUND_RETURN, RETURN_CHANGED

    assert signal_name(OrderWorkflow.return_changed) == RETURN_CHANGED == "return_changed"
    assert update_name(OrderWorkflow.refund_return) == REFUND_RETURN == "refund_return"


def test_the_order_hears_inventory_allocate_waiting_units_by_the_name_inventory_sends():
    """Inventory sits below orders: its `notify_allocated` activity signals an allocation's `notify`
    workflow (the order) by the wire name `stock_allocated`, which the order's handler takes."""
    import inspect

    from domains.inventory.activities import InventoryActivities

    assert signal_name(OrderWorkflow.stock_allocated) == "stock_allocated"
    assert '.signal("stock_allocated"' in inspect.getsource(InventoryActivities.notify_allocated)
