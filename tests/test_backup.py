"""`manage.py backup create|restore` (docs/backup.md): a backup taken while the shop runs,
restored into a wiped data folder, brings back its open carts and running orders; and the
restore's refusals."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import os
import shutil
import socket
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from domains.cart import client as carts
from domains.orders import client as orders
from domains.orders.activities import supplier_slug
from domains.orders.messages import OrderStatus
from infra.payload_codec import new_keyring_text
from infra.store import schema
from infra.store.sqlite import SqliteStore
from projections.orders import OrderQuery
from projections.orders.sqlite_index import SqliteOrderIndex
from projections.search.sqlite_fts import SqliteProductIndex

from .cart.test_checkout_workflow import ADDRESS
from .embedded import load_embedded
from .servers import start_dev_server
from .shop_harness import running_shop

DEAD_ADDRESS = "127.0.0.1:9"  # the discard port: nothing answers there


@contextmanager
def shop_config(data: Path, **changes):
    """The management commands see the embedded stack in `data`."""
    previous = settings.COMMERCE
    settings.COMMERCE = dataclasses.replace(previous, data_dir=data, store_backend="sqlite", search_backend="sqlite",
                                            **{"temporal_address": DEAD_ADDRESS, **changes})
    try:
        yield settings.COMMERCE
    finally:
        settings.COMMERCE = previous


def backup(*args: str) -> tuple[int, dict]:
    """Runs `manage.py backup ... --json`: (exit code, the JSON it printed)."""
    out = io.StringIO()
    try:
        call_command("backup", *args, "--json", stdout=out)
        code = 0
    except CommandError as exc:
        code = exc.returncode
    return code, json.loads(out.getvalue())


async def place_order(client, variant_id: str) -> str:
    cart_id = uuid.uuid4().hex[:16]
    await carts.add_item(client, cart_id, variant_id, 1)
    await carts.begin_checkout(client, cart_id)
    await carts.set_shipping(client, cart_id, ADDRESS)
    await carts.set_payment(client, cart_id, "tok_success")
    checkout = await carts.submit(client, cart_id)
    assert checkout.order_id, checkout.error
    return checkout.order_id


async def keep_shopping(client, variant_id: str, going: asyncio.Event, stop: asyncio.Event) -> str:
    """Adds a line and takes it out again (`going` once the cart exists) until `stop`; returns the cart's id."""
    cart_id = uuid.uuid4().hex[:16]
    while True:
        cart = await carts.add_item(client, cart_id, variant_id, 1)
        await carts.remove_line(client, cart_id, cart.lines[0].id)
        going.set()
        if stop.is_set():
            return cart_id


def open_data(data: Path):
    return (SqliteStore(data / "store.sqlite3"), SqliteProductIndex(data / "search.sqlite3"),
            SqliteOrderIndex(data / "orders_index.sqlite3"))


