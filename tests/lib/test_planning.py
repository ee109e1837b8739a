"""Composite indices and the prioritisation of territories, on hand-built values (expected numbers worked
out by hand in the comments)."""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from crecer.lib import planning
from crecer.lib.planning import Candidate, Component, Index, PlanningError

INDICATORS = {"anc": "higher", "stunting": "lower", "ecd": "higher", "eedp": "higher"}


def _index() -> Index:
    return Index(
        "idit",
        "Índice",
        "Index",
        (
            Component("anc", F(2), "bounds", "higher", low=F(0), high=F(100)),
            Component("stunting", F(1), "bounds", "lower", low=F(0), high=F(40)),
            Component("ecd", F(1), "target", "higher", target=F(90)),
        ),
    )


def test_index_weighs_normalised_components():
    result = planning.compute(_index(), {"T1": {"anc": F(60), "stunting": F(10), "ecd": F(72)}})["T1"]
    # anc: 60/100 = 3/5, weight 2/4 -> 30; stunting (lower is better): (40-10)/40 = 3/4, weight 1/4 -> 18.75;
    # ecd: 72/90 = 4/5, weight 1/4 -> 20. Index = 30 + 18.75 + 20 = 68.75.
    assert result.value == F(6875, 100)
    assert [(c.normalised, c.effective_weight, c.contribution) for c in result.components] == [
        (F(3, 5), F(1, 2), F(30)),
        (F(3, 4), F(1, 4), F(75, 4)),
        (F(4, 5), F(1, 4), F(20)),
    ]
    assert result.missing == ()
    assert planning.decimal_text(result.value) == "68.75"


def test_a_missing_component_rescales_the_others():
    result = planning.compute(_index(), {"T1": {"anc": F(60), "stunting": None, "ecd": F(72)}})["T1"]
    # weights 2 and 1 of 3: 100 * (2/3 * 3/5 + 1/3 * 4/5) = 100 * 10/15 = 200/3
    assert result.value == F(200, 3)
    assert result.missing == ("stunting",)
    assert result.components[1].contribution is None
    assert planning.compute(_index(), {"T1": {}})["T1"].value is None


def test_bounds_and_targets_clamp():
    index = _index()
    result = planning.compute(index, {"T": {"anc": F(120), "stunting": F(50), "ecd": F(100)}})["T"]
    assert [c.normalised for c in result.components] == [F(1), F(0), F(1)]
    lower_target = Component("x", F(1), "target", "lower", target=F(5))
    assert planning.normalise(lower_target, F(10)) == F(1, 2)
    assert planning.normalise(lower_target, F(0)) == F(1)


def test_territories_normalisation_runs_within_each_level():
    index = Index("i", "i", "i", (Component("eedp", F(1), "territories", "higher"),))
    values = {"A": {"eedp": F(20)}, "B": {"eedp": F(50)}, "C": {"eedp": F(80)}, "R": {"eedp": F(10)}}
    peers = {"A": "municipality", "B": "municipality", "C": "municipality", "R": "region"}
    result = planning.compute(index, values, peers)
    # municipalities: min 20, max 80 -> 0, 1/2, 1; the region alone at its level -> 1
    assert [result[k].value for k in "ABCR"] == [F(0), F(50), F(100), F(100)]


