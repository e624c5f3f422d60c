"""Encryption at rest for the turn-up credentials.

The keys come from ``settings.SECRETS_KEYS`` (the ``TURNUP_SECRETS_KEY`` variable, a
comma-separated list): the first key encrypts, every key decrypts, so a key is rotated by
putting the new one first. A value that is a Fernet key is used as is; any other text is
stretched into one with SHA-256 (so it must be long and random: ``make run`` generates one).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

logger = logging.getLogger(__name__)

DERIVED_PREFIX = "derived-from-secret-key:"


def _fernet(key: str) -> Fernet:
    try:
        if len(base64.urlsafe_b64decode(key.encode())) == 32:
            return Fernet(key.encode())
    except (binascii.Error, ValueError):
        pass
    digest = hashlib.sha256(key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


@lru_cache(maxsize=4)
def _cipher(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("TURNUP_SECRETS_KEY: no key to encrypt credentials with")
    if keys[0].startswith(DERIVED_PREFIX) and settings.DEBUG:
        logger.warning(
            "TURNUP_SECRETS_KEY is not set: credentials are encrypted with a key derived from "
            "SECRET_KEY (acceptable in DEBUG only)"
        )
    return MultiFernet([_fernet(key) for key in keys])


def cipher() -> MultiFernet:
    return _cipher(tuple(settings.SECRETS_KEYS))


def encrypt(plaintext: str) -> str:
    """The Fernet token of ``plaintext`` ('' stays '': an unset secret)."""
    if not plaintext:
        return ""
    return cipher().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return cipher().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "TURNUP_SECRETS_KEY: a stored credential cannot be decrypted with the configured "
            "key(s); when rotating, keep the old key after the new one"
        ) from None


class EncryptedTextField(models.TextField):
    """Text stored encrypted (a Fernet token); Python code sees the plaintext.

    Nothing can be looked up by its value, and the empty string means "not set".
    """

    def from_db_value(self, value, expression, connection):
        if value is None:
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None:
            return value
        return encrypt(value)
