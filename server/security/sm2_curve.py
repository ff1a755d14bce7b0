"""The SM2 curve (GB/T 32918.5): its parameters, point validation and deriving a public key from d.

Needed because gmssl-pyx signs with (d, P) but cannot compute P = d·G, and a key imported as raw d or
from a PKCS#8 file without its public part must still sign; an imported pair is also checked to match.
Why our own: pyca/cryptography has no SM2 curve and GmSSL exposes no point arithmetic.
Must not: sign, encrypt or decrypt (that is GmSSL's job: this code is not constant-time, so it only
runs when a key is loaded or generated, never per operation on attacker-chosen input).
"""

from __future__ import annotations

P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
A = P - 3
B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
GX = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
GY = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0

_Jacobian = tuple[int, int, int]
_INFINITY: _Jacobian = (1, 1, 0)


def is_valid_private(d: int) -> bool:
    # GB/T 32918.1 6.1: d in [1, n-2], because signing divides by (1 + d).
    return 1 <= d <= N - 2


def is_on_curve(x: int, y: int) -> bool:
    """Whether (x, y) is a point of the curve (cofactor 1, so every such point is a valid public key)."""
    return 0 <= x < P and 0 <= y < P and (y * y - (x * x * x + A * x + B)) % P == 0


def decompress(prefix: int, x: int) -> tuple[int, int] | None:
    """y for a compressed point (prefix 2 = even y, 3 = odd y), or None if x is not on the curve."""
    y = pow((x * x * x + A * x + B) % P, (P + 1) // 4, P)  # P ≡ 3 (mod 4)
    if not is_on_curve(x, y):
        return None
    return (x, y) if y % 2 == prefix - 2 else (x, P - y)


def public_point(d: int) -> tuple[int, int]:
    """d·G in affine coordinates; d must satisfy `is_valid_private`."""
    result = _INFINITY
    addend: _Jacobian = (GX, GY, 1)
    while d:
        if d & 1:
            result = _add(result, addend)
        addend = _double(addend)
        d >>= 1
    x, y, z = result
    z_inv = pow(z, -1, P)
    z_inv2 = z_inv * z_inv % P
    return x * z_inv2 % P, y * z_inv2 * z_inv % P


def _double(point: _Jacobian) -> _Jacobian:
    x, y, z = point
    if z == 0 or y == 0:
        return _INFINITY
    yy = y * y % P
    s = 4 * x * yy % P
    zz = z * z % P
    m = 3 * (x - zz) * (x + zz) % P  # a = -3
    x3 = (m * m - 2 * s) % P
    return x3, (m * (s - x3) - 8 * yy * yy) % P, 2 * y * z % P


def _add(p1: _Jacobian, p2: _Jacobian) -> _Jacobian:
    x1, y1, z1 = p1
    x2, y2, z2 = p2
    if z1 == 0:
        return p2
    if z2 == 0:
        return p1
    z1z1, z2z2 = z1 * z1 % P, z2 * z2 % P
    u1, u2 = x1 * z2z2 % P, x2 * z1z1 % P
    s1, s2 = y1 * z2 * z2z2 % P, y2 * z1 * z1z1 % P
    h, r = (u2 - u1) % P, (s2 - s1) % P
    if h == 0:
        return _double(p1) if r == 0 else _INFINITY
    hh = h * h % P
    hhh = h * hh % P
    v = u1 * hh % P
    x3 = (r * r - hhh - 2 * v) % P
    return x3, (r * (v - x3) - s1 * hhh) % P, h * z1 * z2 % P
