"""National commercial cryptography (SM2, SM3, SM4) for the whole platform, in one place.

Callers import `server.security.gm` (the facade) and nothing below it: it is the small interface a
certified cipher machine (GM/T 0018 SDF) can later take over. Behind it, `sm3`, `sm4` and `sm2` are the
software implementation (pyca/cryptography for SM3/SM4, the GmSSL C library in gmssl-pyx for SM2),
`sm2_keys` reads and writes keys as OpenSSL does, `fields` seals personal data at rest and `masking`
hides it on screen.

Must not: know about HTTP, the database or any domain; read keys from the environment or files (callers
pass key bytes from the key store); log or put key material, plaintexts or personal data in errors.
No other package of the platform may import cryptography's SM primitives, hashlib's sm3 or gmssl_pyx.
"""
