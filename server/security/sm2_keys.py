"""SM2 key pairs and their encodings: raw bytes, hex, and the PEM files OpenSSL 3 reads and writes.

Private keys are PKCS#8 `PRIVATE KEY` (id-ecPublicKey + curve 1.2.156.10197.1.301, ECPrivateKey with
the public point), as `openssl genpkey -algorithm SM2` writes them; SEC1 `EC PRIVATE KEY` is read too.
Public keys are SPKI `PUBLIC KEY`. Raw public keys are X‖Y (64 bytes), 04‖X‖Y (65) or compressed (33),
told apart by length only, never by stripping leading "04"/"0" digits (gmssl 3.2.2's defect 2).
Must not: sign or encrypt (see `sm2`), read files or the environment, or show d in repr, str or errors.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from server.security import asn1, sm2_curve
from server.security.errors import InvalidKey

ID_EC_PUBLIC_KEY = asn1.oid("1.2.840.10045.2.1")
ID_SM2_CURVE = asn1.oid("1.2.156.10197.1.301")
_ALGORITHM = asn1.sequence(ID_EC_PUBLIC_KEY, ID_SM2_CURVE)
_PEM = re.compile(r"-----BEGIN ([A-Z ]+)-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END \1-----")
_CONTEXT_0, _CONTEXT_1 = 0xA0, 0xA1
_PKCS8_OPTIONAL = (0xA0, 0x81, 0xA1)  # [0] attributes; [1] public key of RFC 5958 v2, either form


@dataclass(frozen=True, slots=True, repr=False)
class Sm2PublicKey:
    """A point on the SM2 curve, kept as X‖Y (64 bytes, each coordinate big-endian, zero-padded)."""

    xy: bytes

    def __repr__(self) -> str:
        return f"Sm2PublicKey({self.to_hex()})"

    def __post_init__(self) -> None:
        if len(self.xy) != 64:
            raise InvalidKey("SM2 公钥长度应为 64 字节")
        x, y = int.from_bytes(self.xy[:32], "big"), int.from_bytes(self.xy[32:], "big")
        if not sm2_curve.is_on_curve(x, y):
            raise InvalidKey("SM2 公钥不是曲线上的点")

    @classmethod
    def from_bytes(cls, raw: bytes) -> Sm2PublicKey:
        """From X‖Y (64 bytes), 04‖X‖Y (65) or 02/03‖X (33)."""
        if len(raw) == 64:
            return cls(raw)
        if len(raw) == 65 and raw[0] == 4:
            return cls(raw[1:])
        if len(raw) == 33 and raw[0] in (2, 3):
            point = sm2_curve.decompress(raw[0], int.from_bytes(raw[1:], "big"))
            if point is None:
                raise InvalidKey("SM2 公钥不是曲线上的点")
            return cls(point[0].to_bytes(32, "big") + point[1].to_bytes(32, "big"))
        raise InvalidKey("SM2 公钥应为 64 字节 X‖Y、65 字节 04‖X‖Y 或 33 字节压缩格式")

    @classmethod
    def from_hex(cls, text: str) -> Sm2PublicKey:
        try:
            return cls.from_bytes(bytes.fromhex(text))
        except ValueError as exc:
            raise InvalidKey("SM2 公钥不是十六进制字符串") from exc

    @classmethod
    def from_der(cls, der: bytes) -> Sm2PublicKey:
        """From SubjectPublicKeyInfo DER."""
        try:
            spki = asn1.read_single(der)
            _read_algorithm(spki.read_sequence())
            point = spki.read_bit_string()
            spki.done()
        except asn1.Asn1Error as exc:
            raise InvalidKey("SM2 公钥不是有效的 SubjectPublicKeyInfo 结构") from exc
        return cls.from_bytes(point)

    @classmethod
    def from_pem(cls, pem: str | bytes) -> Sm2PublicKey:
        return cls.from_der(_pem_body(pem, "PUBLIC KEY"))

    def to_bytes(self) -> bytes:
        """04‖X‖Y, the uncompressed point."""
        return b"\x04" + self.xy

    def to_hex(self) -> str:
        return self.to_bytes().hex()

    def to_der(self) -> bytes:
        return asn1.sequence(_ALGORITHM, asn1.bit_string(self.to_bytes()))

    def to_pem(self) -> str:
        return _pem("PUBLIC KEY", self.to_der())


@dataclass(frozen=True, slots=True, repr=False)
class Sm2PrivateKey:
    """d (32 bytes) with its public key; constructing one checks that P = d·G."""

    d: bytes
    public_key: Sm2PublicKey

    def __repr__(self) -> str:
        return f"Sm2PrivateKey(public_key={self.public_key.to_hex()})"

    def __post_init__(self) -> None:
        if len(self.d) != 32 or not sm2_curve.is_valid_private(int.from_bytes(self.d, "big")):
            raise InvalidKey("SM2 私钥应为 32 字节且在 [1, n-2] 内")
        if _derive_xy(self.d) != self.public_key.xy:
            raise InvalidKey("SM2 私钥与公钥不匹配")

    @classmethod
    def from_bytes(cls, d: bytes) -> Sm2PrivateKey:
        """From the raw 32-byte scalar; the public key is derived."""
        if len(d) != 32 or not sm2_curve.is_valid_private(int.from_bytes(d, "big")):
            raise InvalidKey("SM2 私钥应为 32 字节且在 [1, n-2] 内")
        return cls(d, Sm2PublicKey(_derive_xy(d)))

    @classmethod
    def from_der(cls, der: bytes) -> Sm2PrivateKey:
        """From PKCS#8 PrivateKeyInfo DER (unencrypted)."""
        try:
            info = asn1.read_single(der)
            if info.read_unsigned() not in (0, 1):
                raise asn1.Asn1Error("unsupported PKCS#8 version")
            _read_algorithm(info.read_sequence())
            ec_private_key = info.read(asn1.OCTET_STRING)
            while (tag := info.peek_tag()) in _PKCS8_OPTIONAL:
                info.read(tag)
            info.done()
        except asn1.Asn1Error as exc:
            raise InvalidKey("SM2 私钥不是有效的 PKCS#8 结构") from exc
        return cls._from_ec_private_key(ec_private_key)

    @classmethod
    def from_pem(cls, pem: str | bytes) -> Sm2PrivateKey:
        """From `PRIVATE KEY` (PKCS#8) or `EC PRIVATE KEY` (SEC1) PEM; encrypted PEM is refused."""
        text = pem.decode("ascii", "replace") if isinstance(pem, bytes) else pem
        if "BEGIN ENCRYPTED PRIVATE KEY" in text:
            raise InvalidKey("不支持加密的私钥文件，请先用 openssl pkey 解密")
        if "BEGIN EC PRIVATE KEY" in text:
            return cls._from_ec_private_key(_pem_body(text, "EC PRIVATE KEY"))
        return cls.from_der(_pem_body(text, "PRIVATE KEY"))

    @classmethod
    def _from_ec_private_key(cls, der: bytes) -> Sm2PrivateKey:
        """From SEC1 ECPrivateKey; optional [0] curve must be SM2, optional [1] public key must match."""
        try:
            ec = asn1.read_single(der)
            if ec.read_unsigned() != 1:
                raise asn1.Asn1Error("unsupported ECPrivateKey version")
            d = ec.read(asn1.OCTET_STRING)
            point: bytes | None = None
            if ec.peek_tag() == _CONTEXT_0:
                curve = asn1.DerReader(ec.read(_CONTEXT_0))
                if curve.read_oid() != ID_SM2_CURVE:
                    raise InvalidKey("私钥不是 SM2 曲线上的密钥")
                curve.done()
            if ec.peek_tag() == _CONTEXT_1:
                wrapped = asn1.DerReader(ec.read(_CONTEXT_1))
                point = wrapped.read_bit_string()
                wrapped.done()
            ec.done()
        except asn1.Asn1Error as exc:
            raise InvalidKey("SM2 私钥不是有效的 ECPrivateKey 结构") from exc
        if len(d) != 32:
            raise InvalidKey("SM2 私钥应为 32 字节")
        if point is None:
            return cls.from_bytes(d)
        return cls(d, Sm2PublicKey.from_bytes(point))

    def to_der(self) -> bytes:
        """PKCS#8 PrivateKeyInfo DER, the same bytes `openssl pkey` writes for this key."""
        ec_private_key = asn1.sequence(
            asn1.integer(1),
            asn1.octet_string(self.d),
            asn1.tlv(_CONTEXT_1, asn1.bit_string(self.public_key.to_bytes())),
        )
        return asn1.sequence(asn1.integer(0), _ALGORITHM, asn1.octet_string(ec_private_key))

    def to_pem(self) -> str:
        return _pem("PRIVATE KEY", self.to_der())


def _derive_xy(d: bytes) -> bytes:
    x, y = sm2_curve.public_point(int.from_bytes(d, "big"))
    return x.to_bytes(32, "big") + y.to_bytes(32, "big")


def _read_algorithm(algorithm: asn1.DerReader) -> None:
    first = algorithm.read_oid()
    if first == ID_SM2_CURVE:  # some tools name the algorithm by the curve OID itself
        algorithm.done()
        return
    if first != ID_EC_PUBLIC_KEY or algorithm.read_oid() != ID_SM2_CURVE:
        raise InvalidKey("密钥不是 SM2 密钥")
    algorithm.done()


def _pem_body(pem: str | bytes, label: str) -> bytes:
    text = pem.decode("ascii", "replace") if isinstance(pem, bytes) else pem
    for match in _PEM.finditer(text):
        if match.group(1) == label:
            try:
                return base64.b64decode("".join(match.group(2).split()), validate=True)
            except binascii.Error as exc:
                raise InvalidKey("PEM 内容不是有效的 Base64") from exc
    raise InvalidKey(f"未找到 {label} 类型的 PEM 块")


def _pem(label: str, der: bytes) -> str:
    body = base64.b64encode(der).decode("ascii")
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----\n"
