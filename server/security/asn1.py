"""The few DER (ASN.1) structures SM2 needs: integers, octet and bit strings, OIDs, sequences.

Used for PKCS#8 / SPKI keys, `SEQ{r, s}` signatures and GM/T 0009 `SEQ{x, y, C3, C2}` ciphertexts, so
that what we write is byte-for-byte what OpenSSL writes and what we read is strict DER.
Why our own: pyca/cryptography refuses SM2 keys and gmssl-pyx has no key encoding; a general ASN.1
library would be a dependency for ~100 lines.
Must not: accept BER (indefinite or non-minimal lengths, non-minimal integers, trailing bytes), know
about keys or curves, or raise anything but `Asn1Error` (callers turn it into their own error).
"""

from __future__ import annotations

INTEGER = 0x02
BIT_STRING = 0x03
OCTET_STRING = 0x04
OID = 0x06
SEQUENCE = 0x30
MAX_LENGTH_OCTETS = 3  # 16 MiB is far beyond any key, signature or SM2 ciphertext we handle


class Asn1Error(ValueError):
    """The bytes are not the strict DER structure expected."""


def tlv(tag: int, value: bytes) -> bytes:
    size = len(value)
    if size < 0x80:
        return bytes((tag, size)) + value
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + value


def integer(value: int) -> bytes:
    if value < 0:
        raise Asn1Error("negative integers are not used here")
    return tlv(INTEGER, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def octet_string(value: bytes) -> bytes:
    return tlv(OCTET_STRING, value)


def bit_string(value: bytes) -> bytes:
    return tlv(BIT_STRING, b"\x00" + value)


def sequence(*items: bytes) -> bytes:
    return tlv(SEQUENCE, b"".join(items))


def oid(dotted: str) -> bytes:
    arcs = [int(arc) for arc in dotted.split(".")]
    body = bytearray((40 * arcs[0] + arcs[1],))
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return tlv(OID, bytes(body))


class DerReader:
    """Reads the elements of one DER value in order; `done()` insists nothing is left over."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._at = 0

    def peek_tag(self) -> int | None:
        return self._data[self._at] if self._at < len(self._data) else None

    def read(self, tag: int) -> bytes:
        """The content octets of the next element, which must carry `tag`."""
        data, at = self._data, self._at
        if at + 2 > len(data):
            raise Asn1Error("truncated DER element")
        if data[at] != tag:
            raise Asn1Error(f"expected DER tag {tag:#04x}, found {data[at]:#04x}")
        first = data[at + 1]
        at += 2
        if first < 0x80:
            size = first
        else:
            count = first & 0x7F
            if count == 0 or count > MAX_LENGTH_OCTETS or at + count > len(data):
                raise Asn1Error("unsupported or truncated DER length")
            size = int.from_bytes(data[at : at + count], "big")
            if size < 0x80 or data[at] == 0:
                raise Asn1Error("non-minimal DER length")
            at += count
        if at + size > len(data):
            raise Asn1Error("truncated DER element")
        self._at = at + size
        return data[at : at + size]

    def read_sequence(self) -> DerReader:
        return DerReader(self.read(SEQUENCE))

    def read_unsigned(self) -> int:
        body = self.read(INTEGER)
        if not body:
            raise Asn1Error("empty DER integer")
        if body[0] & 0x80:
            raise Asn1Error("negative DER integer")
        if len(body) > 1 and body[0] == 0 and not body[1] & 0x80:
            raise Asn1Error("non-minimal DER integer")
        return int.from_bytes(body, "big")

    def read_oid(self) -> bytes:
        """The complete OID element (tag and length included), to compare with `oid(...)`."""
        start = self._at
        self.read(OID)
        return self._data[start : self._at]

    def read_bit_string(self) -> bytes:
        body = self.read(BIT_STRING)
        if not body or body[0] != 0:
            raise Asn1Error("DER bit string with unused bits")
        return body[1:]

    def done(self) -> None:
        if self._at != len(self._data):
            raise Asn1Error("trailing bytes after DER value")


def read_single(data: bytes) -> DerReader:
    """The contents of `data`, which must be exactly one DER SEQUENCE."""
    outer = DerReader(data)
    inner = outer.read_sequence()
    outer.done()
    return inner
