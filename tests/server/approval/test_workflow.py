"""The item case state machine: every allowed path, every refused one (wrong side, wrong state, no
reason, open predecessors), and the bundle state derived from the items."""

from __future__ import annotations

import pytest

from server.approval import workflow
from server.approval.workflow import TRANSITIONS, bundle_state, transition
from server.errors import Conflict, Forbidden, InvalidInput


def walk(*steps: tuple[str, workflow.Side]) -> str:
    state = "draft"
    for action, side in steps:
        reason = "材料不全" if TRANSITIONS[action].needs_reason else ""
        state = transition(state, action, side, reason=reason).target
    return state


def test_a_case_goes_from_draft_through_a_correction_round_to_approved():
    assert walk(("submit", "applicant"), ("accept", "department"), ("start_review", "department"),
                ("request_correction", "department"), ("resubmit", "applicant"),
                ("approve", "department")) == "approved"  # fmt: skip


def test_a_department_may_refuse_after_acceptance_and_the_applicant_may_withdraw_before_a_decision():
    assert walk(("submit", "applicant"), ("accept", "department"), ("refuse", "department")) == "refused"
    assert walk(("submit", "applicant"), ("accept", "department"), ("withdraw", "applicant")) == "withdrawn"


@pytest.mark.parametrize("action", sorted(TRANSITIONS))
def test_each_action_is_refused_to_the_other_side(action: str):
    other: workflow.Side = "department" if TRANSITIONS[action].side == "applicant" else "applicant"
    source = sorted(TRANSITIONS[action].sources)[0]
    with pytest.raises(Forbidden):
        transition(source, action, other, reason="理由")


@pytest.mark.parametrize("state", ["approved", "refused", "withdrawn"])
def test_nothing_moves_a_decided_case(state: str):
    for action, t in TRANSITIONS.items():
        with pytest.raises(Conflict):
            transition(state, action, t.side, reason="理由")


def test_a_correction_or_refusal_needs_a_reason_and_an_unknown_action_is_invalid_input():
    with pytest.raises(InvalidInput):
        transition("accepted", "request_correction", "department", reason="  ")
    with pytest.raises(InvalidInput):
        transition("reviewing", "refuse", "department")
    with pytest.raises(InvalidInput):
        transition("draft", "approve_everything", "department")


def test_approval_waits_for_every_applicable_predecessor():
    with pytest.raises(workflow.PredecessorsOpen) as caught:
        transition("reviewing", "approve", "department", predecessor_states=["approved", "reviewing"])
    assert "审查中" in caught.value.detail
    assert (
        transition("reviewing", "approve", "department", predecessor_states=["approved"]).target == "approved"
    )


def test_the_bundle_state_is_derived_from_its_items():
    assert bundle_state([]) == "draft"
    assert bundle_state(["submitted", "accepted"]) == "in_progress"
    assert bundle_state(["approved", "correction"]) == "correction"
    assert bundle_state(["approved", "refused", "reviewing"]) == "refused"
    assert bundle_state(["approved", "withdrawn"]) == "completed"
    assert bundle_state(["withdrawn", "withdrawn"]) == "withdrawn"
