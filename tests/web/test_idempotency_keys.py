"""`Idempotency-Key` rules, on the real store: only final answers are kept, a key in flight
holds a lease that expires, another body under the same key is refused, keys expire."""

from __future__ import annotations

import dataclasses
import sqlite3
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from infra.config import load_config
from storefront import services
from storefront.api import idempotency
from storefront.api.errors import ApiError

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock(tmp_path, monkeypatch):
    previous = settings.COMMERCE
    settings.COMMERCE = dataclasses.replace(load_config(), data_dir=tmp_path, store_backend="sqlite")
    services.reset()
    now = [START]
    monkeypatch.setattr(idempotency, "_now", lambda: now[0])
    yield now
    settings.COMMERCE = previous
    services.reset()


class Endpoint:
    """One endpoint instance whose run count survives requests."""

    def __init__(self, answer):
        self.runs = 0
        self.answer = answer

    def send(self, body: str = '{"quantity": 1}', key: str = "key-1"):
        outer = self

        class View(APIView):
            def post(self, request):
                request.data  # noqa: B018 - parse first, as the real views do
                return idempotency.idempotent(request, "cart-1", outer.run)

        request = APIRequestFactory().post("/api/cart/items", body, content_type="application/json",
                                           HTTP_IDEMPOTENCY_KEY=key)
        response = View.as_view()(request)
        response.render()
        return response

    def run(self):
        self.runs += 1
        return self.answer(self.runs)


def ok(n):
    return Response({"run": n}, status=201)


def test_a_final_answer_is_replayed_and_the_work_runs_once(clock):
    endpoint = Endpoint(ok)
    first, again = endpoint.send(), endpoint.send()
    assert first.status_code == again.status_code == 201
    assert again.data == {"run": 1} and again["Idempotent-Replayed"] == "true"
    assert endpoint.runs == 1


def test_a_4xx_is_final_too(clock):
    def refuse(n):
        raise ApiError("insufficient_stock", "only 1 left", 409)

    endpoint = Endpoint(refuse)
    assert [endpoint.send().status_code for _ in range(2)] == [409, 409]
    assert endpoint.runs == 1


def test_the_same_key_with_another_body_is_refused(clock):
    endpoint = Endpoint(ok)
    endpoint.send('{"quantity": 1}')
    other = endpoint.send('{"quantity": 5}')
    assert other.status_code == 422 and other.data["code"] == "idempotency_key_reused"
    assert endpoint.runs == 1


@pytest.mark.parametrize("failure", ["503", "timeout"])
def test_a_5xx_or_a_timeout_releases_the_key_and_the_retry_runs_again(clock, failure):
    def flaky(n):
        if n == 1:
            if failure == "timeout":
                raise TimeoutError("Temporal did not answer")
            raise ApiError("service_unavailable", "down", 503)
        return ok(n)

    endpoint = Endpoint(flaky)
    if failure == "timeout":
        with pytest.raises(TimeoutError):
            endpoint.send()
    else:
        assert endpoint.send().status_code == 503
    retry = endpoint.send()
    assert retry.status_code == 201 and retry.data == {"run": 2} and not retry.has_header("Idempotent-Replayed")


def test_a_release_the_store_refused_is_done_once_the_store_is_back(clock, monkeypatch):
    """A request that fails because the store is down cannot release its key then; the key is
    released once the store answers again, not left leased (409 to every retry) for a minute."""
    store = services.store()
    real_delete_if, down = store.delete_if, [True]

    def delete_if(*args, **kwargs):
        if down[0]:
            raise sqlite3.OperationalError("disk I/O error")
        return real_delete_if(*args, **kwargs)

    monkeypatch.setattr(store, "delete_if", delete_if)
    monkeypatch.setattr(idempotency, "RELEASE_RETRY_SECONDS", 0.05)

    def flaky(n):
        if n == 1:
            raise ApiError("service_unavailable", "down", 503)
        return ok(n)

    endpoint = Endpoint(flaky)
    assert endpoint.send().status_code == 503
    busy = endpoint.send()  # the store still refuses: the key is still leased
    assert busy.status_code == 409 and busy.data["code"] == "request_in_progress"
    down[0] = False  # the store is back; the lease (60 s) has not run out
    for _ in range(200):
        if idempotency.pending_releases() == 0:
            break
        time.sleep(0.05)
    retry = endpoint.send()
    assert retry.status_code == 201 and retry.data == {"run": 2}


