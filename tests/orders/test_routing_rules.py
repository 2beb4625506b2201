"""The pure rules that turn inventory's allocation into supplier-order lines (domains/orders/routing.py)."""

from __future__ import annotations

from domains.orders.routing import split_lines, units_by_sku, unrouted
from domains.shared import OrderLine, with_line_ids


def line(variant: str, sku: str, quantity: int, price: int = 100) -> OrderLine:
    return OrderLine(variant_id=variant, product_id="p", product_name="Tee", options={}, blank_sku=sku,
                     quantity=quantity, unit_price=price, line_total=price * quantity)


LINES = with_line_ids([line("v-red-s", "red", 3), line("v-blue", "blue", 1), line("v-red-m", "red", 2)])


def test_a_sku_split_over_locations_keeps_each_lines_id_and_prices_its_part():
    groups = split_lines(LINES, {"red": {"east": 4, "west": 1}, "blue": {"west": 1}})
    assert {loc: [(li.line_id, li.quantity) for li in g] for loc, g in groups.items()} == {
        "east": [("L1", 3), ("L3", 1)], "west": [("L2", 1), ("L3", 1)]}
    assert groups["east"][1].line_total == 100  # the part's own total
    assert units_by_sku([li for g in groups.values() for li in g]) == {"red": 5, "blue": 1}


def test_units_already_routed_are_not_routed_again_and_extra_units_are_dropped():
    routed = [[LINES[0].model_copy(update={"quantity": 2})], [LINES[1]]]
    left = unrouted(LINES, routed)
    assert [(li.line_id, li.quantity) for li in left] == [("L1", 1), ("L3", 2)]
    groups = split_lines(left, {"red": {"east": 9}, "blue": {"east": 1}})  # more than is left: a repeat
    assert [(li.line_id, li.quantity) for li in groups["east"]] == [("L1", 1), ("L3", 2)]
