"""Records the event histories that the replay test guards: `python -m tests.replay.record`.

Runs the main paths under the default payment flow (authorize at placement, capture as
supplier orders ship, order emails: a checkout that places an order after a declined card, a cancelled
checkout, an abandoned cart, orders delivered / refunded / cancelled / fulfilled by hand /
partly rejected by a dropship supplier with their fulfillment trees, the inventory service,
identity's shopper, staff, token and settings workflows, a cadence edited while an
enrollment walks it, paused and resumed, and an unsubscribe)
on a throwaway dev server and writes each workflow's history to `histories/`. Re-record
only when a change is meant to be incompatible (and then guard it with workflow.patched),
after copying the released recordings into a folder of their own (as `before-identity/`), so
the replay test keeps proving that workflows running from that release carry on.
Payloads are sealed with the tests' fixed keys (tests/servers.py: TEST_CODEC_KEYS), which the
replay test uses too; the recordings made before the codec are plain and replay as they are.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

from domains.cart import client as carts
from domains.cart.messages import CarriedTerms, CartSettings
from domains.cart.reads import shop_terms, variant_info
from domains.catalog.importer import parse_catalog
from domains.fulfillment import client as fulfillment
from domains.inventory import client as inventory
from domains.inventory.ids import shard_workflow_id
from domains.orders import client as orders
from domains.orders.messages import OrderStatus
from domains.shared import Address
from fixtures.generator import generate_catalog
from infra.store import schema

from ..embedded import load_embedded
from ..servers import start_dev_server
from ..shop_harness import running_shop

HERE = Path(__file__).resolve().parent / "histories"
ADDRESS = Address(email="replay@example.com", first_name="Re", last_name="Play", address1="1 Main St",
                  city="Portland", state="OR", postal_code="97201", country="US")


async def _place(env, shop, variants, token: str = "tok_success") -> str:
    cart_id = shop.new_cart_id()
    for variant in variants:
        await carts.add_item(env.client, cart_id, variant.id, 1)
    await carts.begin_checkout(env.client, cart_id)
    await carts.set_shipping(env.client, cart_id, ADDRESS)
    await carts.set_payment(env.client, cart_id, token)
    return (await carts.submit(env.client, cart_id)).order_id


async def _until(env, store, order_id: str, predicate) -> None:
    for _ in range(300):
        if predicate(await orders.get_order(env.client, store, order_id)):
            return
        await asyncio.sleep(0.2)
    raise RuntimeError(f"order {order_id} did not get there")


async def _order_paths(env, shop, store, catalog) -> list[str]:
    """Delivered then refunded in part; cancelled in production; manual by signals; a
    dropship rejection. Returns the order, fulfillment and supplier-order workflow ids."""
    brand_of = {p.id: p.brand for p in catalog.products}
    by_brand: dict[str, list] = {}
    for v in catalog.variants:
        if v.available:
            by_brand.setdefault(brand_of[v.product_id], []).append(v)
    (_, vs_a), (brand_b, vs_b) = sorted(by_brand.items())[:2]
    store.put(schema.SETTINGS.name, {"name": "fulfillment", "value": {"stage_seconds": 1}})
    store.put(schema.SETTINGS.name, {"name": "orders", "value": {"flush_delay_seconds": 0.2}})

    delivered = await _place(env, shop, [vs_a[0], vs_b[0]])
    await _until(env, store, delivered, lambda v: v.status == OrderStatus.DELIVERED)
    await orders.add_note(env.client, delivered, "staff:replay@example.com", "gift wrap")
    await orders.leave_feedback(env.client, delivered, f"guest:{ADDRESS.email}", 5, "great")
    await orders.refund(env.client, delivered, "staff:replay@example.com", lines={vs_a[0].id: 1}, restock=True)

    store.put(schema.SETTINGS.name, {"name": "fulfillment", "value": {"stage_seconds": 3600}})
    cancelled = await _place(env, shop, [vs_a[1]])
    await _until(env, store, cancelled, lambda v: v.supplier_orders and v.supplier_orders[0].status == "in_production")
    await orders.cancel(env.client, cancelled, "staff:replay@example.com", "changed their mind")
    await _until(env, store, cancelled, lambda v: not v.live)

    store.put(schema.SETTINGS.name, {"name": "fulfillment", "value": {"manual": True}})
    manual = await _place(env, shop, [vs_b[1]])
    await _until(env, store, manual, lambda v: v.supplier_orders and v.supplier_orders[0].strategy == "manual")
    for stage in ("in_production", "shipped", "delivered"):
        await fulfillment.advance(env.client, manual, stage, actor="cli:replay")
        await _until(env, store, manual, lambda v, stage=stage: v.supplier_orders[0].status == stage)

    store.put(schema.SETTINGS.name, {"name": "fulfillment", "value": {"stage_seconds": 1}})
    store.put(schema.SUPPLIER_ROUTES.name, {"shop": schema.SHOP, "brand": brand_b, "supplier": "refuser",
                                            "strategy": "dropship", "behaviour": "reject"})
    rejected = await _place(env, shop, [vs_a[2], vs_b[2]])
    await _until(env, store, rejected, lambda v: v.status == OrderStatus.DELIVERED)
    await asyncio.sleep(1)

    ids = []
    for order_id in (delivered, cancelled, manual, rejected):
        view = await orders.get_order(env.client, store, order_id)
        ids += [f"order-{order_id}", f"fulfillment-{order_id}"]
        ids += [f"supplier-order-{so.supplier_order_id}" for so in view.supplier_orders]
    return ids


async def _identity_paths(env, shop) -> list[str]:
    """A shopper (sign-up, a failed and a good sign-in, an address, a password reset), a staff
    user (created, role changed), an API token (used, revoked) and a settings change."""
    from datetime import UTC, datetime

    from domains.identity import client as identity
    from domains.identity.ids import SETTINGS_WORKFLOW_ID
    from domains.identity.messages import SaveAddress
    from domains.identity.roles import Role, Scope
    from domains.identity.shop_settings import ShopSettings

    shopper = await identity.sign_up(env.client, "replay-shopper@example.com", "Re Play", "hash-1")
    await identity.record_shopper_sign_in(env.client, shopper.shopper_id, False)
    await identity.record_shopper_sign_in(env.client, shopper.shopper_id, True)
    await identity.save_address(env.client, shopper.shopper_id, SaveAddress(label="home", address=ADDRESS))
    token = await identity.request_password_reset(env.client, shopper.shopper_id)
    await identity.reset_password(env.client, shopper.shopper_id, token, "hash-2")
    owner = await identity.create_staff(env.client, "replay-owner@example.com", Role.OWNER, "h", "cli:replay")
    staff = await identity.create_staff(env.client, "replay-staff@example.com", Role.SUPPORT, "h",
                                        f"staff:{owner.email}")
    await identity.change_role(env.client, shop.store, staff.staff_id, Role.FULFILLMENT, f"staff:{owner.email}")
    record, _ = await identity.create_token(env.client, "replay", [Scope.ORDERS_READ], f"staff:{owner.email}")
    await identity.token_used(env.client, record.token_id, datetime.now(UTC))
    await asyncio.sleep(1)
    await identity.revoke_token(env.client, record.token_id, f"staff:{owner.email}")
    await identity.change_settings(env.client, shop.store, ShopSettings(shop_name="Replay"), f"staff:{owner.email}")
    return [f"shopper-{shopper.shopper_id}", f"staff-{staff.staff_id}", f"api-token-{record.token_id}",
            SETTINGS_WORKFLOW_ID]


async def _cadence_paths(env, shop) -> list[str]:
    """A cadence saved twice (the second version reaching a running enrollment), an enrollment
    that is paused, resumed, takes the new steps and completes, and an unsubscribe that ends
    another enrollment."""
    from domains.cadences import client as cadences
    from domains.cadences.ids import definition_workflow_id, enrollment_workflow_id, unsubscribe_workflow_id
    from domains.cadences.messages import ApplyTo, EnrollmentStatus, SaveCadence
    from domains.cadences.steps import Step, StepType
    from domains.cadences.workflows import EnrollmentWorkflow

    steps = [Step(type=StepType.SEND_EMAIL, template="welcome", subject="Hello {{ name }}"),
             Step(type=StepType.WAIT, seconds=4), Step(type=StepType.SEND_EMAIL, template="follow_up", subject="Two")]
    saved = await cadences.save_cadence(env.client, SaveCadence(name="Replay", steps=steps, actor="cli:replay"))
    cadence = saved.definition
    walker = cadences.contact_of("replay-walker@example.com", "Walker")
    leaver = cadences.contact_of("replay-leaver@example.com", "Leaver")
    for contact in (walker, leaver):
        await cadences.enroll(env.client, shop.store, cadence.cadence_id, contact, actor="cli:replay")
    await asyncio.sleep(1.5)
    await cadences.pause(env.client, cadence.cadence_id, walker.contact_id, "cli:replay")
    await cadences.resume(env.client, cadence.cadence_id, walker.contact_id, "cli:replay")
    edited = [*cadence.steps[:1], cadence.steps[1].model_copy(update={"seconds": 2}), *cadence.steps[2:],
              Step(type=StepType.SEND_EMAIL, template="follow_up", subject="Three")]
    await cadences.save_cadence(env.client, SaveCadence(name="Replay", steps=edited, apply_to=ApplyTo.RUNNING,
                                                        actor="cli:replay"),
                                cadence_id=cadence.cadence_id)
    await cadences.unsubscribe(env.client, leaver.email, "replay")
    walking = env.client.get_workflow_handle(enrollment_workflow_id(cadence.cadence_id, walker.contact_id))
    for _ in range(100):
        if (await walking.query(EnrollmentWorkflow.view)).status == EnrollmentStatus.COMPLETED:
            break
        await asyncio.sleep(0.2)
    await asyncio.sleep(6)  # the edit's second sweep and the unsubscribe's second sweep
    return [definition_workflow_id(cadence.cadence_id), walking.id,
            enrollment_workflow_id(cadence.cadence_id, leaver.contact_id), unsubscribe_workflow_id(leaver.contact_id)]


async def _started_shards(client) -> list[str]:
    """The inventory shards the paths above started (a shop starts a shard on first use)."""
    from temporalio.service import RPCError

    started = []
    for k in range(inventory.shards()):
        try:
            await client.get_workflow_handle(shard_workflow_id(k)).describe()
        except RPCError:
            continue
        started.append(shard_workflow_id(k))
    return started


async def record() -> None:
    import os

    env = await start_dev_server()
    tmp = Path(tempfile.mkdtemp())
    os.environ["COMMERCE_MAIL_DIR"] = str(tmp / "mail")  # the cadences' emails, not into the repo's var/
    catalog = parse_catalog(generate_catalog(seed=3, product_count=40))
    store, index = load_embedded(tmp, catalog, stock=10)
    variants = [v for v in catalog.variants if v.available]
    ids: list[str] = []
    try:
        async with running_shop(env.client, store, index) as shop:
            placed = "replaycartplaced0000000000000000"
            # as the web layer adds (storefront/api/cart.py): variant and terms carried, the new
            # cart's stock held before it starts and the hold carried in
            terms = CarriedTerms(terms=shop_terms(store))
            await carts.start_with_item(env.client, placed, variant_info(store, variants[0].id), 2, shop=terms)
            await carts.add_item(env.client, placed, variants[1].id, 1, variant=variant_info(store, variants[1].id),
                                 shop=terms)
            await carts.begin_checkout(env.client, placed)
            await carts.set_shipping(env.client, placed, ADDRESS)
            await carts.set_payment(env.client, placed, "tok_declined")
            await carts.submit(env.client, placed)
            await carts.set_payment(env.client, placed, "tok_flaky")
            await carts.submit(env.client, placed)
            ids += [f"cart-{placed}", f"checkout-{placed}-1"]

            cancelled = "replaycartcancelled00000000000000"[:32]
            await carts.add_item(env.client, cancelled, variants[2].id, 1)
            await carts.begin_checkout(env.client, cancelled)
            await carts.cancel_checkout(env.client, cancelled)
            ids.append(f"checkout-{cancelled}-1")

            abandoned = "replaycartabandoned0000000000000"[:32]
            await carts.add_item(env.client, abandoned, variants[3].id, 1, settings=CartSettings(idle_seconds=1))
            await env.client.get_workflow_handle(f"cart-{abandoned}").result()
            ids.append(f"cart-{abandoned}")

            ids += await _order_paths(env, shop, store, catalog)
            ids += await _identity_paths(env, shop)
            ids += await _cadence_paths(env, shop)

            # a signed-in shopper's cart abandoned: the cart asks cadences to enroll the shopper
            shopper_id = next(i for i in ids if i.startswith("shopper-")).removeprefix("shopper-")
            left = "replaycartshopperleft00000000000"[:32]
            await carts.add_item(env.client, left, variants[4].id, 1, settings=CartSettings(idle_seconds=2))
            await carts.attach_shopper(env.client, left, shopper_id)
            await env.client.get_workflow_handle(f"cart-{left}").result()
            ids.append(f"cart-{left}")
            await asyncio.sleep(2)  # let the cart learn the outcomes, the inventory flush
            ids += await _started_shards(env.client)
        HERE.mkdir(exist_ok=True)
        for old in HERE.glob("*.json"):
            old.unlink()
        for workflow_id in ids:
            history = await env.client.get_workflow_handle(workflow_id).fetch_history()
            kind = next((k for prefix, k in (("supplier-order", "supplier_order"), ("api-token", "api_token"),
                                             ("shop-settings", "shop_settings"),
                                             ("cadence-definition", "cadence_definition"),
                                             ("cadence-unsubscribe", "cadence_unsubscribe"),
                                             ("cadence-", "enrollment")) if workflow_id.startswith(prefix)),
                        workflow_id.split("-")[0])
            name = f"{kind}-{len(list(HERE.glob(kind + '-*.json')))}"
            (HERE / f"{name}.json").write_text(history.to_json())
            print(f"recorded {workflow_id} -> {name}.json ({len(history.events)} events)")
    finally:
        await env.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(record())
