"""Request signing of the SMS gateway contract, shared by `HttpSmsProvider` and the stub gateway.

The signature is HMAC-SHA256 (hex, lower case) under the app secret over
`app_key "\\n" timestamp "\\n" nonce "\\n" body`, where `body` is the exact bytes sent. Binding the
app key stops a signature being reused by another app; the timestamp and nonce stop replays.
Must not: know the secret's source (callers pass it) or do IO.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SIGNATURE_METHOD = "HMAC-SHA256"
# How far a request's timestamp may be from the gateway's clock, either way. Five minutes is the
# common window of Chinese cloud APIs; the gateway remembers nonces for as long.
TIMESTAMP_WINDOW_S = 300

H_APP_KEY = "X-App-Key"
H_TIMESTAMP = "X-Timestamp"
H_NONCE = "X-Nonce"
H_SIGNATURE = "X-Signature"
H_SIGNATURE_METHOD = "X-Signature-Method"


def new_nonce() -> str:
    return secrets.token_hex(16)


def signature(secret: str, app_key: str, timestamp: str, nonce: str, body: bytes) -> str:
    to_sign = b"\n".join([app_key.encode(), timestamp.encode(), nonce.encode(), body])
    return hmac.new(secret.encode(), to_sign, hashlib.sha256).hexdigest()


def signature_matches(secret: str, app_key: str, timestamp: str, nonce: str, body: bytes, given: str) -> bool:
    return hmac.compare_digest(signature(secret, app_key, timestamp, nonce, body), given)


def signed_headers(app_key: str, secret: str, body: bytes, timestamp_s: int, nonce: str) -> dict[str, str]:
    """The headers of one signed request; every attempt needs a fresh `nonce` and `timestamp_s`."""
    timestamp = str(timestamp_s)
    return {
        "Content-Type": "application/json",
        H_APP_KEY: app_key,
        H_TIMESTAMP: timestamp,
        H_NONCE: nonce,
        H_SIGNATURE_METHOD: SIGNATURE_METHOD,
        H_SIGNATURE: signature(secret, app_key, timestamp, nonce, body),
    }
