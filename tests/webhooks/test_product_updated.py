"""`product.updated`: `load_catalog` with a changed product reports it once, signed, to a real
receiver; the same load again reports nothing; a product changed back is a new change. Without
the Temporal server: a new product or an unchanged one is not reported, a row saved before
hashes were kept is compared by its content (on both stores)."""

from __future__ import annotations

import asyncio
import io
import json

from django.core.management import call_command

from domains.catalog.importer import parse_catalog
from domains.catalog.loader import write_catalog
from domains.catalog.product_events import product_changes
from domains.webhooks import client as webhooks
from fixtures.generator import generate_catalog
from infra.store import schema

from ..conftest import SMALL_CATALOG
from ..web_fixtures import django_pointed_at
from .test_delivery import until


async def load(path) -> str:
    out = io.StringIO()
    await asyncio.to_thread(call_command, "load_catalog", "--from", str(path), verbosity=0, stdout=out)
    return out.getvalue()


def product_events(receiver) -> list[dict]:
    with receiver.lock:
        return [r.body for r in receiver.accepted if r.body["type"] == "product.updated"]


async def test_a_changed_product_is_reported_once_and_a_repeated_load_reports_nothing(webhook_shop, receiver,
                                                                                       tmp_path):
    shop = webhook_shop
    made = webhooks.register_endpoint(shop.store, receiver.url, ["product.updated"], created_by="staff:o@shop.test")
    receiver.secret = made.secret
    export = generate_catalog(seed=7, product_count=SMALL_CATALOG)  # what the shop holds (small_catalog)
    product = export["products"][3]
    product["base_price_amount"] += 500
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(export))

    with django_pointed_at(shop, tmp_path):
        assert "1 changed products reported" in await load(changed)
        [body] = await until(lambda: product_events(receiver), what="product.updated delivered")
        data = body["data"]
        assert data["product_id"] == product["id"] and data["changed"] == ["price_amount"]
        assert data["price_amount"] == product["base_price_amount"] and data["version"] == 1
        assert data["variants"] and body["version"] == 1
        first_id = body["id"]

        assert "reported" not in await load(changed)  # the same load again: nothing changed
        await asyncio.sleep(1)
        assert len(product_events(receiver)) == 1

        product["base_price_amount"] -= 500  # back to the first price: a change of its own
        changed.write_text(json.dumps(export))
        await load(changed)
        await until(lambda: len(product_events(receiver)) == 2, what="the second change delivered")
    second = product_events(receiver)[1]
    assert second["id"] != first_id and second["data"]["version"] == 2
    assert receiver.bad_signatures == 0
    stored = [r for r in shop.store.scan(schema.WEBHOOK_EVENTS.name, page_size=1000)[0]
              if r["type"] == "product.updated"]
    assert len(stored) == 2


def test_only_stored_products_with_other_content_are_reported(store, small_catalog):  # SQLite and Cassandra
    few = small_catalog.model_copy(update={"products": small_catalog.products[:3]})
    write_catalog(few, store)
    by_product = small_catalog.variants_by_product()
    assert product_changes(store, small_catalog.products[:4], by_product) == []  # same three, one new

    renamed = small_catalog.products[1].model_copy(update={"name": "Renamed tee"})
    store.put(schema.PRODUCTS.name, {"id": renamed.id, "content_hash": None})  # saved before hashes were kept
    [change] = product_changes(store, [small_catalog.products[0], renamed], by_product)
    assert change.product_id == renamed.id and change.event.envelope.data["changed"] == ["name"]
    assert change.event.ordering_key == renamed.id

    fewer_variants = {**by_product, renamed.id: by_product[renamed.id][:1]}
    [change] = product_changes(store, [renamed], fewer_variants)
    assert change.event.envelope.data["changed"] == ["name", "variants"]

    reported: list = []
    changed_catalog = parse_catalog(generate_catalog(seed=7, product_count=3))
    changed_catalog.products[2] = changed_catalog.products[2].model_copy(update={"price_amount": 1})
    assert write_catalog(changed_catalog, store, report=reported.extend) == 1
    assert write_catalog(changed_catalog, store, report=reported.extend) == 0
    assert [e.envelope.data["product_id"] for e in reported] == [changed_catalog.products[2].id]
    assert store.get(schema.PRODUCTS.name, {"id": changed_catalog.products[2].id})["version"] == 1
