"""Cisco password encodings the IOS-XE model stores and checks: type 0 (plain), type 7
(the reversible Vigenère obfuscation) and type 9 (scrypt, N=16384 r=1 p=1, Cisco base64)."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets

_XLAT = b"dsfd;kfoA,.iyewrkldJKDHSUBsgvca69834ncxv9873254k;fg87"
_STD = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_CISCO = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_TO_CISCO = bytes.maketrans(_STD, _CISCO)


def type7_encode(plain: str, seed: int = 2) -> str:
    out = f"{seed:02d}"
    for i, char in enumerate(plain.encode()):
        out += f"{char ^ _XLAT[(seed + i) % len(_XLAT)]:02X}"
    return out


def type7_decode(encoded: str) -> str:
    seed = int(encoded[:2])
    data = bytes.fromhex(encoded[2:])
    return bytes(b ^ _XLAT[(seed + i) % len(_XLAT)] for i, b in enumerate(data)).decode()


@functools.lru_cache(maxsize=512)
def _scrypt(plain: str, salt: str) -> str:
    # memoised: the lab's routers run on the machine that turns them up, and a site's
    # routers check the same secret with the same salt (one scrypt, ~30 ms of CPU, per
    # distinct login instead of per router and session)
    digest = hashlib.scrypt(plain.encode(), salt=salt.encode(), n=16384, r=1, p=1, dklen=32)
    return base64.b64encode(digest).rstrip(b"=").translate(_TO_CISCO).decode()


def type9_hash(plain: str, salt: str | None = None) -> str:
    if salt is None:
        salt = "".join(_CISCO[b % 64 : b % 64 + 1].decode() for b in secrets.token_bytes(14))
    return f"$9${salt}${_scrypt(plain, salt)}"


def check(kind: str, stored: str, candidate: str) -> bool:
    """``kind`` is the IOS type digit ("0", "7", "9"); unknown types never match."""
    if kind == "0":
        return hmac.compare_digest(stored, candidate)
    if kind == "7":
        try:
            return hmac.compare_digest(type7_decode(stored), candidate)
        except ValueError:
            return False
    if kind == "9" and stored.startswith("$9$"):
        _, _, salt, _digest = stored.split("$", 3)
        return hmac.compare_digest(type9_hash(candidate, salt), stored)
    return False
