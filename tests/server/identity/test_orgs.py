"""Registering organisations: the 统一社会信用代码 is checked (both check characters), required for
enterprises, unique; every registration is audited."""

from __future__ import annotations

import pytest

from server.identity.validators import credit_code_check_char, org_code_check_char


def valid_credit_code(seed: int) -> str:
    body = f"9131011{seed % 10}" + f"{seed:08d}"[-8:]
    first17 = body + org_code_check_char(body[8:16])
    return first17 + credit_code_check_char(first17)


async def test_an_enterprise_with_a_valid_credit_code_is_registered_listed_and_audited(as_user):
    admin = await as_user("admin")
    code = valid_credit_code(20261128)
    created = await admin.post("/api/v1/admin/orgs", json={"kind": "enterprise", "name": "上海测试置业有限公司",
                                                           "credit_code": code.lower()})  # fmt: skip
    assert created.status_code == 201, created.text
    listed = (await admin.get("/api/v1/admin/orgs")).json()["items"]
    assert {"id": created.json()["id"], "name": "上海测试置业有限公司", "kind": "enterprise"} in listed
    auditor = await as_user("audit")
    entries = (await auditor.get("/api/v1/audit", params={"action": "identity.org_create"})).json()["items"]
    assert any(e["detail"]["credit_code"] == code for e in entries)  # stored upper-case, normalised
    again = await admin.post(
        "/api/v1/admin/orgs", json={"kind": "enterprise", "name": "重复", "credit_code": code}
    )
    assert (again.status_code, again.json()["error"]["code"]) == (409, "conflict")


@pytest.mark.parametrize(
    ("credit_code", "why"),
    [
        ("91310115MA1K4AB147", "第 18 位校验码"),
        ("91310115MA1K4AB1I6", "I、O、Z、S、V"),
        ("9131011", "18 位"),
        ("' OR 1=1 --", ""),
    ],
    ids=["check-char", "forbidden-letter", "short", "sql"],
)
async def test_an_invalid_credit_code_is_refused_with_its_field_and_reason(as_user, credit_code, why):
    response = await (await as_user("admin")).post(
        "/api/v1/admin/orgs", json={"kind": "enterprise", "name": "无效单位", "credit_code": credit_code}
    )
    assert response.status_code == 422
    field = response.json()["error"]["fields"][0]
    assert field["field"] == "credit_code"
    assert why in field["message"]


async def test_an_enterprise_without_a_credit_code_is_refused(as_user):
    response = await (await as_user("admin")).post(
        "/api/v1/admin/orgs", json={"kind": "enterprise", "name": "无码单位"}
    )
    assert (response.status_code, response.json()["error"]["code"]) == (422, "credit_code_required")


async def test_a_department_is_registered_with_a_code_of_our_own(as_user):
    response = await (await as_user("admin")).post(
        "/api/v1/admin/orgs", json={"kind": "department", "name": "上海市测试审批中心", "code": "DEPT-TEST-1"}
    )
    assert response.status_code == 201
