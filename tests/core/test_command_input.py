"""``turnup selftest`` and ``turnup ensure_admin`` given bad options: a ``CommandError``."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command


@pytest.mark.parametrize(
    "args, message",
    [
        (["--width", "0"], "--width must be from 1 to 1000"),
        (["--width", "-3"], "--width must be from 1 to 1000"),
        (["--timeout", "-1"], "--timeout must be more than 0 seconds"),
    ],
)
def test_selftest_refuses_bad_options(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("selftest", *args)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "username, message",
    [("", "cannot be blank"), ("a b!", "Enter a valid username"), ("x" * 200, "at most 150")],
)
def test_ensure_admin_refuses_a_bad_username(username, message):
    with pytest.raises(CommandError, match=message):
        call_command("ensure_admin", "--username", username)
    assert not get_user_model().objects.exists()


@pytest.mark.django_db
def test_ensure_admin_with_the_name_of_a_user_who_is_not_an_admin():
    get_user_model().objects.create_user(username="admin", password="pw-admin-12345")
    with pytest.raises(CommandError, match="exists and is not an admin"):
        call_command("ensure_admin")


@pytest.mark.django_db
def test_ensure_admin_with_a_data_folder_it_cannot_write(settings, monkeypatch, tmp_path):
    monkeypatch.setitem(settings.ENV, "TURNUP_ADMIN_PASSWORD", "")
    settings.DATA_DIR = tmp_path / "missing"
    with pytest.raises(CommandError, match="cannot keep the generated password"):
        call_command("ensure_admin")
