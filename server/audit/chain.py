"""The MAC of one audit entry: HMAC-SM3 over the previous entry's MAC and this entry's canonical
bytes. Pure functions shared by the writer and the verifier.

Must not: read the clock or the database (callers pass every field).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from server.security.gm import hmac_sm3

GENESIS = "0" * 64  # prev_mac of the first entry


def canonical(seq: int, at: datetime, record: dict[str, Any]) -> bytes:
    """The bytes the MAC covers: every field, in a fixed order and encoding."""
    body = {
        "seq": seq,
        "at": at.isoformat(timespec="microseconds"),
        "action": record["action"],
        "outcome": record["outcome"],
        "actor_id": str(record["actor_id"]) if record["actor_id"] else None,
        "actor_login": record["actor_login"],
        "org_id": str(record["org_id"]) if record["org_id"] else None,
        "ip": str(record["ip"]) if record["ip"] else None,
        "target": record["target"],
        "detail": record["detail"],
    }
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def entry_mac(key: bytes, prev_mac: str, seq: int, at: datetime, record: dict[str, Any]) -> str:
    return hmac_sm3(key, prev_mac.encode() + b"\n" + canonical(seq, at, record)).hex()
