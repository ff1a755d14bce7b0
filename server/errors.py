"""The one error hierarchy of tongban. `server.app` maps it to HTTP once; websockets and jobs map it too.

A `TongbanError` carries an HTTP status, a machine code and a user-facing Chinese message.
Must not: import Starlette or know about transports.
"""

from __future__ import annotations

from typing import ClassVar


class TongbanError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    message: ClassVar[str] = "服务器内部错误"

    def __init__(self, message: str | None = None, **data: object) -> None:
        self.detail = message or type(self).message
        self.data = data
        super().__init__(self.detail)


class BadRequest(TongbanError):
    status, code, message = 400, "bad_request", "请求格式错误"


class MalformedJson(BadRequest):
    code, message = "malformed_json", "请求体不是合法的 JSON"


class InvalidInput(TongbanError):
    status, code, message = 422, "invalid_input", "提交的数据不符合要求"


class Unauthenticated(TongbanError):
    status, code, message = 401, "unauthenticated", "请先登录"


class Forbidden(TongbanError):
    status, code, message = 403, "forbidden", "没有执行该操作的权限"


class CsrfFailed(Forbidden):
    code, message = "csrf_failed", "页面已过期或请求来源不明，请刷新页面后重试"


class PasswordExpired(Forbidden):
    code, message = "password_expired", "密码已超过有效期，请先修改密码"


class TokenScope(Forbidden):
    code, message = "token_scope", "该令牌无权执行此操作"


class NotFound(TongbanError):
    status, code, message = 404, "not_found", "未找到该记录"


class MethodNotAllowed(TongbanError):
    status, code, message = 405, "method_not_allowed", "不支持该请求方法"


class Conflict(TongbanError):
    status, code, message = 409, "conflict", "状态已变化，请刷新后重试"


class PayloadTooLarge(TongbanError):
    status, code, message = 413, "payload_too_large", "请求体过大"


class UnsupportedMediaType(TongbanError):
    status, code, message = 415, "unsupported_media_type", "请求体须为 application/json"


class Gone(TongbanError):
    status, code, message = 410, "gone", "该记录已过期"


class Locked(TongbanError):
    status, code, message = 423, "locked", "该上传正在由另一个请求写入，请稍后重试"


class ChecksumMismatch(TongbanError):
    """tus checksum extension: the chunk's bytes do not match its Upload-Checksum (status 460)."""

    status, code, message = 460, "checksum_mismatch", "数据块校验值不符，该数据块未保存"


class Unavailable(TongbanError):
    status, code, message = 503, "unavailable", "服务暂时不可用，请稍后重试"


class DatabaseUnavailable(Unavailable):
    code, message = "database_unavailable", "数据库暂时不可用，请稍后重试"


class RedisUnavailable(Unavailable):
    code, message = "redis_unavailable", "缓存服务暂时不可用，请稍后重试"


class AskTimeout(Unavailable):
    status, code, message = 504, "timeout", "处理超时，请稍后重试"


class MigrationError(Exception):
    """A migration cannot be applied safely (edited after being applied, missing, or failing)."""
