"""Password hashes and SNMPv3 keys in the forms the routers accept, so that no rendered (and
stored) config ever holds a secret in clear text.

- Junos ``encrypted-password``: SHA-512 crypt (``$6$``), implemented here with hashlib
  (the stdlib ``crypt`` module is deprecated since Python 3.11 and gone in 3.13).
- Cisco IOS-XE ``secret 9``: scrypt (N=16384, r=1, p=1, 32 bytes) in Cisco's base64 alphabet,
  and ``secret 8``: PBKDF2-SHA256 (20000 iterations).
- SNMPv3 (RFC 3414): the password-to-key transform, localized to the router's engine ID.

Hashes are deterministic for a given (secret, salt): salts are derived with HMAC from a key
the caller passes (the deployment's SECRET_KEY) and a label, so rendering the same design twice
gives byte-identical configs (no spurious new config versions), and a hash is computed once per
secret per process (``cached_hash``), not once per router.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading

CRYPT_ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_STD_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_TO_CISCO = str.maketrans(_STD_ALPHABET, CRYPT_ALPHABET)

# The byte order SHA-512 crypt uses to turn its 64-byte digest into 86 characters.
_SHA512_ORDER = (
    (0, 21, 42),
    (22, 43, 1),
    (44, 2, 23),
    (3, 24, 45),
    (25, 46, 4),
    (47, 5, 26),
    (6, 27, 48),
    (28, 49, 7),
    (50, 8, 29),
    (9, 30, 51),
    (31, 52, 10),
    (53, 11, 32),
    (12, 33, 54),
    (34, 55, 13),
    (56, 14, 35),
    (15, 36, 57),
    (37, 58, 16),
    (59, 17, 38),
    (18, 39, 60),
    (40, 61, 19),
    (62, 20, 41),
)


def _b64_24bit(b2: int, b1: int, b0: int, count: int) -> str:
    word = (b2 << 16) | (b1 << 8) | b0
    out = []
    for _ in range(count):
        out.append(CRYPT_ALPHABET[word & 0x3F])
        word >>= 6
    return "".join(out)


def _repeat_to(block: bytes, length: int) -> bytes:
    return (block * (length // len(block) + 1))[:length]


def sha512_crypt(password: str, salt: str, rounds: int = 5000) -> str:
    """SHA-512 crypt as specified by Ulrich Drepper (glibc ``$6$``), from hashlib only."""
    if not 1000 <= rounds <= 999_999_999:
        raise ValueError("rounds must be between 1000 and 999999999")
    pw = password.encode()
    salt_bytes = salt.encode()[:16]
    digest_b = hashlib.sha512(pw + salt_bytes + pw).digest()
    ctx_a = hashlib.sha512(pw + salt_bytes)
    ctx_a.update(_repeat_to(digest_b, len(pw)) if pw else b"")
    length = len(pw)
    while length:
        ctx_a.update(digest_b if length & 1 else pw)
        length >>= 1
    digest_a = ctx_a.digest()
    p_bytes = _repeat_to(hashlib.sha512(pw * len(pw)).digest(), len(pw)) if pw else b""
    ds = hashlib.sha512(salt_bytes * (16 + digest_a[0])).digest()
    s_bytes = _repeat_to(ds, len(salt_bytes)) if salt_bytes else b""
    current = digest_a
    for round_ in range(rounds):
        ctx = hashlib.sha512(p_bytes if round_ & 1 else current)
        if round_ % 3:
            ctx.update(s_bytes)
        if round_ % 7:
            ctx.update(p_bytes)
        ctx.update(current if round_ & 1 else p_bytes)
        current = ctx.digest()
    encoded = "".join(
        _b64_24bit(current[a], current[b], current[c], 4) for a, b, c in _SHA512_ORDER
    )
    encoded += _b64_24bit(0, 0, current[63], 2)
    rounds_part = "" if rounds == 5000 else f"rounds={rounds}$"
    return f"$6${rounds_part}{salt_bytes.decode()}${encoded}"


def _cisco_b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode().rstrip("=").translate(_TO_CISCO)


def cisco_type9(password: str, salt: str) -> str:
    """IOS-XE ``secret 9``: scrypt(N=16384, r=1, p=1) with a 14-character salt."""
    raw = hashlib.scrypt(
        password.encode(), salt=salt.encode(), n=16384, r=1, p=1, maxmem=64 << 20, dklen=32
    )
    return f"$9${salt}${_cisco_b64(raw)}"


def cisco_type8(password: str, salt: str) -> str:
    """IOS-XE ``secret 8``: PBKDF2-HMAC-SHA256, 20000 iterations, 14-character salt."""
    raw = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 20000, dklen=32)
    return f"$8${salt}${_cisco_b64(raw)}"


def derive_salt(*, key: str, label: str, secret: str, length: int) -> str:
    """A salt from CRYPT_ALPHABET, stable for (key, label, secret), unpredictable without key."""
    mac = hmac.new(key.encode(), f"{label}\0{secret}".encode(), hashlib.sha256).digest()
    return "".join(CRYPT_ALPHABET[byte & 0x3F] for byte in mac[:length])


# ---- SNMPv3 (RFC 3414 section 2.6 and appendix A.2) -------------------------------------


def snmp_password_to_key(password: str, algorithm: str = "sha1") -> bytes:
    """Ku: the digest of the password repeated to one megabyte."""
    if len(password) < 8:
        raise ValueError("SNMPv3 passwords must be at least 8 characters")
    block = _repeat_to(password.encode(), 1_048_576)
    return hashlib.new(algorithm, block).digest()


def snmp_localize_key(ku: bytes, engine_id: str, algorithm: str = "sha1") -> bytes:
    """Kul: the key bound to one SNMP engine (``engine_id`` in hex)."""
    return hashlib.new(algorithm, ku + bytes.fromhex(engine_id) + ku).digest()


def junos_engine_id(suffix: str) -> str:
    """The engine ID Junos derives from ``snmp engine-id local <suffix>``: Juniper's
    enterprise number (2636) in the RFC 3411 format, type 4 (text), then the suffix."""
    return "80000a4c04" + suffix.encode().hex()


def colon_hex(raw: bytes) -> str:
    return ":".join(f"{byte:02X}" for byte in raw)


# ---- a per-process cache so a site of 1,000 routers hashes each secret once --------------

_CACHE: dict[tuple[str, str], str | bytes] = {}
_CACHE_LOCK = threading.Lock()
_CACHE_MAX = 4096


def cached_hash(kind: str, secret: str, salt: str = "") -> str | bytes:
    """``kind`` is one of ``sha512``, ``cisco9``, ``cisco8``, ``snmp-ku`` (SHA-1) or
    ``snmp-ku-<hashlib name>``. The cache key is a
    digest, so clear-text secrets are not kept in memory by the cache."""
    fingerprint = hashlib.sha256(f"{kind}\0{salt}\0{secret}".encode()).hexdigest()
    key = (kind, fingerprint)
    with _CACHE_LOCK:
        found = _CACHE.get(key)
    if found is not None:
        return found
    if kind == "sha512":
        value: str | bytes = sha512_crypt(secret, salt)
    elif kind == "cisco9":
        value = cisco_type9(secret, salt)
    elif kind == "cisco8":
        value = cisco_type8(secret, salt)
    elif kind == "snmp-ku":
        value = snmp_password_to_key(secret)
    elif kind.startswith("snmp-ku-"):
        value = snmp_password_to_key(secret, kind.removeprefix("snmp-ku-"))
    else:
        raise ValueError(f"unknown hash kind {kind!r}")
    with _CACHE_LOCK:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()
        _CACHE[key] = value
    return value
