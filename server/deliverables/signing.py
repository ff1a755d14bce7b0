"""The platform's document-signing key and what it signs.

An issued document's signature is SM2 (GB/T 32918, through `server.security.gm`) over an ASCII
statement naming the document id, kind, revision, the SM3 of its canonical content (the digest in its
QR code) and the SM3 of each delivered file:

    tongban-deliverable/1|TB20261129K7Q2M9XA|construction_permit|1|<content sm3>|pdf=<sm3>

so anyone holding the published public key (`GET /api/v1/verify/key`) can check a document with the
`openssl` command line alone. The private key is the key store's `deliverable-sm2` (32 random bytes,
made on first use, never in the repository); a certified cipher machine can take it over behind `gm`.
Must not: sign anything but statements built here.
"""

from __future__ import annotations

import functools

from server.keystore import KeyRing
from server.security.gm import DEFAULT_DISTINGUISHING_ID, Sm2PrivateKey, Sm2PublicKey, sm2_sign, sm2_verify

KEY_NAME = "deliverable-sm2"
PREFIX = "tongban-deliverable/1"


def statement(doc_id: str, kind: str, revision: int, content_sm3: str, files: dict[str, str]) -> str:
    parts = [PREFIX, doc_id, kind, str(revision), content_sm3]
    parts += [f"{ext}={sm3}" for ext, sm3 in sorted(files.items())]
    return "|".join(parts)


@functools.cache
def _private_key(keys: KeyRing) -> Sm2PrivateKey:
    return Sm2PrivateKey.from_bytes(keys.key(KEY_NAME, 32))


def public_key(keys: KeyRing) -> Sm2PublicKey:
    return _private_key(keys).public_key


def sign(keys: KeyRing, text: str) -> bytes:
    return sm2_sign(_private_key(keys), text.encode("ascii"))


def verify(keys: KeyRing, text: str, signature: bytes) -> bool:
    return sm2_verify(public_key(keys), text.encode("ascii"), signature)


DISTINGUISHING_ID = DEFAULT_DISTINGUISHING_ID.decode()
