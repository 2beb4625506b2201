"""`python manage.py reindex`: rebuild the search index from the store, as a Temporal workflow.

`reindex --orders`: rebuild the order index (the admin's order lists) from the store instead,
in this process: for an order index lost or moved to a new Elasticsearch (docs/backup.md).
Documents of orders saved since keep their newer version."""

from __future__ import annotations

import asyncio

from django.conf import settings
from django.core.management.base import BaseCommand
from tqdm import tqdm

from domains.catalog.client import reindex_status, start_reindex
from domains.catalog.messages import ReindexInput, ReindexStage
from domains.orders.projection import rebuild_order_index
from infra.store import open_store
from infra.temporal import connect
from projections.orders import open_order_index


class Command(BaseCommand):
    help = "Rebuild the product index aside from the write store, then switch readers to it."

    def add_arguments(self, parser):
        parser.add_argument("--page-size", type=int, default=200)
        parser.add_argument("--no-wait", action="store_true", help="start it and return")
        parser.add_argument("--orders", action="store_true",
                            help="rebuild the order index from the store instead (no workflow)")

    def handle(self, *args, page_size=200, no_wait=False, orders=False, **options):
        if orders:
            return self._orders(page_size)
        asyncio.run(self._run(page_size, no_wait, options.get("verbosity", 1) == 0))

    def _orders(self, page_size: int) -> None:
        store, order_index = open_store(settings.COMMERCE), open_order_index(settings.COMMERCE)
        try:
            done = rebuild_order_index(store, order_index, page_size=page_size)
        finally:
            order_index.close()
            store.close()
        self.stdout.write(self.style.SUCCESS(f"projected {done} orders and their returns from the store "
                                             "into the order index"))

    async def _run(self, page_size: int, no_wait: bool, quiet: bool) -> None:
        client = await connect(settings.COMMERCE)
        handle = await start_reindex(client, ReindexInput(page_size=page_size))
        self.stdout.write(f"reindex workflow {handle.id} (run {handle.result_run_id}) started")
        if no_wait:
            return
        result = asyncio.ensure_future(handle.result())
        with tqdm(desc="reindex", unit="product", disable=quiet) as bar:
            while not result.done():
                status = await reindex_status(client, handle)
                if status:
                    bar.total = status.total
                    bar.n = status.indexed
                    bar.set_postfix_str(status.stage)
                    bar.refresh()
                await asyncio.wait([result], timeout=0.5)
        final = result.result()
        bar_note = f", resumed once from {final.resumed_from}" if final.resumed_from else ""
        assert final.stage == ReindexStage.DONE
        self.stdout.write(self.style.SUCCESS(
            f"indexed {final.indexed} products into {final.generation}{bar_note}; readers switched"))
