"""`python manage.py load_catalog [--from FILE] [--if-empty]`: write the catalog and index it.

When an active webhook endpoint takes `product.updated`, each product whose stored content
differs is reported before its rows are written (docs/domains/catalog.md)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from domains.catalog.importer import CatalogError, parse_catalog, read_catalog_file
from domains.catalog.loader import (
    DEFAULT_STOCK,
    Report,
    catalog_loaded,
    index_catalog,
    mark_loaded,
    reindex_from_store,
    seed_stock,
    seed_stock_from_store,
    write_catalog,
)
from domains.webhooks import client as webhooks
from domains.webhooks.messages import Event, EventType
from infra.store import Store, open_store, schema
from infra.temporal import connect
from projections.search import open_index


@contextmanager
def product_reporter(store: Store) -> Iterator[Report | None]:
    """`emit` for the loader's `product.updated` events on a Temporal client of its own; None
    (nothing read, nothing sent) when no active endpoint takes them."""
    if not webhooks.anyone_wants(store, EventType.PRODUCT_UPDATED):
        yield None
        return
    loop = asyncio.new_event_loop()
    try:
        client = loop.run_until_complete(connect(settings.COMMERCE))

        def report(events: list[Event]) -> None:
            loop.run_until_complete(webhooks.emit(client, store, events))

        yield report
    finally:
        loop.close()


class Command(BaseCommand):
    help = "Load the generated catalog (or an export file) into the write store and the search index."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="source", metavar="FILE", help="a catalog export (JSON)")
        parser.add_argument("--seed", type=int, default=2689, help="generator seed (generated catalog only)")
        parser.add_argument("--count", type=int, default=2689, help="products to generate")
        parser.add_argument("--if-empty", action="store_true", help="do nothing when a catalog is already loaded")
        parser.add_argument("--stock", type=int, default=DEFAULT_STOCK,
                            help=f"initial units per new blank SKU (default {DEFAULT_STOCK}); existing stock is kept")

    def handle(self, *args, source=None, seed=2689, count=2689, if_empty=False, stock=DEFAULT_STOCK, **options):
        if stock < 0:
            raise CommandError("--stock cannot be negative")
        started = time.monotonic()
        store = open_store(settings.COMMERCE)
        if if_empty and (loaded := catalog_loaded(store)):
            if not store.scan(schema.STOCK.name, page_size=1)[0]:  # loaded before stock was kept
                self.stdout.write(f"seeded stock for {seed_stock_from_store(store, stock)} blank SKUs")
            index = open_index(settings.COMMERCE)
            if not index.layout_current():  # built by an older version: this one cannot read it
                generation, indexed = reindex_from_store(store, index)
                self.stdout.write(f"rebuilt the search index in its new layout ({indexed} products, {generation})")
            self.stdout.write(f"catalog already loaded ({loaded['products']} products); nothing to do")
            return
        try:
            if source:
                catalog = read_catalog_file(source)
            else:
                from fixtures.generator import generate_catalog

                catalog = parse_catalog(generate_catalog(seed=seed, product_count=count))
        except CatalogError as exc:
            raise CommandError(f"catalog refused, nothing written: {exc}") from None
        index = open_index(settings.COMMERCE)
        quiet = options.get("verbosity", 1) == 0
        with product_reporter(store) as report, \
                tqdm(total=len(catalog.products), desc="store", unit="product", disable=quiet) as bar:
            changed = write_catalog(catalog, store, progress=bar.update, report=report)
        new_skus = seed_stock(store, catalog, stock)
        with tqdm(total=len(catalog.products), desc="index", unit="product", disable=quiet) as bar:
            generation = index_catalog(catalog, index, progress=bar.update)
        mark_loaded(store, catalog)
        self.stdout.write(self.style.SUCCESS(
            f"loaded {len(catalog.products)} products, {len(catalog.variants)} variants, "
            f"{len(catalog.collections)} collections into {store.backend} + {index.backend} "
            f"(index {generation}), {new_skus} new blank SKUs at {stock} units, "
            f"in {time.monotonic() - started:.1f}s"
            + (f"; {changed} changed products reported (product.updated)" if changed else "")
        ))
