"""With Temporal unreachable, pages and the API answer 503 with a stable code, never a 500."""

from __future__ import annotations

import dataclasses
import socket

import pytest
from django.conf import settings

from infra.config import load_config
from storefront import services

CART = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def no_temporal(tmp_path):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    previous = settings.COMMERCE
    settings.COMMERCE = dataclasses.replace(load_config(), data_dir=tmp_path, temporal_address=f"127.0.0.1:{port}")
    services.reset()
    yield
    settings.COMMERCE = previous
    services.reset()


def test_the_cart_api_says_service_unavailable(no_temporal, client):
    response = client.get("/api/cart", HTTP_X_CART_ID=CART)
    assert response.status_code == 503 and response.json()["code"] == "service_unavailable"


def test_the_cart_page_says_back_in_a_moment(no_temporal, client):
    client.cookies["cart_id"] = CART
    response = client.get("/shop/cart")
    assert response.status_code == 503 and b"Back in a moment" in response.content
