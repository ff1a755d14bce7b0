"""The `Annotated` identifier types inside request models: normal forms in, field-path 422 errors out."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from server.identity.validators import (
    IdCardNumber,
    MobileNumber,
    OrganizationCode,
    ProjectCode,
    UnifiedSocialCreditCode,
)


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mobile: MobileNumber
    id_card: IdCardNumber | None = None


class EnterpriseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    credit_code: UnifiedSocialCreditCode
    organization_code: OrganizationCode | None = None
    contact: Contact
    project_codes: list[ProjectCode] = []


GOOD = {
    "credit_code": "91310115ma1k427762",
    "contact": {"mobile": "+86 138-1234-1234", "id_card": "11010519491231002x"},
    "project_codes": ["2026－310115－47－01－000123"],
}


def test_a_valid_request_arrives_with_every_identifier_in_its_stored_form() -> None:
    enterprise = EnterpriseIn.model_validate(GOOD)
    assert enterprise.credit_code == "91310115MA1K427762"
    assert enterprise.contact.mobile == "13812341234"
    assert enterprise.contact.id_card == "11010519491231002X"
    assert enterprise.project_codes == ["2026-310115-47-01-000123"]


def test_each_bad_identifier_is_reported_at_its_field_path_with_its_code_and_chinese_message() -> None:
    bad = {
        "credit_code": "91310115MA1K427763",
        "organization_code": "332725244",
        "contact": {"mobile": "12812341234", "id_card": "310115199002301231"},
        "project_codes": ["2026-310115-47-01-000123", "2026-31011-47-01-000123"],
    }
    with pytest.raises(ValidationError) as caught:
        EnterpriseIn.model_validate(bad)
    errors = {err["loc"]: (err["type"], err["msg"]) for err in caught.value.errors()}
    assert errors == {
        ("credit_code",): ("invalid_credit_code", "统一社会信用代码第 18 位校验码不正确，请核对营业执照"),
        ("organization_code",): ("invalid_organization_code", "组织机构代码第 9 位校验码不正确"),
        ("contact", "mobile"): ("invalid_mobile_number", "手机号码应为以 13–19 开头的 11 位数字"),
        ("contact", "id_card"): ("invalid_id_card_number", "居民身份证号码第 7–14 位不是有效的出生日期"),
        ("project_codes", 1): ("invalid_project_code", "项目代码第 2 段地区代码应为 6 位数字"),
    }


def test_a_field_error_does_not_echo_the_personal_number_back() -> None:
    with pytest.raises(ValidationError) as caught:
        Contact.model_validate({"mobile": "13812341234", "id_card": "310115199003071238"})
    (error,) = caught.value.errors(include_input=False)
    assert "310115199003071238" not in str(error)


def test_a_non_string_value_gets_pydantics_own_type_error() -> None:
    with pytest.raises(ValidationError) as caught:
        Contact.model_validate({"mobile": 13812341234})
    assert [err["type"] for err in caught.value.errors()] == ["string_type"]


def test_the_json_schema_describes_each_identifier_with_an_example() -> None:
    schema = EnterpriseIn.model_json_schema()
    credit = schema["properties"]["credit_code"]
    assert credit["type"] == "string"
    assert credit["description"] == "统一社会信用代码（GB 32100-2015）"
    assert EnterpriseIn.model_validate({**GOOD, "credit_code": credit["examples"][0]})
