from __future__ import annotations

from layers.schema import TRANSITIONS, Status, Zone, zone_priority


def test_strictness_order_of_domain():
    assert zone_priority("core", "county") == zone_priority("core_protection", "county")
    assert zone_priority("core_protection", "county") > zone_priority("buffer", "national")
    assert zone_priority("buffer", "county") > zone_priority("experimental", "national")
    assert zone_priority("experimental", "county") == zone_priority("general_control", "county")
    assert zone_priority("general_control", "county") > zone_priority("unzoned", "national")


def test_ties_by_level():
    assert zone_priority("buffer", "national") > zone_priority("buffer", "provincial")


def test_every_status_has_a_way_on_and_closed_can_reopen():
    assert set(TRANSITIONS) == set(Status)
    assert Status.PROBLEM in TRANSITIONS[Status.CLOSED]
    assert Zone.OUTSIDE.value == "outside"
