"""The routing strategy (allocation.route): priority, then the fewest shipments, then the nearest
location; lines split when one location cannot cover them; what nobody has waits."""

from __future__ import annotations

from domains.inventory.allocation import route
from domains.inventory.messages import Location, ShipTo


def loc(id, priority=100, country="US", state="", active=True):
    return Location(id=id, name=id, priority=priority, country=country, state=state, active=active)


def test_a_lower_priority_number_ships_first_even_when_another_location_could_ship_everything():
    locations = [loc("big", priority=50), loc("first", priority=10)]
    free = {"A": {"big": 10, "first": 1}, "B": {"big": 10}}
    r = route({"A": 2, "B": 1}, free, locations)
    assert r.plan == {"A": {"first": 1, "big": 1}, "B": {"big": 1}}
    assert r.waiting == {}


def test_among_equal_priorities_the_location_covering_more_lines_ships_them_in_one_shipment():
    locations = [loc("a-one", priority=10), loc("b-all", priority=10)]
    free = {"A": {"a-one": 5, "b-all": 5}, "B": {"b-all": 5}}
    r = route({"A": 2, "B": 2}, free, locations)
    assert r.plan == {"A": {"b-all": 2}, "B": {"b-all": 2}}
    assert r.shipments == 1


def test_then_the_nearest_same_state_before_same_country_before_abroad():
    locations = [loc("abroad", country="DE"), loc("texas", state="TX"), loc("oregon", state="OR")]
    free = {"A": {"abroad": 5, "texas": 5, "oregon": 5}}
    assert route({"A": 1}, free, locations, ShipTo(country="US", state="OR")).plan == {"A": {"oregon": 1}}
    assert route({"A": 1}, free, locations, ShipTo(country="US", state="NY")).plan == {"A": {"oregon": 1}}
    only_abroad_and_texas = [locations[0], locations[1]]
    assert route({"A": 1}, free, only_abroad_and_texas, ShipTo(country="us")).plan == {"A": {"texas": 1}}
    assert route({"A": 1}, free, only_abroad_and_texas, ShipTo(country="DE")).plan == {"A": {"abroad": 1}}


def test_a_line_one_location_cannot_cover_is_split_and_what_nobody_has_waits():
    locations = [loc("east", priority=10), loc("west", priority=20), loc("closed", priority=1, active=False)]
    free = {"A": {"east": 3, "west": 2, "closed": 50}, "B": {}}
    r = route({"A": 7, "B": 2}, free, locations)
    assert r.plan == {"A": {"east": 3, "west": 2}}
    assert r.waiting == {"A": 2, "B": 2}
    assert r.shipments == 2
