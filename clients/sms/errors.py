"""The errors of sending an SMS, as members of tongban's one hierarchy (`server.errors`).

What the user did wrong (a number or template the gateway refuses, sending too often) is a 4xx;
everything that is ours or the gateway's to fix (gateway down, slow, or refusing our credentials)
is an `Unavailable` (503), so the user is told to try again later and ops are told in the log.
Must not: carry the phone number, the code or the gateway's free text in `data`; `data` goes to
the browser as part of the error JSON.
"""

from __future__ import annotations

from server.errors import InvalidInput, TongbanError, Unavailable


class SmsFailure(TongbanError):
    """Base of every SMS error. `gateway_code` is the gateway's error code when it answered one,
    `attempts` how many requests were made; both are for logs and tests, not for the user."""

    def __init__(self, message: str | None = None, *, gateway_code: str | None = None, attempts: int = 0):
        super().__init__(message)
        self.gateway_code = gateway_code
        self.attempts = attempts


class InvalidPhone(SmsFailure, InvalidInput):
    code, message = "invalid_phone", "请输入正确的中国大陆手机号码"


class SmsPhoneRejected(SmsFailure, InvalidInput):
    code, message = "sms_phone_rejected", "该手机号码暂时无法接收短信，请核对号码或更换号码"


class SmsTemplateRejected(SmsFailure, InvalidInput):
    code, message = "sms_template_rejected", "短信内容未被短信平台接受"


class SmsRateLimited(SmsFailure):
    status, code, message = 429, "sms_rate_limited", "短信发送过于频繁，请稍后再试"


class SmsUnavailable(SmsFailure, Unavailable):
    """The gateway could not be reached, timed out, answered 5xx or answered nonsense."""

    code, message = "sms_unavailable", "短信服务暂时不可用，请稍后重试"


class SmsGatewayRefused(SmsUnavailable):
    """The gateway refused our request itself (credentials, signature, clock, nonce): ops must act."""

    code = "sms_gateway_refused"
