"""Throughput of the national-crypto module (`server.security.gm`) on one core, printed as one table.

Measures: sealing and opening a personal-data field (SM4-GCM, an 18-character ID card number with a
row-naming AAD), the HMAC-SM3 blind index, SM4-CTR and SM4-GCM over one large buffer, SM3 over the same
buffer, and SM2 key generation, signing, verification, key wrapping and unwrapping. Each series runs a
fixed number of operations, `--repeat` times; the table shows the best and the median run.

    .venv/bin/python -m loadtest.bench_crypto [--size-mib 64] [--repeat 3] [--scale 1.0]

Must not: run unbounded (every loop has a fixed count), touch the network, database or disk, or use
anything below the `gm` facade (what is measured is what callers get).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from importlib.metadata import version

from server.security import gm

ID_CARD = "31010119900101123X"
AAD = b"person|id_card|6f1c0a52-2d7e-4c3e-9d1a-3f3b5c1e9a10"
SIGNED_MESSAGE_BYTES = 1024  # an approval opinion with its metadata, hashed as a whole by SM2
WRAPPED_KEY_BYTES = 32  # an SM4 data key and a MAC key
MIB = 1024 * 1024
FIELD_OPS = 50_000
INDEX_OPS = 100_000
SM2_SIGN_OPS = 300
SM2_VERIFY_OPS = 600
SM2_WRAP_OPS = 600
SM2_KEYGEN_OPS = 200


def _runs(repeat: int, operation: Callable[[], object], count: int) -> list[float]:
    """Operations per second of `count` calls of `operation`, once per repeat."""
    rates = []
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(count):
            operation()
        rates.append(count / (time.perf_counter() - started))
    return rates


def _bulk(repeat: int, transform: Callable[[bytes], object], data: bytes) -> list[float]:
    """MiB per second of one `transform` call over `data`, once per repeat."""
    rates = []
    for _ in range(repeat):
        started = time.perf_counter()
        transform(data)
        rates.append(len(data) / MIB / (time.perf_counter() - started))
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size-mib", type=int, default=64, help="buffer for the bulk series")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies every operation count")
    args = parser.parse_args()
    repeat, scale = max(1, args.repeat), max(0.01, args.scale)

    def count(base: int) -> int:
        return max(1, int(base * scale))

    field_key, index_key, bulk_key = gm.random_key(), gm.random_key() * 2, gm.random_key()
    ring = {"bench": field_key}
    sealed = gm.seal_field("bench", field_key, ID_CARD, AAD)
    data = os.urandom(args.size_mib * MIB)
    counter, nonce = gm.random_iv(), gm.random_nonce()
    sm2_key = gm.sm2_generate_keypair()
    message = os.urandom(SIGNED_MESSAGE_BYTES)
    signature = gm.sm2_sign(sm2_key, message)
    wrapped = gm.sm2_encrypt(sm2_key.public_key, os.urandom(WRAPPED_KEY_BYTES))

    public, size = sm2_key.public_key, args.size_mib
    rows: list[tuple[str, str, list[float]]] = [
        (
            "field seal (SM4-GCM, 18 chars)",
            "ops/s",
            _runs(repeat, lambda: gm.seal_field("bench", field_key, ID_CARD, AAD), count(FIELD_OPS)),
        ),
        (
            "field open (SM4-GCM + tag check)",
            "ops/s",
            _runs(repeat, lambda: gm.open_field(ring, sealed, AAD), count(FIELD_OPS)),
        ),
        (
            "blind index (HMAC-SM3)",
            "ops/s",
            _runs(repeat, lambda: gm.blind_index(index_key, ID_CARD), count(INDEX_OPS)),
        ),
        (
            f"SM4-CTR, {size} MiB",
            "MiB/s",
            _bulk(repeat, lambda b: gm.sm4_ctr_encrypt(bulk_key, counter, b), data),
        ),
        (
            f"SM4-GCM, {size} MiB",
            "MiB/s",
            _bulk(repeat, lambda b: gm.sm4_gcm_encrypt(bulk_key, nonce, b), data),
        ),
        (f"SM3, {size} MiB", "MiB/s", _bulk(repeat, gm.sm3, data)),
        ("SM2 keygen (+ d·G check)", "ops/s", _runs(repeat, gm.sm2_generate_keypair, count(SM2_KEYGEN_OPS))),
        (
            "SM2 sign, 1 KiB",
            "ops/s",
            _runs(repeat, lambda: gm.sm2_sign(sm2_key, message), count(SM2_SIGN_OPS)),
        ),
        (
            "SM2 verify, 1 KiB",
            "ops/s",
            _runs(repeat, lambda: gm.sm2_verify(public, message, signature), count(SM2_VERIFY_OPS)),
        ),
        (
            "SM2 wrap 32 B",
            "ops/s",
            _runs(repeat, lambda: gm.sm2_encrypt(public, message[:WRAPPED_KEY_BYTES]), count(SM2_WRAP_OPS)),
        ),
        (
            "SM2 unwrap 32 B (C3 checked)",
            "ops/s",
            _runs(repeat, lambda: gm.sm2_decrypt(sm2_key, wrapped), count(SM2_WRAP_OPS)),
        ),
    ]

    print(
        f"python {platform.python_version()}, cryptography {version('cryptography')}, "
        f"gmssl-pyx {version('gmssl-pyx')}, {os.cpu_count()} CPUs ({platform.machine()}), "
        f"repeat {repeat}, scale {scale}"
    )
    print(f"{'series':<36} {'unit':>6} {'best':>12} {'median':>12}")
    for name, unit, rates in rows:
        print(f"{name:<36} {unit:>6} {max(rates):>12,.0f} {statistics.median(rates):>12,.0f}")


if __name__ == "__main__":
    main()
