"""The identity printed on every issued document: its id, revision, digest and the QR payload.

The QR payload is ASCII only (a byte-mode QR without ECI turns UTF-8 Chinese into mojibake in common
decoders, docgen.md §2): the verification URL carrying the document id and the SM3 digest,
`<base>/verify/<id>?sm3=<64 hex>`. The digest is over the document's canonical content (what it says),
computed by the issuing service before rendering, because a file cannot contain its own hash; the
service also records the SM3 of the rendered files, so an altered file is caught too.
Must not: sign (the issuing service does, with the platform's SM2 key) or render anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

DOC_ID = re.compile(r"^TB[0-9]{8}[0-9A-HJ-NP-Z]{8}$")  # TB + issue date + 8 chars (no I, O)
SM3_HEX = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Stamp:
    doc_id: str  # e.g. TB20261129K7Q2M9XA
    revision: int  # 1, 2, … for documents regenerated from newer data
    digest: str  # SM3 hex of the canonical content
    verify_base: str  # "https://host" (no trailing slash)
    issued_on: str  # "2026-11-29", shown on the document (Asia/Shanghai date)

    @property
    def payload(self) -> str:
        return verification_url(self.verify_base, self.doc_id, self.digest)

    @property
    def short_digest(self) -> str:
        """The first 16 hex digits, printed next to the QR for a human check."""
        return self.digest[:16].upper()


def verification_url(base: str, doc_id: str, digest: str) -> str:
    url = f"{base.rstrip('/')}/verify/{doc_id}?sm3={digest}"
    if not url.isascii():
        raise ValueError("the verification URL must be ASCII")
    return url


def parse_payload(payload: str) -> tuple[str, str] | None:
    """(doc id, digest) from a scanned payload, or None when it is not one of ours."""
    parts = urlsplit(payload.strip())
    match = re.fullmatch(r"/verify/([0-9A-Z]+)", parts.path)
    digest = parse_qs(parts.query).get("sm3", [""])[0]
    if match is None or not DOC_ID.match(match.group(1)) or not SM3_HEX.match(digest):
        return None
    return match.group(1), digest
