"""Settings are parsed strictly from the environment."""

import pytest

from trellis.config import Settings
from trellis.errors import ConfigError


@pytest.mark.parametrize("env, message", [
    ({"TRELLIS_BATCH_MAX_DOCUMENTS": "many"}, "TRELLIS_BATCH_MAX_DOCUMENTS"),
    ({"TRELLIS_COOKIE_SECURE": "perhaps"}, "TRELLIS_COOKIE_SECURE"),
    ({"TRELLIS_ENV": "staging"}, "TRELLIS_ENV"),
    ({"TRELLIS_SCHEDULER": "cron"}, "TRELLIS_SCHEDULER"),
    ({"TRELLIS_DATABASE_URL": "mysql://x"}, "TRELLIS_DATABASE_URL"),
    ({"TRELLIS_ENV": "production"}, "TRELLIS_SECRET_KEY"),
    ({"TRELLIS_ENV": "production", "TRELLIS_SECRET_KEY": "dev-only-not-secret"},
     "TRELLIS_SECRET_KEY"),
    ({"TRELLIS_CHAIN_URL": "http://127.0.0.1:8545"}, "TRELLIS_CHAIN_KEY"),
    ({"TRELLIS_CHAIN_MAX_FEE_GWEI": "lots"}, "TRELLIS_CHAIN_MAX_FEE_GWEI"),
    ({"TRELLIS_CHAIN_MAX_FEE_GWEI": "0"}, "TRELLIS_CHAIN_MAX_FEE_GWEI"),
    ({"TRELLIS_CHAIN_MAX_FEE_GWEI": "-3"}, "TRELLIS_CHAIN_MAX_FEE_GWEI"),
    ({"TRELLIS_CHAIN_MAX_FEE_GWEI": "NaN"}, "TRELLIS_CHAIN_MAX_FEE_GWEI"),
])
def test_bad_settings_stop_start_up_naming_the_variable(env, message, tmp_path):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({"TRELLIS_INSTANCE_PATH": str(tmp_path), **env})


def test_defaults_are_sqlite_in_the_instance_folder_and_embedded_chain(tmp_path):
    settings = Settings.from_env({"TRELLIS_INSTANCE_PATH": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path}/trellis.db"
    assert settings.chain_url == ""
    assert settings.cookie_secure is False


def test_production_accepts_a_real_secret(tmp_path):
    settings = Settings.from_env({"TRELLIS_ENV": "production", "TRELLIS_SECRET_KEY": "k" * 48,
                                  "TRELLIS_FINGERPRINT_KEY": "shared",
                                  "TRELLIS_INSTANCE_PATH": str(tmp_path)})
    assert settings.is_production and settings.cookie_secure


def test_the_fee_ceiling_is_read_in_gwei_exactly(tmp_path):
    from decimal import Decimal

    base = {"TRELLIS_INSTANCE_PATH": str(tmp_path)}
    assert Settings.from_env(base).chain_max_fee_gwei == Decimal(500)
    got = Settings.from_env({**base, "TRELLIS_CHAIN_MAX_FEE_GWEI": " 0.25 "})
    assert got.chain_max_fee_gwei == Decimal("0.25")


@pytest.mark.parametrize("raw", [
    "amqp://127.0.0.1", "redis://", "redis://127.0.0.1:99999/0", "redis://127.0.0.1/zero",
    "sqlite:///", "sqlite:///tmp/dir/", "memory", "127.0.0.1:6379",
])
def test_a_bad_tasks_url_stops_start_up(raw, tmp_path):
    with pytest.raises(ConfigError, match="TRELLIS_TASKS_URL"):
        Settings.from_env({"TRELLIS_INSTANCE_PATH": str(tmp_path), "TRELLIS_TASKS_URL": raw})


@pytest.mark.parametrize("env, expected", [
    ({}, "sqlite:///{tmp}/tasks.db"),
    ({"TRELLIS_ENV": "test"}, "immediate"),
    ({"TRELLIS_ENV": "production", "TRELLIS_SECRET_KEY": "k" * 48,
      "TRELLIS_FINGERPRINT_KEY": "shared"}, "redis://127.0.0.1:6379/0"),
    ({"TRELLIS_TASKS_URL": "redis://:pw@cache.internal:6380/2"},
     "redis://:pw@cache.internal:6380/2"),
    ({"TRELLIS_TASKS_URL": " immediate "}, "immediate"),
])
def test_tasks_url_defaults_per_environment(env, expected, tmp_path):
    settings = Settings.from_env({"TRELLIS_INSTANCE_PATH": str(tmp_path), **env})
    assert settings.tasks_url == expected.format(tmp=tmp_path)


@pytest.mark.parametrize("env", [{"TRELLIS_TASKS_QUEUE": "a b"}, {"TRELLIS_TASKS_QUEUE": ""},
                                 {"TRELLIS_TASKS_WORKERS": "0"}])
def test_bad_queue_name_or_worker_count_stop_start_up(env, tmp_path):
    with pytest.raises(ConfigError, match="TRELLIS_TASKS_"):
        Settings.from_env({"TRELLIS_INSTANCE_PATH": str(tmp_path), **env})


def test_smtp_settings_are_parsed_strictly_and_choose_the_sender(tmp_path):
    """The notifications sender reads its SMTP settings from Settings (issue 15), parsed
    like every other setting: a bad port or sender address stops start-up, naming it."""
    import pytest

    from trellis.config import Settings
    from trellis.errors import ConfigError
    from trellis.notifications.senders import FileSink, Router, SmtpSender, from_settings

    base = {"TRELLIS_INSTANCE_PATH": str(tmp_path)}
    assert isinstance(from_settings(Settings.from_env(base)), FileSink)
    s = Settings.from_env(base | {"TRELLIS_SMTP_HOST": "mail.bank.cn", "TRELLIS_SMTP_PORT": "587",
                                  "TRELLIS_SMTP_STARTTLS": "yes", "TRELLIS_SMTP_USER": "u",
                                  "TRELLIS_SMTP_PASSWORD": "p",
                                  "TRELLIS_MAIL_FROM": "loans@bank.cn"})
    sender = from_settings(s)
    assert isinstance(sender, Router)
    (smtp,) = sender.senders
    assert isinstance(smtp, SmtpSender)
    assert (smtp.host, smtp.port, smtp.sender, smtp.starttls) == ("mail.bank.cn", 587,
                                                                   "loans@bank.cn", True)
    for var, raw in (("TRELLIS_SMTP_PORT", "twenty-five"), ("TRELLIS_SMTP_PORT", "70000"),
                     ("TRELLIS_SMTP_STARTTLS", "maybe"), ("TRELLIS_MAIL_FROM", "nobody")):
        with pytest.raises(ConfigError, match=var):
            Settings.from_env(base | {var: raw})
