"""`/healthz` answers 503 (with Retry-After) when the write store or the search index
cannot answer, whichever backend is down and whether it was down from the start or went
away while the process ran; the other checks still report what holds."""

from __future__ import annotations

import dataclasses

import pytest

from infra.store.sqlite import SqliteStore
from projections.search.sqlite_fts import SqliteProductIndex
from storefront import health, services


@pytest.fixture
def shop_in(tmp_path, settings, monkeypatch):
    """A web process pointed at a store and an index of its own (Temporal's probe stubbed:
    its own test lives in test_pages.py); `point(**changes)` re-points it."""
    monkeypatch.setattr(health, "_temporal", lambda: None)
    store = SqliteStore(tmp_path / "store.sqlite3")
    store.create_schema()
    index = SqliteProductIndex(tmp_path / "search.sqlite3")
    index.ensure()
    store.close()
    index.close()
    base = dataclasses.replace(settings.COMMERCE, data_dir=tmp_path, store_backend="sqlite", search_backend="sqlite")

    def point(**changes):
        settings.COMMERCE = dataclasses.replace(base, **changes)
        services.reset()

    point()
    yield point
    services.reset()


def health_of(client) -> tuple[int, dict, object]:
    response = client.get("/healthz")
    return response.status_code, response.json(), response


def test_everything_up_is_200(client, shop_in):
    status, body, _ = health_of(client)
    assert status == 200 and body["status"] == "ok"


def test_an_unreachable_cassandra_is_503(client, shop_in):
    shop_in(store_backend="cassandra", cassandra_hosts=("127.0.0.1:1",))
    status, body, response = health_of(client)
    assert status == 503 and body["status"] == "degraded"
    assert body["store"]["ok"] is False and body["store"]["backend"] == "cassandra" and body["store"]["error"]
    assert body["search"]["ok"] is True and body["temporal"]["ok"] is True
    assert int(response["Retry-After"]) > 0


def test_an_unreachable_elasticsearch_is_503(client, shop_in):
    shop_in(search_backend="elasticsearch", elasticsearch_url="http://127.0.0.1:1")
    status, body, response = health_of(client)
    assert status == 503 and body["search"]["ok"] is False and body["search"]["backend"] == "elasticsearch"
    assert body["store"]["ok"] is True
    assert int(response["Retry-After"]) > 0


@pytest.mark.parametrize(("check", "file"), [("store", "store.sqlite3"), ("search", "search.sqlite3")])
def test_a_database_file_that_went_bad_while_running_is_503(client, shop_in, tmp_path, check, file):
    assert health_of(client)[0] == 200  # the process has its connections open
    (tmp_path / file).write_bytes(b"this is no longer a database " * 512)
    status, body, _ = health_of(client)
    assert status == 503 and body[check]["ok"] is False
    assert body[{"store": "search", "search": "store"}[check]]["ok"] is True


def test_a_missing_data_folder_is_503(client, shop_in, tmp_path):
    shop_in(data_dir=tmp_path / "not-there" / "nor-here")
    (tmp_path / "not-there").write_text("a file where the folder should be")
    status, body, _ = health_of(client)
    assert status == 503 and body["store"]["ok"] is False and body["search"]["ok"] is False
