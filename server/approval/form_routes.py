"""Routes of the one form (一张表单) of 开工一件事: read it (merged for the values so far, prefilled,
with the draft), check values live, save the draft, submit it signed. Thin: parse, authorise (declared
permission, then `server.approval.access.applicant_of`), call `server.approval.applications`, shape.
Must not: hold SQL or decide what the form contains.
"""

from __future__ import annotations

from uuid import UUID

from starlette.requests import Request

from actors.project.actor import project_address
from actors.project.messages import GetProject
from server.approval import applications, signing
from server.approval.access import APPLY, applicant_of
from server.approval.case_routes import progress_of
from server.approval.models import DraftIn, DraftOut, FormOut, SubmitIn, SubmittedOut, ValuesIn
from server.errors import Conflict, InvalidInput
from server.routing import ApiRoute, RouteTable, client_ip, require_user
from server.runtime import runtime

TAGS = ("kaigong",)
IDEMPOTENCY_HEADER = "idempotency-key"


async def get_kaigong_form(request: Request) -> FormOut:
    user = require_user(request)
    rt = runtime(request)
    project_id: UUID = request.path_params["project_id"]
    async with rt.pool.acquire() as conn:
        await applicant_of(conn, user, project_id)
        pub = await applications.published(conn)
        prefilled = await applications.prefill(conn, rt.keys, pub, user, project_id)
        draft, revision = await applications.draft_of(conn, rt.keys, project_id)
        certificates = await signing.certificates_of(conn, user.org_id)
    values = {**prefilled, **(draft or {})}
    form = applications.form_of(pub, values)
    return FormOut(**form, values=values, draft_revision=revision, prefilled=sorted(prefilled),
                   certificates=[{**c, "id": str(c["id"])} for c in certificates])  # fmt: skip


async def check_kaigong_form(request: Request, body: ValuesIn) -> FormOut:
    user = require_user(request)
    rt = runtime(request)
    project_id: UUID = request.path_params["project_id"]
    async with rt.pool.acquire() as conn:
        await applicant_of(conn, user, project_id)
        pub = await applications.published(conn)
    return FormOut(**applications.form_of(pub, body.values), values=body.values)


async def save_kaigong_draft(request: Request, body: DraftIn) -> DraftOut:
    user = require_user(request)
    rt = runtime(request)
    project_id: UUID = request.path_params["project_id"]
    async with rt.pool.acquire() as conn:
        await applicant_of(conn, user, project_id)
        revision = await applications.save_draft(conn, rt.keys, project_id, body.values, body.revision, user)
    return DraftOut(revision=revision)


async def submit_kaigong(request: Request, body: SubmitIn) -> SubmittedOut:
    user = require_user(request)
    rt = runtime(request)
    project_id: UUID = request.path_params["project_id"]
    key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
    if not 8 <= len(key) <= 100 or not key.isascii():
        field = {"field": "Idempotency-Key", "message": "缺少或格式错误", "type": "missing"}
        raise InvalidInput("缺少 Idempotency-Key（8–100 个 ASCII 字符），无法防止重复提交", fields=[field])
    project = rt.actors.ref(project_address(project_id))
    async with rt.pool.acquire() as conn:
        await applicant_of(conn, user, project_id)
        if await applications.earlier_submission(conn, user.org_id, key) == project_id:
            return SubmittedOut(
                **progress_of(await project.ask(GetProject(), rt.settings.ask_timeout_s)).model_dump()
            )
        pub = await applications.published(conn)
        message = await applications.prepare(conn, rt.keys, pub, user, project_id, body.signed, body.signature,
                                             body.certificate_id, key)  # fmt: skip
    message = message.model_copy(update={"ip": client_ip(request)})
    try:
        state = await project.ask(message, rt.settings.ask_timeout_s)
    except Conflict:
        async with rt.pool.acquire() as conn:  # the same key raced in from another request: its answer
            if await applications.earlier_submission(conn, user.org_id, key) != project_id:
                raise
        state = await project.ask(GetProject(), rt.settings.ask_timeout_s)
    return SubmittedOut(**progress_of(state).model_dump(), application_id=message.application_id)


FORM = "/api/v1/projects/{project_id:uuid}/kaigong"
ROUTES = RouteTable(
    api=[
        ApiRoute("GET", FORM + "/form", get_kaigong_form, APPLY, FormOut,
                 summary="开工一件事一张表单（合并、预填、草稿）", tags=TAGS),
        ApiRoute("POST", FORM + "/form/check", check_kaigong_form, APPLY, FormOut, body=ValuesIn,
                 summary="实时校验表单（不保存）", tags=TAGS),
        ApiRoute("PUT", FORM + "/draft", save_kaigong_draft, APPLY, DraftOut, body=DraftIn,
                 summary="保存草稿（带版本号，防止覆盖）", tags=TAGS),
        ApiRoute("POST", FORM + "/applications", submit_kaigong, APPLY, SubmittedOut, body=SubmitIn, status=201,
                 summary="提交经企业证书签名的申报（Idempotency-Key 防重复）", tags=TAGS),
    ]
)  # fmt: skip
