"""Which workflows and activities each task queue runs.

A domain contributes one entry; `python -m workers --queues a,b` runs a subset so queues
can be scaled apart. Dependencies (store, index) are opened once per process and shared.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from temporalio.client import Client

from domains.queues import ALL as ALL_QUEUES
from infra.store import Store
from projections.orders import OrderIndex
from projections.search import ProductIndex

if TYPE_CHECKING:  # the cadences queue imports its domain only when it is built
    from domains.cadences.channel import EmailChannel
    from domains.orders.alerts import StaffAlerts
    from domains.orders.emails import OrderEmailChannel
    from domains.returns.emails import ReturnEmailChannel
    from domains.webhooks.notify import Notifier


@dataclass(frozen=True)
class Dependencies:
    store: Store
    index: ProductIndex
    client: Client  # activities that talk to other workflows (inventory, orders) use it
    order_index: OrderIndex | None = None  # the admin lists' read models (orders, supplier orders)
    email_channel: EmailChannel | None = None  # None: the shop's Django channel
    order_email_channel: OrderEmailChannel | None = None  # None: the shop's Django channel for order emails
    return_email_channel: ReturnEmailChannel | None = None  # None: the shop's Django channel for return emails
    webhook_notifier: Notifier | None = None  # None: the shop's Django email
    staff_alerts: StaffAlerts | None = None  # None: the shop's Django email (payment alerts)


@dataclass(frozen=True)
class QueueSpec:
    workflows: list[type]
    activities: list[Callable[..., Any]]


def activities_of(instance: object) -> list[Callable[..., Any]]:
    """Every @activity.defn method of an activities object, so no list is kept by hand."""
    return [getattr(instance, name) for name in dir(type(instance))
            if hasattr(getattr(type(instance), name), "__temporal_activity_definition")]


def _catalog(deps: Dependencies) -> QueueSpec:
    from domains.catalog.activities import CatalogActivities
    from domains.catalog.workflows import ReindexCatalog

    return QueueSpec([ReindexCatalog], activities_of(CatalogActivities(deps.store, deps.index)))


def _inventory(deps: Dependencies) -> QueueSpec:
    from domains.inventory.activities import InventoryActivities
    from domains.inventory.shard_workflow import InventoryShard
    from domains.inventory.workflows import InventoryService

    # the singleton (histories from before the shards, and the rollout) and the shards
    return QueueSpec([InventoryService, InventoryShard],
                     activities_of(InventoryActivities(deps.store, deps.index, deps.client)))


def _cart(deps: Dependencies) -> QueueSpec:
    from domains.cart.activities import CartActivities
    from domains.cart.workflows import CartWorkflow

    return QueueSpec([CartWorkflow], activities_of(CartActivities(deps.store, deps.client)))


def _checkout(deps: Dependencies) -> QueueSpec:
    from domains.checkout.activities import CheckoutActivities
    from domains.checkout.workflows import CheckoutWorkflow

    return QueueSpec([CheckoutWorkflow], activities_of(CheckoutActivities(deps.store, deps.client)))


def _orders(deps: Dependencies) -> QueueSpec:
    from domains.orders.activities import OrderActivities
    from domains.orders.alerts import AlertActivities
    from domains.orders.edit_activities import EditActivities
    from domains.orders.workflows import OrderWorkflow

    if deps.order_index is None:
        raise ValueError("the orders queue needs Dependencies.order_index (it writes the admin's read models)")
    alerts = deps.staff_alerts
    if alerts is None:  # a dispute or a failed payment is emailed through the shop's Django email
        from storefront.payment_alert_email import DjangoStaffAlerts

        alerts = DjangoStaffAlerts(deps.store)
    # Order emails are rendered and sent by the shop's Django channel, as the cadences' are.
    emails = deps.order_email_channel
    if emails is None:
        from storefront.order_email import DjangoOrderEmailChannel

        emails = DjangoOrderEmailChannel(deps.store)
    return QueueSpec([OrderWorkflow], activities_of(OrderActivities(deps.store, deps.order_index, deps.client,
                                                                    emails))
                     + activities_of(AlertActivities(deps.store, alerts))
                     + activities_of(EditActivities(deps.store, deps.client)))


def _returns(deps: Dependencies) -> QueueSpec:
    from domains.returns.activities import ReturnActivities
    from domains.returns.workflows import ReturnWorkflow

    emails = deps.return_email_channel
    if emails is None:  # the expiry email goes through the shop's Django email, as the order's do
        from storefront.return_email import DjangoReturnEmailChannel

        emails = DjangoReturnEmailChannel(deps.store)
    return QueueSpec([ReturnWorkflow], activities_of(ReturnActivities(deps.store, deps.client, emails,
                                                                          deps.order_index)))


def _fulfillment(deps: Dependencies) -> QueueSpec:
    from domains.fulfillment.activities import FulfillmentActivities
    from domains.fulfillment.workflows import FulfillmentWorkflow, SupplierOrderWorkflow

    return QueueSpec([FulfillmentWorkflow, SupplierOrderWorkflow],
                     activities_of(FulfillmentActivities(deps.store, deps.client)))


def _identity(deps: Dependencies) -> QueueSpec:
    from domains.identity.activities import IdentityActivities
    from domains.identity.workflows import ApiTokenWorkflow, ShopperWorkflow, ShopSettingsWorkflow, StaffWorkflow

    return QueueSpec([ShopperWorkflow, StaffWorkflow, ApiTokenWorkflow, ShopSettingsWorkflow],
                     activities_of(IdentityActivities(deps.store)))


def _cadences(deps: Dependencies) -> QueueSpec:
    from domains.cadences.activities import CadenceActivities
    from domains.cadences.workflows import CadenceWorkflow, EnrollmentWorkflow, UnsubscribeWorkflow

    # Emails are rendered and sent by the shop's Django channel (templates, email framework),
    # so this queue's worker loads the storefront's settings; the domain itself never imports Django.
    channel = deps.email_channel
    if channel is None:
        from storefront.cadence_email import DjangoEmailChannel

        channel = DjangoEmailChannel(deps.store)
    return QueueSpec([CadenceWorkflow, EnrollmentWorkflow, UnsubscribeWorkflow],
                     activities_of(CadenceActivities(deps.store, deps.client, channel)))


def _webhooks(deps: Dependencies) -> QueueSpec:
    from domains.webhooks.activities import WebhookActivities
    from domains.webhooks.workflows import DeliveryWorkflow, PruneWorkflow

    notifier = deps.webhook_notifier
    if notifier is None:  # a disabled endpoint's creator is emailed through the shop's Django email
        from storefront.webhook_email import DjangoWebhookNotifier

        notifier = DjangoWebhookNotifier(deps.store)
    return QueueSpec([DeliveryWorkflow, PruneWorkflow], activities_of(WebhookActivities(deps.store, notifier)))


def _queue_name(module: str) -> str:
    from importlib import import_module

    return import_module(f"domains.{module}.queue").TASK_QUEUE


# task queue -> how to build what runs on it
QUEUES: dict[str, Callable[[Dependencies], QueueSpec]] = {
    _queue_name("catalog"): _catalog,
    _queue_name("inventory"): _inventory,
    _queue_name("cart"): _cart,
    _queue_name("checkout"): _checkout,
    _queue_name("orders"): _orders,
    _queue_name("returns"): _returns,
    _queue_name("fulfillment"): _fulfillment,
    _queue_name("identity"): _identity,
    _queue_name("cadences"): _cadences,
    _queue_name("webhooks"): _webhooks,
}
# the web layer lists queues from domains.queues (it does not import workers): they must agree
assert tuple(QUEUES) == ALL_QUEUES, "domains/queues.py and the worker registry list different task queues"
