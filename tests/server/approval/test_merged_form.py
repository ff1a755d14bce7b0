"""The one form over the seed catalogue (domain.md §1.8): the applicable items in topological order,
every field mapped to at least one item and every item's required field covered, each field once with
its provenance, materials merged; and validation of typed values: required, format, range, options,
cross-field and cross-item rules, each error at its field key."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.approval import catalogue
from server.approval.catalogue_service import SEED_PATH
from server.approval.merged_form import item_values, merged_form, validate
from server.errors import InvalidInput

SEED = catalogue.load(json.loads(SEED_PATH.read_text(encoding="utf-8")))

# A 52 000 m² special-construction office tower with a 12 m pit that needs every item.
EVERYTHING: dict[str, Any] = {
    "project_type": "房建", "total_area": 52000, "investment_wan": 80000, "pit_depth_m": 12,
    "special_construction": True, "civil_building": True, "occupies_green": True, "occupies_road": True,
    "temporary_drainage": True, "construction_waste": True,
}  # fmt: skip
# A small warehouse: only the construction permit.
SMALL: dict[str, Any] = {"total_area": 2400, "investment_wan": 900, "building_use": "仓储", "pit_depth_m": 0}

VALID: dict[str, Any] = {
    "project_code": "2611-310115-04-01-123456", "project_name": "浦江科创大厦", "project_address": "浦东张江路 1 号",
    "project_type": "房建", "builder_name": "上海浦江置业有限公司", "builder_credit_code": "91310115MA1H123456",
    "builder_legal_rep": "王伟", "contact_name": "张敏", "contact_phone": "13800000001",
    "planning_permit_no": "沪规建（2026）0001号", "total_area": 52000, "above_ground_area": 40000,
    "below_ground_area": 12000, "building_height": 98.5, "above_floors": 24, "below_floors": 3,
    "building_use": "办公", "investment_wan": 80000, "contract_price_wan": 52000, "pit_depth_m": 12,
    "contractor_name": "上海建工一建集团有限公司", "project_manager": "李工", "supervisor_name": "上海建科监理",
    "chief_supervisor": "赵工", "designer_name": "华东建筑设计研究院", "drawing_review_mode": "多图联审",
    "drawing_review_cert_no": "SC-2026-0001", "planned_start_on": "2026-10-12", "planned_completion_on": "2029-06-30",
    "fire_special_category": "人员密集场所", "fire_resistance_rating": "一级", "special_fire_design": False,
    "air_defence_area_m2": 8000, "air_defence_class": "甲类核6级", "air_defence_offsite": False,
    "green_occupied_area_m2": 1200, "green_occupation_start_on": "2026-10-15", "green_occupation_end_on": "2027-10-14",
    "trees_affected": 6, "road_name": "张江路（科苑路—祖冲之路）", "road_occupied_area_m2": 300,
    "road_excavation_length_m": 45, "road_work_start_on": "2026-11-01", "road_work_end_on": "2026-12-31",
    "drainage_outlet_location": "张江路 1 号门前 Y12 检查井", "drainage_flow_m3_per_day": 300,
    "drainage_period_end_on": "2028-06-30", "waste_volume_m3": 90000, "waste_disposal_site": "老港消纳场",
    "waste_transport_company": "上海城投环境运输有限公司",
}  # fmt: skip


def errors(facts: dict[str, Any], values: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e.path, e.code) for e in validate(merged_form(SEED, facts, "kaigong"), values)]


def test_a_project_that_needs_everything_gets_all_seven_items_with_predecessors_first():
    form = merged_form(SEED, EVERYTHING, "kaigong")
    assert set(form.items) == {"SGXK", "XFSJ", "MFJS", "LSZYLD", "JLZL", "LSPS", "JZLJ"}
    assert form.items.index("XFSJ") < form.items.index("SGXK")
    assert form.items.index("MFJS") < form.items.index("SGXK")


def test_a_small_warehouse_needs_only_the_construction_permit_and_its_type_is_recognised():
    form = merged_form(SEED, SMALL, "kaigong")
    assert (form.items, form.project_type) == (("SGXK",), "工业")


def test_below_the_national_threshold_no_permit_is_needed():
    form = merged_form(SEED, {"project_type": "房建", "total_area": 250, "investment_wan": 900}, "kaigong")
    assert "SGXK" not in form.items


def test_a_deep_pit_brings_temporary_drainage_and_the_expert_review_material():
    shallow = merged_form(SEED, {**SMALL, "pit_depth_m": 2}, "kaigong")
    deep = merged_form(SEED, {**SMALL, "pit_depth_m": 6}, "kaigong")
    assert "LSPS" not in shallow.items
    assert "LSPS" in deep.items
    assert "SG08" not in {m.material.code for m in shallow.materials}
    assert "SG08" in {m.material.code for m in deep.materials}


def test_every_field_maps_to_at_least_one_applicable_item_that_lists_it():
    form = merged_form(SEED, EVERYTHING, "kaigong")
    for merged in form.fields:
        assert merged.items
        for code in merged.items:
            assert code in form.items
            assert merged.field.key in {r.key for r in SEED.by_code[code].item.fields}


def test_every_applicable_items_required_field_is_in_the_form_and_required():
    form = merged_form(SEED, EVERYTHING, "kaigong")
    keys = {f.field.key: f for f in form.fields}
    for code in form.items:
        for ref in SEED.by_code[code].item.fields:
            required = SEED.fields[ref.key].required if ref.required is None else ref.required
            assert ref.key in keys, (code, ref.key)
            if required:
                assert keys[ref.key].required, (code, ref.key)


def test_a_field_several_items_need_appears_once_with_every_item_as_its_provenance():
    form = merged_form(SEED, EVERYTHING, "kaigong")
    keys = [f.field.key for f in form.fields]
    assert len(keys) == len(set(keys))
    code = form.field("project_code")
    assert code is not None
    assert set(code.items) == set(form.items)
    area = form.field("total_area")
    assert area is not None
    assert set(area.items) == {"XFSJ", "MFJS", "SGXK"}
    assert area.required  # optional in the pool, required by the fire review and 民防


def test_a_field_is_required_only_if_some_applicable_item_requires_it():
    form = merged_form(SEED, SMALL, "kaigong")
    area = form.field("total_area")
    assert area is not None
    assert not area.required


def test_every_field_and_material_of_the_seed_is_reachable_by_some_project():
    form = merged_form(SEED, EVERYTHING, "kaigong")
    assert {f.field.key for f in form.fields} == set(SEED.fields)
    merged = {m.material.code: m for m in form.materials}
    assert set(merged) == {m.code for c in SEED.items for m in c.item.materials}


def test_an_unknown_bundle_is_refused():
    with pytest.raises(InvalidInput):
        merged_form(SEED, EVERYTHING, "wangong")


def test_complete_and_consistent_values_have_no_errors():
    assert errors(EVERYTHING, VALID) == []


def test_an_empty_form_reports_each_required_field_once():
    found = errors(EVERYTHING, {})
    assert all(code == "required" for _, code in found)
    required = [f.field.key for f in merged_form(SEED, EVERYTHING, "kaigong").fields if f.required]
    assert [path for path, _ in found] == required


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"project_code": "2611-31011-04-01-123456"}, ("project_code", "bad_format")),
        ({"contact_phone": "12345"}, ("contact_phone", "bad_format")),
        ({"builder_credit_code": "91310115MA1H12345O"}, ("builder_credit_code", "bad_format")),
        ({"pit_depth_m": -1}, ("pit_depth_m", "too_small")),
        ({"above_floors": 2.5}, ("above_floors", "not_an_integer")),
        ({"drawing_review_mode": "不审"}, ("drawing_review_mode", "not_an_option")),
        ({"planned_start_on": "2026-02-30"}, ("planned_start_on", "not_a_date")),
        ({"investment_wan": "很多"}, ("investment_wan", "not_a_number")),
        # cross-field, within one item
        ({"above_ground_area": 30000}, ("total_area", "sum_mismatch")),
        (
            {
                "planned_start_on": "2029-07-01",
                "road_work_start_on": "2029-07-01",
                "road_work_end_on": "2029-07-02",
            },
            ("planned_start_on", "compare_failed"),
        ),
        ({"drawing_review_cert_no": ""}, ("drawing_review_cert_no", "required")),
        ({"fire_resistance_rating": "二级"}, ("fire_resistance_rating", "not_allowed")),
        ({"contract_price_wan": 90000}, ("contract_price_wan", "compare_failed")),
        ({"green_occupation_end_on": "2026-10-01"}, ("green_occupation_start_on", "compare_failed")),
        # cross-item: fields of different items
        ({"road_work_start_on": "2026-10-01"}, ("road_work_start_on", "compare_failed")),
        ({"drainage_period_end_on": "2029-07-01"}, ("drainage_period_end_on", "compare_failed")),
        ({"air_defence_area_m2": 13000}, ("air_defence_area_m2", "compare_failed")),
    ],
)
def test_one_bad_value_gives_one_error_at_its_field(change, expected):
    assert errors(EVERYTHING, {**VALID, **change}) == [expected]


def test_an_earlier_completion_date_flags_every_items_date_that_falls_after_it():
    found = errors(EVERYTHING, {**VALID, "planned_completion_on": "2026-10-01"})
    assert found == [
        ("planned_start_on", "compare_failed"),
        ("green_occupation_end_on", "compare_failed"),
        ("drainage_period_end_on", "compare_failed"),
    ]


def test_choosing_the_exemption_commitment_makes_the_review_certificate_optional():
    assert (
        errors(EVERYTHING, {**VALID, "drawing_review_mode": "免审承诺", "drawing_review_cert_no": ""}) == []
    )


def test_a_value_that_fails_its_own_check_is_not_reported_again_by_a_rule():
    found = errors(EVERYTHING, {**VALID, "planned_start_on": "明天"})
    assert found == [("planned_start_on", "not_a_date")]


def test_a_cross_item_rule_is_not_checked_when_the_other_item_does_not_apply():
    facts = {"project_type": "市政", "occupies_road": True}  # road works without a permit in this bundle
    form = merged_form(SEED, facts, "kaigong")
    assert form.items == ("JLZL",)
    values = {k: VALID[k] for k in (f.field.key for f in form.fields) if k in VALID}
    values["road_work_start_on"] = "2020-01-01"  # before a planned start the form does not hold
    assert validate(form, values) == []


def test_values_of_fields_outside_the_form_are_ignored():
    form = merged_form(SEED, SMALL, "kaigong")
    values = {k: VALID[k] for k in (f.field.key for f in form.fields) if k in VALID}
    assert validate(form, {**values, "road_name": 12, "not_a_field": "x"}) == []


def test_each_department_receives_only_its_items_fields():
    form = merged_form(SEED, EVERYTHING, "kaigong")
    road = item_values(form, VALID, "JLZL")
    assert set(road) == {r.key for r in SEED.by_code["JLZL"].item.fields}
    assert "air_defence_class" not in road


@settings(max_examples=60, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "project_type": st.sampled_from(["房建", "市政", "交通", "水务", "绿化", "工业"]),
            "total_area": st.floats(0, 200000),
            "investment_wan": st.floats(0, 100000),
            "pit_depth_m": st.floats(0, 40),
            "special_construction": st.booleans(),
            "civil_building": st.booleans(),
            "occupies_green": st.booleans(),
            "occupies_road": st.booleans(),
            "excavates_road": st.booleans(),
            "temporary_drainage": st.booleans(),
            "construction_waste": st.booleans(),
            "earthwork_m3": st.floats(0, 1e6),
        },
    )
)
def test_for_any_project_the_form_covers_its_items_and_lists_each_field_once(facts):
    form = merged_form(SEED, facts, "kaigong")
    keys = [f.field.key for f in form.fields]
    assert len(keys) == len(set(keys))
    needed = {ref.key for code in form.items for ref in SEED.by_code[code].item.fields}
    assert set(keys) == needed
    order = list(form.items)
    for code in order:
        for predecessor in SEED.by_code[code].item.predecessors:
            assert predecessor not in order or order.index(predecessor) < order.index(code)
