from __future__ import annotations

import pytest

from batteries_fixtures import ForeignKeyCycleError
from batteries_fixtures._graph import Edge, plan_load, sort_tables, strongly_connected


def test_parents_come_first_and_ties_go_by_name() -> None:
    edges = [Edge("b", "z"), Edge("a", "z")]
    assert sort_tables(["a", "b", "z", "c"], edges) == ["c", "z", "a", "b"]


def test_a_diamond_is_ordered_once() -> None:
    edges = [
        Edge("left", "top"),
        Edge("right", "top"),
        Edge("bottom", "left"),
        Edge("bottom", "right"),
    ]
    assert sort_tables(["bottom", "left", "right", "top"], edges) == [
        "top",
        "left",
        "right",
        "bottom",
    ]


def test_a_cycle_stays_together_by_name() -> None:
    edges = [
        Edge("team", "member"),
        Edge("member", "team"),
        Edge("member", "org"),
        Edge("x", "team"),
    ]
    assert sort_tables(["x", "team", "member", "org"], edges) == ["org", "member", "team", "x"]
    assert strongly_connected(["team", "member", "org"], edges) == [["org"], ["member", "team"]]


def test_edges_to_tables_outside_the_set_are_ignored() -> None:
    assert sort_tables(["a"], [Edge("a", "elsewhere")]) == ["a"]


def test_a_cycle_breaks_at_its_nullable_foreign_key() -> None:
    captain = Edge("team", "member", key="captain", nullable=True)
    team = Edge("member", "team", key="team", nullable=False)
    plan = plan_load(["member", "team"], [captain, team], can_defer_all=False)
    assert plan.broken == [captain]
    assert plan.order == ["team", "member"]  # member needs team; team's captain comes later
    assert not plan.deferred


def test_a_nullable_self_reference_is_broken() -> None:
    parent = Edge("category", "category", key="parent", nullable=True)
    plan = plan_load(["category"], [parent], can_defer_all=False)
    assert plan.broken == [parent]
    assert plan.order == ["category"]


def test_a_not_null_cycle_defers_when_the_database_can() -> None:
    edges = [Edge("egg", "hen"), Edge("hen", "egg")]
    assert plan_load(["egg", "hen"], edges, can_defer_all=True).deferred
    deferrable = [Edge("egg", "hen", deferrable=True), Edge("hen", "egg", deferrable=True)]
    assert plan_load(["egg", "hen"], deferrable, can_defer_all=False).deferred


def test_a_not_null_cycle_that_cannot_defer_is_named() -> None:
    edges = [Edge("egg", "hen"), Edge("hen", "egg"), Edge("egg", "box")]
    with pytest.raises(ForeignKeyCycleError, match=r"egg -> hen -> egg") as info:
        plan_load(["box", "egg", "hen"], edges, can_defer_all=False)
    assert info.value.cycle == ("egg", "hen")
    assert isinstance(info.value, ValueError)


def test_deep_chains_do_not_hit_the_recursion_limit() -> None:
    names = [f"t{i:05d}" for i in range(5000)]
    edges = [Edge(names[i + 1], names[i]) for i in range(len(names) - 1)]
    assert sort_tables(reversed(names), edges) == names
