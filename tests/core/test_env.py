import pytest

from tests.helpers import turnup, turnup_env
from turnup.core.env import SETTINGS, SettingError, derived_urls, read_settings


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("DEBUG", "maybe", "is not a boolean"),
        ("DATABASE_URL", "mysql://db/turnup", "scheme 'mysql' is not supported"),
        ("DATABASE_URL", "postgresql:///turnup", "has no host"),
        ("REDIS_URL", "http://cache:6379", "scheme 'http'"),
        ("KAFKA_BOOTSTRAP_SERVERS", "kafka-1,kafka-2:9092", "'kafka-1' is not host:port"),
        ("LOG_FORMAT", "xml", "'xml' is not one of text, json"),
        ("TURNUP_WORKER_CONCURRENCY", "lots", "is not a whole number"),
        ("TURNUP_DB_POOL_SIZE", "0", "'0' is less than 1"),
        ("TURNUP_LLDP_WAIT_SECONDS", "-1", "'-1' is not 0 or more seconds"),
        ("TURNUP_LLDP_WAIT_SECONDS", "soon", "is not a number of seconds"),
        ("S3_ENDPOINT_URL", "minio:9000", "is not supported"),
        ("EVENTS_RETENTION_DAYS", "-3", "'-3' is not 0 or more days"),
        ("EVENTS_RETENTION_DAYS", "a fortnight", "is not a whole number"),
    ],
)
def test_malformed_value_names_the_variable(name, value, reason):
    with pytest.raises(SettingError) as caught:
        read_settings({name: value})
    assert caught.value.name == name
    assert str(caught.value).startswith(f"{name}: ")
    assert reason in str(caught.value)


def test_unknown_turnup_variable_is_refused():
    with pytest.raises(SettingError, match="TURNUP_DATADIR: unknown setting"):
        read_settings({"TURNUP_DATADIR": "/tmp"})


def test_defaults_are_the_embedded_ones(tmp_path):
    values = read_settings({"TURNUP_DATA_DIR": str(tmp_path)})
    urls = derived_urls(values)
    assert urls["DATABASE_URL"] == f"sqlite:///{tmp_path}/turnup.sqlite3"
    assert urls["CELERY_BROKER_URL"].startswith("sqla+sqlite:///")
    assert urls["CELERY_RESULT_BACKEND"].startswith("db+sqlite:///")
    assert values["KAFKA_BOOTSTRAP_SERVERS"] == []


def test_redis_url_becomes_broker_db0_and_results_db1():
    urls = derived_urls(read_settings({"REDIS_URL": "redis://cache:6379/3"}))
    assert urls["CELERY_BROKER_URL"] == "redis://cache:6379/0"
    assert urls["CELERY_RESULT_BACKEND"] == "redis://cache:6379/1"


def test_every_setting_is_in_the_readme_table():
    readme = (__import__("pathlib").Path(__file__).parents[2] / "README.md").read_text()
    missing = [s.name for s in SETTINGS if f"| `{s.name}` |" not in readme]
    assert missing == []


def test_process_refuses_to_start_with_a_bad_value(tmp_path):
    result = turnup("check", env=turnup_env(tmp_path, DEBUG="maybe"))
    assert result.returncode == 2
    assert "DEBUG: 'maybe' is not a boolean" in result.stderr


def test_secret_key_is_required_without_debug(tmp_path):
    result = turnup("check", env=turnup_env(tmp_path, SECRET_KEY=""))
    assert result.returncode == 2
    assert "SECRET_KEY: must be set when DEBUG is off" in result.stderr
