"""Identity models: the user a request acts for, and the demo-login messages."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


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
    display_name: str
    role: str
    org_name: str


class DevLoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    login: str = Field(min_length=1, max_length=64, description="A demo account's login name")


class SessionOut(BaseModel):
    user: CurrentUser
    csrf_token: str = Field(description="Send as X-CSRF-Token with every state-changing request")


class LoggedOut(BaseModel):
    logged_out: bool = True
    sessions_closed: int = 1
