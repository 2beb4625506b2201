"""The order index normalises confirmation codes itself (a projection imports no domain); it must
agree with the orders domain, or a search by code would miss the order."""

from __future__ import annotations

import pytest

from domains.orders.ids import normalise_confirmation as domain_normalise
from projections.orders.text import normalise_confirmation as index_normalise


@pytest.mark.parametrize("code", ["ABCD-2345", "abcd2345", " ab cd-23 45 ", "K7Q-MZ2X", "", "--", "x"])
def test_the_index_normalises_confirmation_codes_as_the_domain_does(code):
    assert index_normalise(code) == domain_normalise(code)
