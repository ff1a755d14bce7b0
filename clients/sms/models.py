"""SMS models: the message we send, the receipt a provider gives back, and the gateway's wire format.

Phone numbers are mainland China mobile numbers, 11 digits without country code or spaces.
`SmsMessage` hides its phone and params from `repr`, so logging a message by mistake leaks neither.
Must not: do IO or read settings.
"""

from __future__ import annotations

import re
import uuid
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from clients.sms.errors import InvalidPhone

# Mainland mobile numbers: 11 digits, first "1", second 3–9 (MIIT numbering plan; 10x–12x are not
# assigned to mobile subscribers).
PHONE_PATTERN = re.compile(r"^1[3-9]\d{9}$")
TEMPLATE_PATTERN = r"^[A-Za-z0-9_]{1,64}$"
PARAM_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,31}$"
MESSAGE_ID_PATTERN = r"^[A-Za-z0-9_.:-]{8,64}$"
# Gateways cap a template variable's length (commonly 20–35 characters); a code or a short name fits.
MAX_PARAM_CHARS = 35
MAX_PARAMS = 10


def mask_phone(phone: str) -> str:
    """138****5678 for a valid number; a fixed placeholder for anything else, so it is safe to log."""
    if PHONE_PATTERN.fullmatch(phone):
        return f"{phone[:3]}****{phone[-4:]}"
    return "***"


def require_phone(phone: str) -> str:
    """Return the phone if it is a mainland mobile number, else raise `InvalidPhone`."""
    if not PHONE_PATTERN.fullmatch(phone):
        raise InvalidPhone()
    return phone


def _check_phone(phone: str) -> str:
    if not PHONE_PATTERN.fullmatch(phone):
        raise ValueError("not a mainland China mobile number (11 digits, 13x–19x)")
    return phone


def new_message_id() -> str:
    return uuid.uuid4().hex


Phone = Annotated[str, AfterValidator(_check_phone)]
TemplateCode = Annotated[str, StringConstraints(pattern=TEMPLATE_PATTERN)]
ParamName = Annotated[str, StringConstraints(pattern=PARAM_NAME_PATTERN)]
ParamValue = Annotated[str, StringConstraints(min_length=1, max_length=MAX_PARAM_CHARS)]


class SmsMessage(BaseModel):
    """One SMS to send. `message_id` is the idempotency key: every retry of this message carries it,
    and the gateway delivers a message id at most once. `sent_at` is when the caller asked to send."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["sms.message"] = "sms.message"
    message_id: str = Field(default_factory=new_message_id, pattern=MESSAGE_ID_PATTERN)
    phone: Phone = Field(repr=False)
    template: TemplateCode
    params: dict[ParamName, ParamValue] = Field(default_factory=dict, max_length=MAX_PARAMS, repr=False)
    sent_at: AwareDatetime

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)


class SmsReceipt(BaseModel):
    """A provider took the message. `biz_id` is the provider's id of it (for delivery reports)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["sms.receipt"] = "sms.receipt"
    message_id: str
    provider: Literal["dev", "http"]
    biz_id: str
    accepted_at: AwareDatetime
    attempts: int = Field(ge=1)


class GatewayCode(StrEnum):
    """The `code` of a gateway answer (see the contract in `clients.sms.client`)."""

    OK = "OK"
    MALFORMED_REQUEST = "MALFORMED_REQUEST"
    INVALID_PHONE = "INVALID_PHONE"
    PHONE_BLOCKED = "PHONE_BLOCKED"
    INVALID_TEMPLATE = "INVALID_TEMPLATE"
    INVALID_PARAMS = "INVALID_PARAMS"
    UNKNOWN_APP = "UNKNOWN_APP"
    BAD_SIGNATURE = "BAD_SIGNATURE"
    STALE_TIMESTAMP = "STALE_TIMESTAMP"
    REPLAYED_NONCE = "REPLAYED_NONCE"
    RATE_LIMITED = "RATE_LIMITED"
    UNAVAILABLE = "UNAVAILABLE"


class GatewayRequest(BaseModel):
    """The JSON body we POST. Its fields are the gateway's, so it has no `type` of ours, and the stub
    reads it unvalidated so that it can answer bad values with the gateway's own codes."""

    model_config = ConfigDict(frozen=True)

    phone: str
    template: str
    params: dict[str, str]
    request_id: str

    @classmethod
    def of(cls, message: SmsMessage) -> GatewayRequest:
        return cls(
            phone=message.phone,
            template=message.template,
            params=message.params,
            request_id=message.message_id,
        )


class GatewayResponse(BaseModel):
    """The JSON body the gateway answers; `message` is free text and may echo the number: never log it."""

    code: str
    message: str = ""
    biz_id: str | None = None
