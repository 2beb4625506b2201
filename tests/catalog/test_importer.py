"""Importing a catalog export: normalisation, validation, and nothing half-written."""

from __future__ import annotations

import copy
import dataclasses
import json

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from domains.catalog.importer import CatalogError, parse_catalog, to_cents
from domains.catalog.options import option_kind, size_rank
from fixtures.generator import generate_catalog
from infra.config import load_config
from infra.store.sqlite import SqliteStore
from projections.search import SearchQuery, SearchUnavailable
from projections.search.sqlite_fts import SqliteProductIndex


@pytest.fixture(scope="module")
def export():
    return generate_catalog(seed=11, product_count=30)


def test_the_generated_export_imports_whole(export):
    catalog = parse_catalog(export)
    assert len(catalog.products) == 30
    assert len(catalog.variants) == len(export["variants"])
    assert {c.id for c in catalog.collections} == {c["id"] for c in export["collections"]}


@pytest.mark.parametrize("name, kind", [
    ("Color", "color"), ("Colors", "color"), ("Hoodie Colors", "color"), ("T-Shirt Colours", "color"),
    ("Size", "size"), ("Sizes", "size"), ("Clothing sizes", "size"), ("Material", None),
])
def test_option_type_names_are_normalised(name, kind):
    assert option_kind(name) == kind


def test_variants_with_other_option_names_import_the_same(export):
    renamed = copy.deepcopy(export)
    for i, v in enumerate(renamed["variants"]):
        for option in v["options"]:
            option["option_type"] = {"Color": ["Colors", "Shirt Colors"][i % 2],
                                     "Size": ["Sizes", "Clothing sizes"][i % 2]}[option["option_type"]]
    a, b = parse_catalog(export), parse_catalog(renamed)
    assert [(v.color, v.size, v.color_hex) for v in a.variants] == [(v.color, v.size, v.color_hex) for v in b.variants]


def test_prices_as_cents_or_decimal_major_units():
    assert to_cents(2499) == 2499
    assert to_cents("24.99") == 2499
    assert to_cents(24.5) == 2450
    with pytest.raises(ValueError):
        to_cents("24.999")
    with pytest.raises(ValueError):
        to_cents(-1)


def test_outside_image_hosts_are_replaced_by_local_images(export):
    data = copy.deepcopy(export)
    data["variants"][0]["images"] = {"front": "https://cdn.example.com/a.png", "back": None}
    data["products"][0]["default_variant_image_url"] = "https://cdn.example.com/a.png"
    catalog = parse_catalog(data)
    v = catalog.variants[0]
    assert v.image_front.startswith("/shop/img/") and v.image_back.startswith("/shop/img/")
    assert catalog.products[0].image_url.startswith("/shop/img/")


def test_sizes_rank_in_garment_order():
    assert [s for s in sorted(["XL", "S", "2XL", "M", "XS", "L"], key=size_rank)] == ["XS", "S", "M", "L", "XL", "2XL"]
    assert size_rank("XXL") == size_rank("2XL")


def _other_shop(kinds: list[tuple[str, str, str, list[str]]]) -> dict:
    """An export from another shop: (type, brand, model, sizes) per product, pictures on its CDN."""
    products, variants = [], []
    for n, (kind, brand, model, sizes) in enumerate(kinds, 1):
        products.append({"id": f"p{n}", "type": kind, "name": f"Thing {n}", "base_price_amount": "19.00",
                         "base_price_currency": "USD", "blank_brand": brand, "blank_model": model,
                         "collection_ids": []})
        for size in sizes:
            variants.append({
                "id": f"p{n}-{size}", "blank_sku": f"SKU-{n}-{size}", "product_id": f"p{n}",
                "price_amount": "19.00", "price_currency": "USD", "available": True,
                "images": {"front": f"https://cdn.example.com/{n}.png"},
                "options": [{"option_type": "Color", "label": "White", "attributes": {"hex": "#ffffff"}},
                            {"option_type": "Size", "label": size}],
            })
    return {"collections": [], "products": products, "variants": variants}


def test_an_imported_shop_shows_pictures_of_its_own_kinds():
    data = _other_shop([("Mug", "Orca", "11oz", ["11oz"]), ("Poster", "Enhanced Matte", "18x24", ["18x24"]),
                        ("Baby Onesie", "Rabbit Skins", "4400", ["NB"]), ("Infant Bodysuit", "Gerber", "B1", ["6mo"]),
                        ("Dad Hat", "Yupoong", "6245CM", ["One Size"]), ("Tote Bag", "Liberty Bags", "8502", ["OS"]),
                        ("T-Shirt", "Gildan", "5000", ["M"])])
    catalog = parse_catalog(data)
    kinds = [p.image_url.split("/")[3] for p in catalog.products]
    assert kinds == ["mug", "poster", "onesie", "onesie", "cap", "tote", "tshirt"]
    assert all(v.image_front.split("/")[3] == k for v, k in zip(catalog.variants, kinds, strict=True))


