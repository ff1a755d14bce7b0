"""Identity models: the user a request acts for, login and account messages, and user administration."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class Author(Protocol):
    """Who writes a versioned definition (a rule set, the item catalogue): a logged-in user (`CurrentUser`) or
    the seed's administrator — what the audit entry and the version row need of them."""

    @property
    def id(self) -> UUID: ...
    @property
    def login(self) -> str: ...
    @property
    def org_id(self) -> UUID: ...


class CurrentUser(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID
    login: str
    display_name: str
    org_id: UUID
    org_name: str
    role: str


class DemoAccount(BaseModel):
    login: str
    role: str
    org_name: str


class PasswordLoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    login: str = Field(min_length=1, max_length=64, description="登录名")
    password: str = Field(min_length=1, max_length=1024, description="密码")


class SmsCodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: str = Field(min_length=11, max_length=20, description="手机号码")


class SmsLoginIn(SmsCodeIn):
    code: str = Field(min_length=1, max_length=12, description="短信验证码")


class SmsCodeOut(BaseModel):
    sent: bool = True
    resend_in_s: int
    expires_in_s: int


class PasswordChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class PhoneChangeCodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    new_phone: str = Field(min_length=11, max_length=20)
    password: str = Field(min_length=1, max_length=1024, description="当前密码（更换手机号前须再次验证身份）")


class PhoneChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    new_phone: str = Field(min_length=11, max_length=20)
    code: str = Field(min_length=1, max_length=12)


class DevSmsMessage(BaseModel):
    phone: str  # masked
    template: str
    params: dict[str, str]
    sent_at: datetime


class Done(BaseModel):
    done: bool = True


class SessionOut(BaseModel):
    user: CurrentUser
    csrf_token: str = Field(description="Send as X-CSRF-Token with every state-changing request")
    password_expired: bool = Field(default=False, description="须先修改密码（等保：定期更换）")


class LoggedOut(BaseModel):
    logged_out: bool = True
    sessions_closed: int = 1
