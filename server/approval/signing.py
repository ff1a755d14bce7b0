"""The enterprise's signature on a 开工一件事 application (一张表单 e-signature), verified on the server.

What is signed is the canonical JSON of the submission — project, bundle, the catalogue version it was
filled against, the applicable items, the form values, and the SM3 of every material file — never a
rendered page (domain.md §1.8): sorted keys, no spaces, UTF-8. The enterprise signs it with the SM2 key of
its certificate (in production the CA's UKey; in the demo, a key file `var/demo-keys/<org>.sm2.json` that
the browser reads), as GM/T 0009 defines (SM3 with Z of the default ID, DER signature). The server keeps
only certificates' public keys (`org_certificate`), checks that the certificate is the submitting
enterprise's, valid today and not revoked, and verifies the signature; the signed bytes are stored
(sealed) with the signature, so it can be verified again later.
Must not: hold enterprises' private keys (the demo seed writes them to files and forgets them).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from server.errors import InvalidInput
from server.security.gm import Sm2PublicKey, sm2_generate_keypair, sm2_verify, sm3_hex

CERTIFICATE = """
    SELECT id, org_id, serial, subject, public_key_pem, valid_from, valid_to, revoked_at
    FROM org_certificate WHERE id = $1"""
ORG_CERTIFICATES = """
    SELECT id, serial, subject, valid_from, valid_to, revoked_at FROM org_certificate
    WHERE org_id = $1 ORDER BY valid_to DESC"""
INSERT_CERTIFICATE = """
    INSERT INTO org_certificate (id, org_id, serial, subject, public_key_pem, valid_from, valid_to)
    VALUES ($1, $2, $3, $4, $5, $6, $7)"""
HAS_CERTIFICATE = "SELECT EXISTS (SELECT 1 FROM org_certificate WHERE org_id = $1 AND revoked_at IS NULL)"


class SignatureInvalid(InvalidInput):
    code, message = "signature_invalid", "电子签名验证未通过"


def canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def signed_payload(
    project_id: UUID, bundle: str, catalogue_version_id: UUID, items: list[str], values: dict[str, Any],
    materials: dict[str, list[str]],
) -> dict[str, Any]:  # fmt: skip
    """What the enterprise signs: the client builds the same object (`GET …/kaigong/form` gives its parts)."""
    return {
        "project_id": str(project_id), "bundle": bundle, "catalogue_version_id": str(catalogue_version_id),
        "items": sorted(items), "values": values, "materials": {k: sorted(v) for k, v in sorted(materials.items())},
    }  # fmt: skip


async def verify(conn: Any, org_id: UUID, certificate_id: UUID, signed: bytes, signature: bytes) -> str:
    """The SM3 of `signed` once `signature` verifies with a valid certificate of `org_id`; else
    SignatureInvalid saying why."""
    row = await conn.fetchrow(CERTIFICATE, certificate_id)
    now = datetime.now(UTC)
    if row is None or row["org_id"] != org_id:
        raise SignatureInvalid("签名证书不存在或不属于本单位")
    if row["revoked_at"] is not None:
        raise SignatureInvalid("签名证书已吊销")
    if not row["valid_from"] <= now <= row["valid_to"]:
        raise SignatureInvalid("签名证书不在有效期内")
    if not sm2_verify(Sm2PublicKey.from_pem(row["public_key_pem"]), signed, signature):
        raise SignatureInvalid("电子签名与提交的内容不符：内容可能在签名后被改动，或签名不是用本单位证书所签")
    return sm3_hex(signed)


async def certificates_of(conn: Any, org_id: UUID) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(ORG_CERTIFICATES, org_id)]


async def issue_demo_certificate(
    conn: Any, org_id: UUID, org_code: str, org_name: str, keys_dir: Path, *, only_if_none: bool = True
) -> Path | None:
    """Demo only: an SM2 key pair for an enterprise; the public half is registered, the private half written
    to `keys_dir/<org_code>.sm2.json` (mode 0600) for the demo browser to load. Returns the key file, or None
    when `only_if_none` and the enterprise has a certificate already."""
    if only_if_none and await conn.fetchval(HAS_CERTIFICATE, org_id):
        return None
    key = sm2_generate_keypair()
    certificate_id = uuid.uuid4()
    now = datetime.now(UTC)
    serial = secrets.token_hex(8).upper()
    await conn.execute(INSERT_CERTIFICATE, certificate_id, org_id, serial, f"CN={org_name},O={org_name}",
                       key.public_key.to_pem(), now - timedelta(days=1), now + timedelta(days=3 * 365))  # fmt: skip
    path = keys_dir / f"{org_code}.sm2.json"
    content = json.dumps({
        "org": org_code, "certificate_id": str(certificate_id), "serial": serial,
        "private_key_hex": key.d.hex(), "public_key_hex": key.public_key.to_hex(),
        "note": "演示用企业数字证书密钥文件（生产环境由 CA 的 UKey 签名，私钥不出 UKey）",
    }, ensure_ascii=False, indent=2)  # fmt: skip
    await asyncio.to_thread(_write_private, path, content)
    return path


def _write_private(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.touch(mode=0o600)
    path.write_text(content)