def test_brand_spellings_become_one_brand():
    data = _other_shop([("T-Shirt", "Bella", "Canvas 3001", ["M"]), ("T-Shirt", "BELLA + CANVAS", "3001", ["M"]),
                        ("Tank", "bella+canvas", "3480", ["M"]), ("Hoodie", "Independent Trading Co", "SS4500", ["M"]),
                        ("Tee", "Acme", "A1", ["M"]), ("Tee", "ACME", "A2", ["M"]), ("Tee", "Acme", "A3", ["M"])])
    products = parse_catalog(data).products
    assert [(p.brand, p.model) for p in products] == [
        ("Bella+Canvas", "3001"), ("Bella+Canvas", "3001"), ("Bella+Canvas", "3480"),
        ("Independent Trading Co.", "SS4500"), ("Acme", "A1"), ("Acme", "A2"), ("Acme", "A3")]


def test_baby_youth_and_adult_sizes_sort_in_garment_order():
    exported = ["24mo", "NB", "XL", "12mo", "Youth M", "2T", "6mo", "18 months", "S", "Youth XS", "0-3M", "3-6 mo"]
    assert sorted(exported, key=size_rank) == [
        "NB", "0-3M", "3-6 mo", "6mo", "12mo", "18 months", "24mo", "2T", "Youth XS", "Youth M", "S", "XL"]
    baby = ["NB", "12mo", "18mo", "24mo", "6mo"]  # as they sorted before
    catalog = parse_catalog(_other_shop([("Baby Onesie", "Rabbit Skins", "4400", baby)]))
    ranked = sorted(catalog.variants, key=lambda v: v.size_rank)
    assert [v.size for v in ranked] == ["NB", "6mo", "12mo", "18mo", "24mo"]


@pytest.mark.parametrize("break_it, message", [
    (lambda d: d["products"][3].pop("name"), "products[3] (id=prd-00004): name"),
    (lambda d: d["products"][2].update(base_price_amount="free"), "products[2] (id=prd-00003): base_price_amount"),
    (lambda d: d["variants"][5].update(product_id="ghost"), "variants[5]"),
    (lambda d: d["variants"][7].update(options=[]), "no colour option"),
    (lambda d: d["variants"][1]["options"][0]["attributes"].update(hex="#zzz"), "not a colour hex"),
    (lambda d: d["products"][1].update(collection_ids=["col-nowhere"]), "unknown collection ids"),
    (lambda d: d["variants"].append(dict(d["variants"][0])), "duplicate id"),
    (lambda d: d.pop("variants"), "'variants'"),
])
def test_a_malformed_export_names_its_first_bad_record(export, break_it, message):
    data = copy.deepcopy(export)
    break_it(data)
    with pytest.raises(CatalogError,
                       match=message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(").replace(")", r"\)")):
        parse_catalog(data)


@pytest.fixture
def command_env(tmp_path):
    config = dataclasses.replace(load_config(), data_dir=tmp_path, store_backend="sqlite", search_backend="sqlite")
    previous, settings.COMMERCE = settings.COMMERCE, config
    yield config
    settings.COMMERCE = previous


def test_load_catalog_from_a_file_writes_the_store_and_the_index(command_env, export, tmp_path):
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export))
    call_command("load_catalog", "--from", str(path), verbosity=0)
    store = SqliteStore(command_env.sqlite_store_path)
    index = SqliteProductIndex(command_env.sqlite_search_path)
    assert store.get("products", {"id": export["products"][0]["id"]})["name"] == export["products"][0]["name"]
    assert index.search(SearchQuery()).total == 30


def test_a_refused_file_writes_nothing(command_env, export, tmp_path):
    data = copy.deepcopy(export)
    data["variants"][-1]["price_amount"] = "lots"  # the very last record is bad
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(CommandError, match=r"variants\[\d+\].*price_amount"):
        call_command("load_catalog", "--from", str(path), verbosity=0)
    store = SqliteStore(command_env.sqlite_store_path)
    store.create_schema()
    assert store.scan("products")[0] == []
    assert SqliteProductIndex(command_env.sqlite_search_path).live_generation() is None


def test_load_catalog_if_empty_leaves_a_loaded_catalog_alone(command_env, export, tmp_path, capsys):
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export))
    call_command("load_catalog", "--from", str(path), verbosity=0)
    call_command("load_catalog", "--if-empty", "--count", "5")
    assert "already loaded (30 products)" in capsys.readouterr().out


def test_load_catalog_if_empty_rebuilds_an_index_an_older_version_built(command_env, export, tmp_path, capsys):
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export))
    call_command("load_catalog", "--from", str(path), verbosity=0)
    index = SqliteProductIndex(command_env.sqlite_search_path)
    old = index.live_generation()
    index._conn.execute(f"DROP TABLE size_bits_{old}")  # the layout before size masks
    stale = SqliteProductIndex(command_env.sqlite_search_path)
    with pytest.raises(SearchUnavailable, match="older version"):
        stale.search(SearchQuery(q="tee"))
    call_command("load_catalog", "--if-empty")
    assert "rebuilt the search index" in capsys.readouterr().out
    fresh = SqliteProductIndex(command_env.sqlite_search_path)
    assert fresh.live_generation() != old and fresh.search(SearchQuery()).total == 30
