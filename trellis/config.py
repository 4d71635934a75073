"""Settings, parsed strictly from ``TRELLIS_*`` environment variables.

Every setting has a type and, where sensible, a default. A malformed value stops start-up
with a :class:`~trellis.errors.ConfigError` naming the variable. Business figures (rates,
caps, advance rates) are product data in the database, not settings.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import urlsplit

from trellis.errors import ConfigError

DEFAULT_SECRET_KEY = "dev-only-not-secret"
ENVIRONMENTS = ("development", "test", "production")
SCHEDULER_MODES = ("off", "in-process")


def _parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def _parse_int(name: str, raw: str, minimum: int | None = None) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}")
    return value


def _parse_positive_decimal(name: str, raw: str) -> Decimal:
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None
    if not value.is_finite() or value <= 0:
        raise ConfigError(f"{name} must be a number above 0, not {raw!r}")
    return value


def _parse_choice(name: str, raw: str, choices: tuple[str, ...]) -> str:
    value = raw.strip()
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {raw!r}")
    return value


def _tasks_url(raw: str, environment: str, instance: Path) -> str:
    """Check ``TRELLIS_TASKS_URL``; empty means the environment's default.

    Defaults: ``immediate`` under test (a task runs inside ``enqueue``), a SQLite file in
    the instance folder in development (no service to start), and the local Redis in
    production. Accepted: ``immediate``, ``sqlite:///PATH``, ``redis://HOST[:PORT][/DB]``
    and ``rediss://...``.
    """
    name = "TRELLIS_TASKS_URL"
    value = raw.strip()
    if not value:
        if environment == "test":
            return "immediate"
        if environment == "production":
            return "redis://127.0.0.1:6379/0"
        return f"sqlite:///{instance / 'tasks.db'}"
    if value == "immediate":
        return value
    if value.startswith("sqlite:///"):
        if not value[len("sqlite:///"):].strip() or value.endswith("/"):
            raise ConfigError(f"{name} sqlite:/// needs a file path, not {raw!r}")
        return value
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise ConfigError(f"{name} is not a valid URL: {raw!r}") from None
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise ConfigError(f"{name} must be immediate, sqlite:///PATH or "
                          f"redis://HOST:PORT/DB, not {raw!r}")
    if port is not None and not 0 < port < 65536:
        raise ConfigError(f"{name} has an impossible port: {raw!r}")
    db_part = parts.path.strip("/")
    if db_part and not db_part.isdigit():
        raise ConfigError(f"{name}: the Redis database must be a number, not {db_part!r}")
    return value


@dataclass(frozen=True)
class Settings:
    """The application's settings. Build with :meth:`from_env`."""

    env: str = "development"
    secret_key: str = DEFAULT_SECRET_KEY
    database_url: str = ""
    instance_path: str = "instance"
    # Chain: no URL means the embedded in-process chain (eth-tester + py-evm).
    chain_url: str = ""
    chain_key: str = ""
    chain_keystore: str = ""
    chain_keystore_password: str = ""
    chain_contract: str = ""
    chain_id: int = 0  # 0: accept whatever the node reports
    # A trusted-registries file (trellis.chain.trust) the pages trust beside our own registry.
    chain_trusted: str = ""
    chain_confirmations_safe: int = 6
    chain_confirmations_final: int = 12
    chain_stuck_seconds: int = 180  # a sent anchoring transaction not mined by then is replaced
    # The most a transaction may pay per gas (EIP-1559 max fee), in gwei; replacements of
    # stuck transactions stop there and an alert is raised.
    chain_max_fee_gwei: Decimal = Decimal(500)
    batch_max_documents: int = 256
    batch_max_wait_seconds: int = 300
    fingerprint_key: str = "trellis-demo-fingerprint-key"
    scheduler: str = "off"
    # Task queue storage; Settings built directly (tests) run tasks at once.
    tasks_url: str = "immediate"  # from_env always sets it (see _tasks_url)
    tasks_queue: str = "trellis"  # the queue's name (Redis keys, SQLite rows)
    tasks_workers: int = 2  # threads of one `trellis worker`
    upload_max_bytes: int = 20 * 1024 * 1024
    # the largest amount (fen) one payment into the ledger may carry: 1 billion yuan
    ledger_max_amount_fen: int = 100_000_000_000
    import_max_seconds: int = 600  # a background import still working then is stopped
    login_max_attempts: int = 5
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are believed (0:
    # none; the client's address is the socket's).
    trusted_proxies: int = 0
    # Administrators, RMs and auditors must use a second factor (TOTP); unset: on in
    # production, off otherwise.
    mfa_required: bool = False
    # Password reset ("forgot password"): how long a link works, and how many requests an
    # hour one e-mail and one address may make.
    password_reset_minutes: int = 30
    password_reset_max_per_email: int = 3
    password_reset_max_per_address: int = 10
    # The site's public address (https://host), used in links sent by e-mail; empty: the
    # request's own host outside production. In production reset links need it (a Host
    # header is the client's to choose).
    public_url: str = ""
    register_max_per_hour: int = 5  # self-registrations from one address (0: no limit)
    session_idle_seconds: int = 1800  # a web session unused this long ends
    session_max_seconds: int = 8 * 3600  # and any ends this long after login
    login_window_seconds: int = 900
    cookie_secure: bool = False
    default_locale: str = "zh_CN"
    # Optional bank-hosted language model (OpenAI-compatible chat completions) that only
    # rephrases the assistant's template answers; empty: the embedded default alone.
    assistant_url: str = ""
    assistant_model: str = ""
    assistant_key: str = ""
    assistant_timeout_seconds: int = 5
    log_level: str = "INFO"
    # Outgoing e-mail (trellis.notifications): SMTP when a host is set; else messages go
    # to the file sink instance/outbox.jsonl.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "trellis@localhost"
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_production(self) -> bool:
        """Whether TRELLIS_ENV is "production"."""
        return self.env == "production"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> Settings:
        """Read ``TRELLIS_*`` variables from *environ* (default ``os.environ``).

        *overrides* (by field name) win over the environment; tests use them.
        Raises :class:`ConfigError` for any malformed value and, in production, for a
        missing or default secret key.
        """
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            if f.name == "extra":
                continue
            var = "TRELLIS_" + f.name.upper()
            if var not in env:
                continue
            raw = env[var]
            if f.type in ("int", int):
                minimum = 0
                values[f.name] = _parse_int(var, raw, minimum)
            elif f.type in ("bool", bool):
                values[f.name] = _parse_bool(var, raw)
            elif f.type in ("Decimal", Decimal):
                values[f.name] = _parse_positive_decimal(var, raw)
            else:
                values[f.name] = raw.strip()
        values.update(overrides)
        environment = _parse_choice("TRELLIS_ENV", str(values.get("env", "development")),
                                    ENVIRONMENTS)
        values["env"] = environment
        _parse_choice("TRELLIS_SCHEDULER", str(values.get("scheduler", "off")), SCHEDULER_MODES)
        _parse_choice("TRELLIS_DEFAULT_LOCALE", str(values.get("default_locale", "zh_CN")),
                      ("zh_CN", "en"))
        if "cookie_secure" not in values:
            values["cookie_secure"] = environment == "production"
        if "mfa_required" not in values:
            values["mfa_required"] = environment == "production"
        instance = Path(str(values.get("instance_path") or "instance")).resolve()
        values["instance_path"] = str(instance)
        if not values.get("database_url"):
            values["database_url"] = f"sqlite:///{instance / 'trellis.db'}"
        values["tasks_url"] = _tasks_url(str(values.get("tasks_url") or ""), environment,
                                         instance)
        queue = str(values.get("tasks_queue", "trellis"))
        if not queue or not all(c.isalnum() or c in "-_." for c in queue):
            raise ConfigError("TRELLIS_TASKS_QUEUE must be letters, digits, '-', '_' or '.', "
                              f"not {queue!r}")
        if not 0 < int(values.get("smtp_port", 25)) < 65536:  # type: ignore[call-overload]
            raise ConfigError("TRELLIS_SMTP_PORT must be a port number (1-65535)")
        mail_from = str(values.get("mail_from", "trellis@localhost"))
        if "@" not in mail_from or any(c in mail_from for c in "\r\n"):
            raise ConfigError(f"TRELLIS_MAIL_FROM must be an e-mail address, not {mail_from!r}")
        if int(values.get("tasks_workers", 2)) < 1:  # type: ignore[call-overload]
            raise ConfigError("TRELLIS_TASKS_WORKERS must be at least 1")
        settings = cls(**values)  # type: ignore[arg-type]
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse settings that are unsafe for the environment."""
        url = self.database_url
        if not (url.startswith("sqlite") or url.startswith("postgresql")):
            raise ConfigError(
                "TRELLIS_DATABASE_URL must be a sqlite:/// or postgresql+psycopg:// URL")
        if self.env == "production":
            if not self.secret_key or self.secret_key == DEFAULT_SECRET_KEY:
                raise ConfigError(
                    "TRELLIS_SECRET_KEY must be set to a long random value in production")
            if len(self.secret_key) < 32:
                raise ConfigError("TRELLIS_SECRET_KEY must be at least 32 characters")
            if self.fingerprint_key == Settings.fingerprint_key:
                raise ConfigError(
                    "TRELLIS_FINGERPRINT_KEY must be set to the key shared among financiers")
        if self.public_url and not self.public_url.startswith(("http://", "https://")):
            raise ConfigError("TRELLIS_PUBLIC_URL must be an http(s):// address")
        if self.assistant_url and not (self.assistant_url.startswith(("http://", "https://"))
                                       and self.assistant_model):
            raise ConfigError("TRELLIS_ASSISTANT_URL must be an http(s):// URL and needs "
                              "TRELLIS_ASSISTANT_MODEL")
        if self.chain_url and not (self.chain_key or self.chain_keystore):
            raise ConfigError(
                "TRELLIS_CHAIN_URL needs TRELLIS_CHAIN_KEY or TRELLIS_CHAIN_KEYSTORE to sign")
