"""Applicability rules as data: parsing names every problem with its JSON path, evaluation follows
the grammar (all / any / not / fact with ==, !=, <, <=, >, >=, in), a missing fact decides nothing,
and the project type is recognised from the ordered type table of the seed catalogue."""

from __future__ import annotations

import json
from typing import Any

import pytest

from server.approval import applicability
from server.approval.applicability import Always, FactTest, evaluate, parse, recognise_type
from server.approval.catalogue import load
from server.approval.catalogue_service import SEED_PATH


def rule(raw: Any) -> applicability.Rule:
    parsed, problems = parse(raw, "rule")
    assert problems == []
    return parsed


@pytest.mark.parametrize(
    ("raw", "facts", "expected"),
    [
        (True, {}, True),
        (False, {"pit_depth_m": 9}, False),
        ({"fact": "pit_depth_m", ">=": 5}, {"pit_depth_m": 5}, True),
        ({"fact": "pit_depth_m", ">=": 5}, {"pit_depth_m": 4.99}, False),
        ({"fact": "pit_depth_m", ">": 5}, {"pit_depth_m": 5}, False),
        ({"fact": "pit_depth_m", "<": 3}, {"pit_depth_m": 2}, True),
        ({"fact": "pit_depth_m", "<=": 3}, {"pit_depth_m": 3}, True),
        ({"fact": "project_type", "==": "房建"}, {"project_type": "房建"}, True),
        ({"fact": "project_type", "!=": "房建"}, {"project_type": "市政"}, True),
        ({"fact": "project_type", "in": ["房建", "工业"]}, {"project_type": "工业"}, True),
        ({"fact": "project_type", "in": ["房建", "工业"]}, {"project_type": "水务"}, False),
        ({"fact": "special_construction", "==": True}, {"special_construction": True}, True),
        ({"fact": "special_construction", "==": True}, {"special_construction": False}, False),
        (
            {"all": [{"fact": "investment_wan", ">=": 30}, {"fact": "total_area", ">=": 300}]},
            {"investment_wan": 30, "total_area": 299},
            False,
        ),
        (
            {"any": [{"fact": "occupies_road", "==": True}, {"fact": "excavates_road", "==": True}]},
            {"occupies_road": False, "excavates_road": True},
            True,
        ),
        ({"not": {"fact": "occupies_green", "==": True}}, {"occupies_green": False}, True),
    ],
)
def test_a_rule_holds_exactly_when_its_comparison_on_the_facts_holds(raw, facts, expected):
    assert evaluate(rule(raw), facts) is expected


def test_a_comparison_on_a_missing_or_empty_fact_is_false_and_its_negation_true():
    depth = rule({"fact": "pit_depth_m", ">=": 5})
    assert evaluate(depth, {}) is False
    assert evaluate(depth, {"pit_depth_m": None}) is False
    assert evaluate(rule({"not": {"fact": "pit_depth_m", ">=": 5}}), {}) is True
    assert evaluate(rule({"fact": "project_type", "!=": "房建"}), {"project_type": ""}) is False


def test_a_value_of_another_kind_never_matches_so_true_is_not_one_and_text_is_not_a_number():
    assert evaluate(rule({"fact": "pit_depth_m", ">=": 1}), {"pit_depth_m": True}) is False
    assert evaluate(rule({"fact": "pit_depth_m", "==": 5}), {"pit_depth_m": "5"}) is False
    assert evaluate(rule({"fact": "special_construction", "==": True}), {"special_construction": 1}) is False


@pytest.mark.parametrize(
    ("raw", "path", "kind"),
    [
        ("yes", "rule", "bad_rule"),
        ({}, "rule", "bad_rule"),
        ({"all": []}, "rule.all", "bad_rule"),
        ({"all": [True], "any": [True]}, "rule", "bad_rule"),
        ({"not": True, "fact": "pit_depth_m"}, "rule", "bad_rule"),
        ({"fact": "colour", "==": "red"}, "rule.fact", "unknown_fact"),
        ({"fact": "pit_depth_m", "~": 5}, "rule", "bad_operator"),
        ({"fact": "pit_depth_m", ">=": 5, "<": 9}, "rule", "bad_operator"),
        ({"fact": "project_type", ">=": "房建"}, "rule.>=", "bad_operator"),
        ({"fact": "pit_depth_m", ">=": "5"}, "rule.>=", "bad_value"),
        ({"fact": "special_construction", "==": "是"}, "rule.==", "bad_value"),
        ({"fact": "project_type", "in": "房建"}, "rule.in", "bad_value"),
        ({"fact": "project_type", "in": ["房建", 3]}, "rule.in.1", "bad_value"),
        ({"any": [True, {"all": [{"fact": "nope", "==": 1}]}]}, "rule.any.1.all.0.fact", "unknown_fact"),
    ],
)
def test_a_bad_rule_is_refused_with_the_json_path_of_the_problem(raw, path, kind):
    _, problems = parse(raw, "rule")
    assert [(p.path, p.type) for p in problems] == [(path, kind)]
    assert all(p.message for p in problems)


def test_a_rule_nested_too_deep_is_refused_rather_than_recursing_without_bound():
    raw: Any = True
    for _ in range(applicability.MAX_DEPTH + 2):
        raw = {"not": raw}
    _, problems = parse(raw, "")
    assert [p.type for p in problems] == ["rule_too_deep"]


def test_every_problem_of_a_rule_is_reported_at_once():
    _, problems = parse({"all": [{"fact": "nope", "==": 1}, {"fact": "pit_depth_m", ">=": "x"}]}, "r")
    assert [p.path for p in problems] == ["r.all.0.fact", "r.all.1.>="]


def test_parsed_numbers_compare_as_numbers_whether_written_as_integers_or_decimals():
    assert rule({"fact": "investment_wan", ">=": 30}) == FactTest("investment_wan", ">=", 30.0)
    assert evaluate(rule({"fact": "investment_wan", "==": 30}), {"investment_wan": 30.0}) is True


def test_the_type_segment_of_a_well_formed_project_code_is_a_derived_fact():
    assert applicability.derive({"project_code": "2611-310115-04-01-123456"})["project_code_type"] == "01"
    assert "project_code_type" not in applicability.derive({"project_code": "2611-31011-04-01-123456"})
    table = [("水务", rule({"fact": "project_code_type", "==": "03"})), ("房建", Always(True))]
    assert recognise_type({"project_code": "2611-310115-04-03-123456"}, table) == "水务"
    assert recognise_type({"project_code": "2611-310115-04-01-123456"}, table) == "房建"


def seed_types() -> list[tuple[str, applicability.Rule]]:
    return list(load(json.loads(SEED_PATH.read_text(encoding="utf-8"))).project_types)


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ({"project_type": "市政", "total_area": 5000}, "市政"),  # given by the registry: wins
        ({"road_length_m": 1200}, "交通"),
        ({"pipeline_length_m": 800, "total_area": 300}, "水务"),
        ({"green_area_m2": 20000}, "绿化"),
        ({"green_area_m2": 2000, "total_area": 40000}, "房建"),  # a building with its green space
        ({"building_use": "工业厂房", "total_area": 12000}, "工业"),
        ({"total_area": 52000, "building_use": "办公"}, "房建"),
        ({}, "其他"),
    ],
)
def test_the_seed_recognises_the_project_type_from_the_data_the_project_has(facts, expected):
    assert recognise_type(facts, seed_types()) == expected
