"""Records the event histories that the replay test guards: `python -m tests.replay.record`.

Runs the main paths (a checkout that places an order after a declined card, a cancelled
checkout, an abandoned cart, the inventory service across continue-as-new, a reindex)
on a throwaway dev server and writes each workflow's history to `histories/`. Re-record
only when a change is meant to be incompatible (and then guard it with workflow.patched).
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from domains.cart import client as carts
from domains.cart.messages import CartSettings
from domains.catalog.importer import parse_catalog
from domains.orders.messages import Address
from fixtures.generator import generate_catalog

from ..embedded import load_embedded
from ..shop_harness import running_shop

HERE = Path(__file__).resolve().parent / "histories"
ADDRESS = Address(email="replay@example.com", first_name="Re", last_name="Play", address1="1 Main St",
                  city="Portland", state="OR", postal_code="97201", country="US")


async def record() -> None:
    binary = shutil.which("temporal", path=str(Path(sys.executable).parent)) or shutil.which("temporal")
    env = await WorkflowEnvironment.start_local(dev_server_existing_path=binary,
                                                data_converter=pydantic_data_converter)
    tmp = Path(tempfile.mkdtemp())
    catalog = parse_catalog(generate_catalog(seed=3, product_count=40))
    store, index = load_embedded(tmp, catalog, stock=10)
    variants = [v for v in catalog.variants if v.available]
    ids: list[str] = []
    try:
        async with running_shop(env.client, store, index) as shop:
            placed = "replaycartplaced0000000000000000"
            await carts.add_item(env.client, placed, variants[0].id, 2)
            await carts.add_item(env.client, placed, variants[1].id, 1)
            await carts.begin_checkout(env.client, placed)
            await carts.set_shipping(env.client, placed, ADDRESS)
            await carts.set_payment(env.client, placed, "tok_declined")
            await carts.submit(env.client, placed)
            await carts.set_payment(env.client, placed, "tok_flaky")
            view = await carts.submit(env.client, placed)
            ids += [f"cart-{placed}", f"checkout-{placed}-1", f"order-{view.order_id}"]

            cancelled = "replaycartcancelled00000000000000"[:32]
            await carts.add_item(env.client, cancelled, variants[2].id, 1)
            await carts.begin_checkout(env.client, cancelled)
            await carts.cancel_checkout(env.client, cancelled)
            ids.append(f"checkout-{cancelled}-1")

            abandoned = "replaycartabandoned0000000000000"[:32]
            await carts.add_item(env.client, abandoned, variants[3].id, 1, settings=CartSettings(idle_seconds=1))
            await env.client.get_workflow_handle(f"cart-{abandoned}").result()
            ids.append(f"cart-{abandoned}")
            await asyncio.sleep(2)  # let the cart learn the outcomes, the inventory flush
            ids.append(shop.inventory["workflow_id"])
        HERE.mkdir(exist_ok=True)
        for old in HERE.glob("*.json"):
            old.unlink()
        for workflow_id in ids:
            history = await env.client.get_workflow_handle(workflow_id).fetch_history()
            name = workflow_id.split("-")[0] + "-" + str(len(list(HERE.glob(workflow_id.split("-")[0] + "*"))))
            (HERE / f"{name}.json").write_text(history.to_json())
            print(f"recorded {workflow_id} -> {name}.json ({len(history.events)} events)")
    finally:
        await env.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(record())
