import hashlib

import pytest

from turnup.configs import hashing


def test_sha512_crypt_matches_the_reference_vector():
    # The first test vector of the SHA-crypt specification (also what `openssl passwd -6` gives).
    assert hashing.sha512_crypt("Hello world!", "saltstring") == (
        "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFC"
        "oEOfaS35inz1"
    )


def test_sha512_crypt_long_password_and_16_char_salt():
    # Checked against `openssl passwd -6 -salt abcdefghijklmnop '<password>'`.
    password = (
        "a much longer password of more than sixty-four characters, to test block handling..."
    )
    assert hashing.sha512_crypt(password, "abcdefghijklmnop") == (
        "$6$abcdefghijklmnop$F2KRP70AiW4BpciuvXBaIZb.EnSCIvqFXY7dn4TN8hV.ZsXCZnrA6HHxXiaOGBmUJG4Fo"
        "Q60gx9ka5140XLxF0"
    )


def test_cisco_type9_is_scrypt_in_the_crypt_alphabet():
    value = hashing.cisco_type9("cisco-pass", "abcdefghijklmn")
    prefix, salt, digest = value[1:2], value[3:17], value[18:]
    assert (prefix, salt, len(digest)) == ("9", "abcdefghijklmn", 43)
    assert set(digest) <= set(hashing.CRYPT_ALPHABET)
    raw = hashlib.scrypt(b"cisco-pass", salt=b"abcdefghijklmn", n=16384, r=1, p=1, dklen=32)
    assert digest == hashing._cisco_b64(raw)
    assert hashing.cisco_type9("other", "abcdefghijklmn") != value


def test_cisco_type8_is_pbkdf2_sha256():
    value = hashing.cisco_type8("cisco-pass", "abcdefghijklmn")
    raw = hashlib.pbkdf2_hmac("sha256", b"cisco-pass", b"abcdefghijklmn", 20000, dklen=32)
    assert value == "$8$abcdefghijklmn$" + hashing._cisco_b64(raw)


def test_snmp_key_localization_matches_rfc3414_appendix():
    ku = hashing.snmp_password_to_key("maplesyrup")
    assert ku.hex() == "9fb5cc0381497b3793528939ff788d5d79145211"
    kul = hashing.snmp_localize_key(ku, "000000000000000000000002")
    assert kul.hex() == "6695febc9288e36282235fc7151f128497b38f3f"


def test_snmp_refuses_short_passwords():
    with pytest.raises(ValueError):
        hashing.snmp_password_to_key("short")


def test_salts_are_stable_per_secret_and_key():
    a = hashing.derive_salt(key="k", label="user:admin", secret="s1", length=16)
    assert a == hashing.derive_salt(key="k", label="user:admin", secret="s1", length=16)
    assert a != hashing.derive_salt(key="k2", label="user:admin", secret="s1", length=16)
    assert a != hashing.derive_salt(key="k", label="user:admin", secret="s2", length=16)
    assert len(a) == 16 and set(a) <= set(hashing.CRYPT_ALPHABET)


def test_cached_hash_returns_the_same_hash_without_recomputing(monkeypatch):
    first = hashing.cached_hash("sha512", "cache-me", "saltsalt")
    monkeypatch.setattr(hashing, "sha512_crypt", lambda *a: pytest.fail("recomputed"))
    assert hashing.cached_hash("sha512", "cache-me", "saltsalt") == first
    assert all("cache-me" not in str(key) for key in hashing._CACHE)


def test_cisco_type9_is_accepted_by_the_lab_routers_password_check():
    from turnup.lab import ciscohash

    value = hashing.cisco_type9("s3cret-pass", "abcdefghijklmn")
    assert ciscohash.check("9", value, "s3cret-pass")
    assert not ciscohash.check("9", value, "wrong")