def test_a_final_answer_the_store_could_not_keep_releases_the_key_once_it_is_back(clock, monkeypatch):
    """The work ran, but the store went down before the answer was kept: the request fails, and
    once the store is back the key is free, so the retry runs again (the workflows find the
    work done) instead of meeting 409 until the lease ends."""
    store = services.store()
    real_update_if, real_delete_if, down = store.update_if, store.delete_if, [True]

    def refused(real):
        def call(*args, **kwargs):
            if down[0]:
                raise sqlite3.OperationalError("disk I/O error")
            return real(*args, **kwargs)
        return call

    monkeypatch.setattr(store, "update_if", refused(real_update_if))
    monkeypatch.setattr(store, "delete_if", refused(real_delete_if))
    monkeypatch.setattr(idempotency, "RELEASE_RETRY_SECONDS", 0.05)
    endpoint = Endpoint(ok)
    with pytest.raises(sqlite3.OperationalError):  # the web answers it 503 (storefront/unavailable.py)
        endpoint.send()
    down[0] = False
    for _ in range(200):
        if idempotency.pending_releases() == 0:
            break
        time.sleep(0.05)
    retry = endpoint.send()
    assert retry.status_code == 201 and retry.data == {"run": 2}


def _leave_a_key_in_flight(clock):
    """A request that claimed the key and died (its process killed) before answering."""
    class Dead(Exception):
        pass

    def die(n):
        raise Dead

    endpoint = Endpoint(die)
    original = idempotency._Claim.release
    idempotency._Claim.release = lambda self: None  # a killed process releases nothing
    try:
        with pytest.raises(Dead):
            endpoint.send()
    finally:
        idempotency._Claim.release = original


def test_a_key_in_flight_answers_409_until_its_lease_expires_then_is_taken_over(clock):
    _leave_a_key_in_flight(clock)
    endpoint = Endpoint(ok)
    clock[0] = START + idempotency.LEASE - timedelta(seconds=1)
    busy = endpoint.send()
    assert busy.status_code == 409 and busy.data["code"] == "request_in_progress"
    clock[0] = START + idempotency.LEASE + timedelta(seconds=1)
    taken = endpoint.send()
    assert taken.status_code == 201 and endpoint.runs == 1
    assert endpoint.send().data == {"run": 1}  # and now it is final


def test_keys_expire_after_24_hours_and_then_run_afresh(clock):
    endpoint = Endpoint(ok)
    endpoint.send('{"quantity": 1}')
    clock[0] = START + idempotency.EXPIRY - timedelta(minutes=1)
    assert endpoint.send('{"quantity": 1}').data == {"run": 1}
    clock[0] = START + idempotency.EXPIRY + timedelta(minutes=1)
    fresh = endpoint.send('{"quantity": 2}')  # expired: even another body is a new request
    assert fresh.status_code == 201 and fresh.data == {"run": 2}


def test_the_purge_removes_only_expired_keys(clock):
    endpoint = Endpoint(ok)
    endpoint.send(key="old")
    clock[0] = START + timedelta(hours=23)
    endpoint.send(key="recent")
    removed = idempotency.purge_expired(services.store(), now=START + idempotency.EXPIRY + timedelta(seconds=1))
    rows = services.store().scan("idempotency")[0]
    assert removed == 1 and [r["key"] for r in rows] == ["recent"]


def test_a_key_left_in_flight_before_leases_existed_is_taken_over_after_a_lease(clock):
    """A row as the previous version wrote it (no lease, no hash, no expiry) never blocks for good."""
    key = {"scope": "cart-1:POST:/api/cart/items", "key": "key-1"}
    services.store().insert_if_absent("idempotency", {**key, "state": "in_progress", "created_at": START})
    endpoint = Endpoint(ok)
    assert endpoint.send().status_code == 409
    clock[0] = START + idempotency.LEASE + timedelta(seconds=1)
    assert endpoint.send().status_code == 201 and endpoint.runs == 1
