"""The platform's one interface to national commercial cryptography: import from here, nothing deeper.

Everything the rest of tongban may call is listed in `__all__`. The names are what a certified cipher
machine (GM/T 0018 SDF: random, hash, MAC, symmetric encrypt, ECC sign/verify/encrypt/decrypt) would
take over: swapping the backend means re-implementing the modules behind this file, not editing callers.
Must not: add behaviour of its own; it only re-exports.
"""

from __future__ import annotations

from server.security.errors import CryptoError, IntegrityError, InvalidKey, UnknownKey
from server.security.fields import (
    blind_index,
    normalise_for_index,
    open_field,
    seal_field,
    sealed_key_id,
)
from server.security.masking import mask_id_card, mask_name, mask_phone
from server.security.sm2 import (
    DEFAULT_DISTINGUISHING_ID,
    signature_from_raw,
    signature_to_raw,
    sm2_decrypt,
    sm2_encrypt,
    sm2_generate_keypair,
    sm2_sign,
    sm2_verify,
)
from server.security.sm2_keys import Sm2PrivateKey, Sm2PublicKey
from server.security.sm3 import HmacSm3, Sm3, hmac_sm3, macs_equal, sm3, sm3_hex
from server.security.sm4 import (
    Sm4CtrStream,
    random_iv,
    random_key,
    random_nonce,
    sm4_cbc_decrypt,
    sm4_cbc_encrypt,
    sm4_ctr_decrypt,
    sm4_ctr_encrypt,
    sm4_gcm_decrypt,
    sm4_gcm_encrypt,
)

__all__ = [
    "DEFAULT_DISTINGUISHING_ID",
    "CryptoError",
    "HmacSm3",
    "IntegrityError",
    "InvalidKey",
    "Sm2PrivateKey",
    "Sm2PublicKey",
    "Sm3",
    "Sm4CtrStream",
    "UnknownKey",
    "blind_index",
    "hmac_sm3",
    "macs_equal",
    "mask_id_card",
    "mask_name",
    "mask_phone",
    "normalise_for_index",
    "open_field",
    "random_iv",
    "random_key",
    "random_nonce",
    "seal_field",
    "sealed_key_id",
    "signature_from_raw",
    "signature_to_raw",
    "sm2_decrypt",
    "sm2_encrypt",
    "sm2_generate_keypair",
    "sm2_sign",
    "sm2_verify",
    "sm3",
    "sm3_hex",
    "sm4_cbc_decrypt",
    "sm4_cbc_encrypt",
    "sm4_ctr_decrypt",
    "sm4_ctr_encrypt",
    "sm4_gcm_decrypt",
    "sm4_gcm_encrypt",
]