async def test_a_restored_backup_brings_back_open_carts_and_running_orders(tmp_path, small_catalog):
    data, saved = tmp_path / "var", tmp_path / "backup-1"
    store, index = load_embedded(data, small_catalog, stock=20)
    order_index = SqliteOrderIndex(data / "orders_index.sqlite3")
    brand_of = {p.id: p.brand for p in small_catalog.products}
    ordered, carted = [v for v in small_catalog.variants if v.available][:2]
    for variant in (ordered, carted):  # a clerk ships by hand: the order waits, still cancellable
        store.put(schema.SUPPLIER_ROUTES.name, {"shop": schema.SHOP, "brand": brand_of[variant.product_id],
                                                "supplier": supplier_slug(brand_of[variant.product_id]),
                                                "strategy": "manual", "behaviour": "accept"})
    open_cart = uuid.uuid4().hex[:16]

    env = await start_dev_server(db_file=data / "temporal.sqlite")
    try:
        address = env.client.service_client.config.target_host
        async with running_shop(env.client, store, index, order_index):
            order_id = await place_order(env.client, ordered.id)
            await carts.add_item(env.client, open_cart, carted.id, 2)
            for _ in range(100):  # routed to its supplier: the order's workflow has saved once
                view = await orders.get_order(env.client, store, order_id)
                if view.supplier_orders:
                    break
                await asyncio.sleep(0.1)
            going, stop = asyncio.Event(), asyncio.Event()
            busy = asyncio.create_task(keep_shopping(env.client, carted.id, going, stop))  # writes during the copy
            await going.wait()
            with shop_config(data, temporal_address=address):
                code, made = await asyncio.to_thread(backup, "create", str(saved))  # workers and server running
                assert code == 0, made
                stop.set()
                busy_cart = await busy
                refused = await asyncio.to_thread(backup, "restore", str(saved))
        assert refused == (3, {"error": "shop_running", "message": refused[1]["message"]})
    finally:
        await env.shutdown()
    assert {f["name"] for f in made["files"]} == {"store.sqlite3", "temporal.sqlite"}  # keys: in the environment
    assert made["codec_keys_from"] == "environment" and made["codec_key_ids"] == ["test-b", "test-a"]
    assert next(f for f in made["files"] if f["name"] == "store.sqlite3")["tables"]["orders"] == 1

    for closing in (order_index, index, store):
        closing.close()
    shutil.rmtree(data)  # the machine is gone
    with shop_config(data):
        code, restored = backup("restore", str(saved))
    assert code == 0, restored
    assert restored["rebuilt"]["orders"] == 1
    assert restored["rebuilt"]["products"] == len(small_catalog.products)

    store, index, order_index = open_data(data)
    env = await start_dev_server(db_file=data / "temporal.sqlite")  # a new server on the restored file
    try:
        async with running_shop(env.client, store, index, order_index):
            await carts.get_cart(env.client, busy_cart)  # busy while the copy ran: it answers all the same
            cart = await carts.get_cart(env.client, open_cart)  # the cart's workflow answers, with its lines
            assert [(li.variant_id, li.quantity) for li in cart.lines] == [(carted.id, 2)]
            await carts.begin_checkout(env.client, open_cart)
            await carts.set_shipping(env.client, open_cart, ADDRESS)
            await carts.set_payment(env.client, open_cart, "tok_success")
            placed = await carts.submit(env.client, open_cart)
            assert placed.order_id, placed.error

            row = store.get(schema.ORDERS.name, {"order_id": order_id})
            assert row is not None
            found = order_index.search_orders(OrderQuery(text=row["confirmation_code"]))
            assert [d.order_id for d in found.hits] == [order_id]  # the admin's order list finds it
            assert index.count() == len(small_catalog.products)  # the shop's search answers again

            cancelled = await orders.cancel(env.client, order_id, "staff:sam@example.com", "after the restore")
            assert cancelled.status == OrderStatus.CANCELLED  # its workflow went on from the backup
            for _ in range(100):  # and its next save reaches the rebuilt index
                if order_index.get_order(order_id).status == OrderStatus.CANCELLED:
                    break
                await asyncio.sleep(0.1)
            assert order_index.get_order(order_id).status == OrderStatus.CANCELLED
            await env.client.get_workflow_handle(f"order-{placed.order_id}").terminate("test over")
    finally:
        await env.shutdown()
        for closing in (order_index, index, store):
            closing.close()

    # an order index lost on its own comes back from the store with `reindex --orders`
    (data / "orders_index.sqlite3").unlink()
    with shop_config(data):
        call_command("reindex", "--orders", stdout=io.StringIO())
    order_index = SqliteOrderIndex(data / "orders_index.sqlite3")
    found = order_index.search_orders(OrderQuery())
    assert {d.order_id for d in found.hits} == {order_id, placed.order_id}
    assert order_index.get_order(order_id).status == OrderStatus.CANCELLED
    order_index.close()


# --- refusals (no Temporal server needed) -------------------------------------------------------

@pytest.fixture
def small_backup(tmp_path, small_catalog):
    """A backup of a data folder with a store, a Temporal file and its own codec key file."""
    data = tmp_path / "var"
    store, index = load_embedded(data, small_catalog)
    store.close()
    index.close()
    (data / "temporal.sqlite").write_bytes(b"")  # an empty SQLite database is an empty file
    (data / "codec-keys").write_text(new_keyring_text() + "\n")
    (data / "secret_key").write_text("a-dev-secret")
    os.chmod(data / "codec-keys", 0o600)
    with shop_config(data, codec_keys=""):
        code, made = backup("create", str(tmp_path / "b"))
    assert code == 0, made
    return tmp_path / "b", made