def test_prioritisation_ranks_by_weighted_parts():
    candidates = [
        Candidate("A", F(30, 100), 100, F(1, 2), 1),
        Candidate("B", F(10, 100), 300, F(1, 4), 1),
        Candidate("C", F(20, 100), 200, None, 4),
    ]
    weights = {"vulnerability": F(4), "children": F(2), "gaps": F(2), "services": F(2)}
    ranked = planning.prioritise(candidates, weights)
    # vulnerability 0.1..0.3: A 1, B 0, C 1/2. children 100..300: A 0, B 1, C 1/2. gaps 1/4..1/2: A 1, B 0,
    # C none = 0. services per 1,000 children: A 10, B 10/3, C 20, fewer is needier: (20-x)/(50/3) = A 3/5,
    # B 1, C 0. Scores (x 100 / 10): A 4+0+2+6/5 = 72; B 0+2+0+2 = 40; C 2+1+0+0 = 30.
    assert [(p.key, p.rank, p.score) for p in ranked] == [("A", 1, F(72)), ("B", 2, F(40)), ("C", 3, F(30))]
    a = ranked[0].parts
    assert [a[p].normalised for p in planning.PARTS] == [F(1), F(0), F(1), F(3, 5)]
    assert [a[p].contribution for p in planning.PARTS] == [F(40), F(0), F(20), F(12)]
    assert a["services"].raw == F(10)
    assert planning.propose(ranked, 2, taken={"A"}) == ["B", "C"]


def test_a_tie_puts_more_children_first():
    candidates = [Candidate("small", F(1, 2), 10, None, 0), Candidate("big", F(1, 2), 20, None, 0)]
    ranked = planning.prioritise(candidates, {"vulnerability": F(1)})
    assert [p.key for p in ranked] == ["big", "small"]
    assert all(p.score == 0 for p in ranked)  # all equal: the part tells nothing
    with pytest.raises(PlanningError):
        planning.prioritise(candidates, {"children": F(0)})


def _toml(**over):
    component = {"indicator": "anc", "weight": "0.5", "normalisation": "bounds", "low": 0, "high": 100}
    component.update(over)
    return {"version": "1", "index": [{"code": "i", "name_es": "Í", "name_en": "I", "component": [component]}]}


def test_planning_file_loads():
    config = planning.parse_config(_toml(), "planning.toml", INDICATORS)
    (component,) = config.index("i").components
    assert (component.weight, component.direction, component.high) == (F(1, 2), "higher", F(100))
    lower = planning.parse_config(_toml(indicator="stunting"), "planning.toml", INDICATORS)
    assert lower.indices[0].components[0].direction == "lower"  # the indicator's own


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"indicator": "nope"}, "indicator 'nope' is not in indicators.toml"),
        ({"weight": "0"}, "'weight' must be greater than 0"),
        ({"weight": "mucho"}, "'weight' must be a number"),
        ({"normalisation": "zscore"}, "'normalisation' must be one of"),
        ({"direction": "up"}, "'direction' must be 'higher' or 'lower'"),
        ({"low": 100, "high": 0}, "'high' must be greater than 'low'"),
        ({"normalisation": "target", "target": 0}, "'target' must be greater than 0"),
    ],
)
def test_a_bad_component_names_its_fault(over, message):
    with pytest.raises(PlanningError, match=message) as caught:
        planning.parse_config(_toml(**over), "profiles/x/planning.toml", INDICATORS)
    assert "profiles/x/planning.toml: index 'i': component[0]" in str(caught.value)


def test_bad_priority_names_its_fault():
    data = _toml()
    data["priority"] = {"index": "other"}
    with pytest.raises(PlanningError, match="'index' = 'other' is not an index"):
        planning.parse_config(data, "p", INDICATORS)
    data["priority"] = {"vulnerability_indicator": "nope"}
    with pytest.raises(PlanningError, match="'vulnerability_indicator' = 'nope'"):
        planning.parse_config(data, "p", INDICATORS)
    data["priority"] = {"weights": {"luck": 1}}
    with pytest.raises(PlanningError, match="unknown part 'luck'"):
        planning.parse_config(data, "p", INDICATORS)
    data["priority"] = {"weights": {"children": -1}}
    with pytest.raises(PlanningError, match="cannot be negative"):
        planning.parse_config(data, "p", INDICATORS)


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "1e999999", True, [1], None])
def test_a_weight_must_be_a_plain_number(raw):
    with pytest.raises(PlanningError, match="must be a number"):
        planning.number(raw, "w")
