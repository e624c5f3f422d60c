"""Credentials are encrypted at rest with TURNUP_SECRETS_KEY and never reach the change log."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from tests import factories as f
from turnup.core.models import ObjectChange
from turnup.dcim import secrets, services
from turnup.dcim.models import CredentialProfile

pytestmark = pytest.mark.django_db


def _raw(profile_id: int, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM dcim_credentialprofile WHERE id = %s", [profile_id])
        return cursor.fetchone()[0]


def test_secrets_are_encrypted_at_rest_and_read_back_in_plaintext():
    profile = services.credential_profile_create(
        name="p", local_password="hunter2-local", enable_secret="en-able"
    )
    raw = _raw(profile.pk, "local_password")
    assert raw and "hunter2" not in raw
    assert raw.startswith("gAAAA")  # a Fernet token
    assert _raw(profile.pk, "junos_root_password") == ""  # unset stays empty
    assert CredentialProfile.objects.get(pk=profile.pk).local_password == "hunter2-local"


def test_secrets_never_reach_the_change_log():
    profile = services.credential_profile_create(name="p", local_password="hunter2-local")
    services.credential_profile_update(instance=profile, enable_secret="en-able-2")
    for change in ObjectChange.objects.all():
        text = repr(change.prechange_data) + repr(change.postchange_data)
        assert "hunter2" not in text and "en-able" not in text
        assert "local_password" not in text
    assert ObjectChange.objects.count() == 2


def test_update_with_none_keeps_a_secret_and_empty_clears_it():
    profile = services.credential_profile_create(name="p", local_password="keep", enable_secret="x")
    services.credential_profile_update(instance=profile, local_password=None, enable_secret="")
    profile = CredentialProfile.objects.get(pk=profile.pk)
    assert (profile.local_password, profile.enable_secret) == ("keep", "")


def test_key_rotation_decrypts_with_the_old_key(settings):
    settings.SECRETS_KEYS = ["old-key-" + "x" * 40]
    profile = f.CredentialProfileFactory(local_password="rotated")
    settings.SECRETS_KEYS = ["new-key-" + "y" * 40, "old-key-" + "x" * 40]
    assert CredentialProfile.objects.get(pk=profile.pk).local_password == "rotated"
    settings.SECRETS_KEYS = ["new-key-" + "y" * 40]
    with pytest.raises(ImproperlyConfigured, match="TURNUP_SECRETS_KEY"):
        CredentialProfile.objects.get(pk=profile.pk)


def test_a_fernet_key_is_used_as_is():
    from cryptography.fernet import Fernet

    key = Fernet.generate_key().decode()
    assert Fernet(key.encode()).decrypt(secrets._cipher((key,)).encrypt(b"x")) == b"x"


def test_error_reports_scrub_every_secret_field():
    from turnup.core.observability import MASK, scrub

    body = {name: "plaintext" for name in CredentialProfile.SECRET_FIELDS}
    assert scrub({"request": {"data": body}})["request"]["data"] == dict.fromkeys(body, MASK)