def test_the_key_file_is_backed_up_apart_owner_only_and_its_key_ids_recorded(small_backup, tmp_path):
    folder, made = small_backup
    assert made["codec_keys_from"] == "key_file" and len(made["codec_key_ids"]) == 1
    keys = tmp_path / "b-keys"
    assert not (folder / "codec-keys").exists()  # not beside Temporal's database (docs/security.md)
    assert (keys / "codec-keys").read_text() == (tmp_path / "var" / "codec-keys").read_text()
    assert (keys / "codec-keys").stat().st_mode & 0o777 == 0o600
    assert folder.stat().st_mode & 0o777 == keys.stat().st_mode & 0o777 == 0o700


def test_restore_refuses_to_replace_existing_data_unless_forced(small_backup, tmp_path):
    folder, _ = small_backup
    with shop_config(tmp_path / "var", codec_keys=""):
        code, out = backup("restore", str(folder))
        assert (code, out["error"]) == (3, "data_present")
        (tmp_path / "b-keys" / "secret_key").unlink()  # kept elsewhere, or lost: the rest still restores
        code, out = backup("restore", str(folder), "--force")
    assert code == 0, out
    assert {r["name"] for r in out["restored"]} == {"store.sqlite3", "temporal.sqlite", "codec-keys"}
    assert out["not_found"] == ["secret_key"]


def test_restore_refuses_while_a_temporal_server_answers(small_backup, tmp_path):
    folder, _ = small_backup
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        port = listening.getsockname()[1]
        with shop_config(tmp_path / "new", codec_keys="", temporal_address=f"127.0.0.1:{port}"):
            code, out = backup("restore", str(folder))
    assert (code, out["error"]) == (3, "shop_running")
    assert not (tmp_path / "new" / "store.sqlite3").exists()


def test_restore_refuses_a_damaged_backup_and_one_whose_codec_keys_are_missing(small_backup, tmp_path):
    folder, _ = small_backup
    with shop_config(tmp_path / "new"):  # COMMERCE_CODEC_KEYS is the tests' keys, not the backup's
        code, out = backup("restore", str(folder))
    assert (code, out["error"]) == (2, "codec_keys_missing")
    (tmp_path / "b-keys").rename(tmp_path / "elsewhere")
    with shop_config(tmp_path / "new", codec_keys=""):  # the keys folder is not where the backup is
        code, out = backup("restore", str(folder))
        assert (code, out["error"]) == (2, "codec_keys_missing")
        code, out = backup("restore", str(folder), "--keys-from", str(tmp_path / "elsewhere"))
    assert code == 0, out
    assert (tmp_path / "new" / "codec-keys").read_text() == (tmp_path / "var" / "codec-keys").read_text()
    shutil.rmtree(tmp_path / "new")
    with (folder / "store.sqlite3").open("r+b") as f:
        f.seek(200)
        f.write(b"\xff")
    with shop_config(tmp_path / "new", codec_keys=""):
        code, out = backup("restore", str(folder))
    assert (code, out["error"]) == (2, "invalid_backup") and "checksum" in out["message"]
    assert not (tmp_path / "new" / "store.sqlite3").exists()


def test_create_refuses_a_folder_in_use_and_a_missing_temporal_file(small_backup, tmp_path):
    folder, _ = small_backup
    with shop_config(tmp_path / "var", codec_keys=""):
        assert backup("create", str(folder))[1]["error"] == "destination_not_empty"
        (tmp_path / "var" / "temporal.sqlite").unlink()
        assert backup("create", str(tmp_path / "c"))[1]["error"] == "no_temporal_state"
        code, out = backup("create", str(tmp_path / "c"), "--without-temporal")
    assert code == 0 and "temporal.sqlite" not in {f["name"] for f in out["files"]}
