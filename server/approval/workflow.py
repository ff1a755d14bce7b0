"""The state machine of one item case (事项办件): the same for every item of the catalogue, with the
catalogue's predecessor graph as its one guard across items. Pure: no IO, no clock.

    draft ──submit──► submitted ──accept──► accepted ──start_review──► reviewing ──approve──► approved
                          │                   │  ▲                       │  ▲        └─refuse──► refused
                          │                   ▼  │ (resubmit)            ▼  │ (resubmit)
                          │             correction (补正: the clock pauses)
                          └─────────── withdraw (any state before a decision) ──► withdrawn

Who may act: the applicant submits, withdraws and answers a correction; the item's department accepts,
asks for a correction, reviews, approves and refuses. A correction or refusal needs a reason. An item is
approved only once every predecessor that applies to the project is approved (a refused or withdrawn
predecessor blocks it: the department must refuse or wait). The bundle's state (办件总状态) is derived
from its items' states, never stored.
Must not: read the clock, the database or the catalogue's storage; decide which department a user is in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Literal

from server.errors import Conflict, Forbidden, InvalidInput

State = Literal[
    "draft", "submitted", "accepted", "correction", "reviewing", "approved", "refused", "withdrawn"
]
Action = Literal[
    "submit", "accept", "request_correction", "resubmit", "start_review", "approve", "refuse", "withdraw"
]
Side = Literal["applicant", "department"]

STATE_LABELS: Final[Mapping[str, str]] = {
    "draft": "草稿", "submitted": "已提交", "accepted": "已受理", "correction": "补正中", "reviewing": "审查中",
    "approved": "已办结", "refused": "不予许可", "withdrawn": "已撤回",
}  # fmt: skip
ACTION_LABELS: Final[Mapping[str, str]] = {
    "submit": "提交", "accept": "受理", "request_correction": "要求补正", "resubmit": "补正后重新提交",
    "start_review": "开始审查", "approve": "准予许可（办结）", "refuse": "不予许可", "withdraw": "撤回",
}  # fmt: skip
FINAL: Final = frozenset({"approved", "refused", "withdrawn"})
PAUSED: Final = frozenset({"correction"})  # the working-day clock stops while the applicant corrects


@dataclass(frozen=True)
class Transition:
    action: Action
    side: Side
    sources: frozenset[str]
    target: State
    needs_reason: bool = False


TRANSITIONS: Final[Mapping[str, Transition]] = {
    t.action: t
    for t in (
        Transition("submit", "applicant", frozenset({"draft"}), "submitted"),
        Transition("accept", "department", frozenset({"submitted"}), "accepted"),
        Transition("request_correction", "department", frozenset({"accepted", "reviewing"}), "correction", True),
        Transition("resubmit", "applicant", frozenset({"correction"}), "reviewing"),
        Transition("start_review", "department", frozenset({"accepted"}), "reviewing"),
        Transition("approve", "department", frozenset({"reviewing"}), "approved"),
        Transition("refuse", "department", frozenset({"accepted", "reviewing"}), "refused", True),
        Transition("withdraw", "applicant", frozenset({"draft", "submitted", "accepted", "correction", "reviewing"}),
                   "withdrawn"),
    )
}  # fmt: skip


class WrongState(Conflict):
    code, message = "wrong_state", "办件当前状态不允许该操作"


class NotYourCase(Forbidden):
    code, message = "not_your_case", "只能办理本部门的办件"


class PredecessorsOpen(Conflict):
    code, message = "predecessors_open", "前置事项尚未办结，暂不能办结本事项"


def transition(
    state: str,
    action: str,
    side: Side,
    *,
    reason: str = "",
    predecessor_states: Iterable[str] = (),
) -> Transition:
    """The transition `action` makes from `state` for a caller on `side`, or the error that says why not."""
    found = TRANSITIONS.get(action)
    if found is None:
        raise InvalidInput(f"未知的操作：{action[:40]}", fields=[{"field": "action", "message": "未知的操作",
                                                              "type": "invalid"}])  # fmt: skip
    if found.side != side:
        raise NotYourCase("该操作由申请单位办理" if found.side == "applicant" else "该操作由审批部门办理")
    if state not in found.sources:
        raise WrongState(f"办件{STATE_LABELS.get(state, state)}，不能{ACTION_LABELS[action]}")
    if found.needs_reason and not reason.strip():
        raise InvalidInput(f"{ACTION_LABELS[action]}须填写理由", fields=[{"field": "reason", "message": "请填写理由",
                                                                     "type": "missing"}])  # fmt: skip
    if action == "approve":
        waiting = [s for s in predecessor_states if s != "approved"]
        if waiting:
            raise PredecessorsOpen(
                f"前置事项尚未办结（{'、'.join(STATE_LABELS.get(s, s) for s in waiting)}），暂不能办结本事项"
            )
    return found


BundleState = Literal["draft", "in_progress", "correction", "completed", "refused", "withdrawn"]
BUNDLE_LABELS: Final[Mapping[str, str]] = {
    "draft": "未提交", "in_progress": "办理中", "correction": "补正中", "completed": "全部办结",
    "refused": "有事项不予许可", "withdrawn": "已撤回",
}  # fmt: skip


def bundle_state(states: Iterable[str]) -> BundleState:
    """The bundle's state from its items' (derived each time, never stored)."""
    items = list(states)
    if not items or all(s == "draft" for s in items):
        return "draft"
    if all(s == "withdrawn" for s in items):
        return "withdrawn"
    if any(s == "refused" for s in items):
        return "refused"
    if any(s == "correction" for s in items):
        return "correction"
    if all(s in ("approved", "withdrawn") for s in items):
        return "completed"
    return "in_progress"
