"""Process settings, read from the environment in this one module.

Everything that differs between a laptop, CI and production (where the database is,
which Slack workspace, which mail server) comes from `MENTIONWATCH_*` variables so that
the monitoring config file (brands, sources) can be shared and committed without secrets.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from platformdirs import user_cache_dir, user_data_dir
from pydantic import ByteSize, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_NAME = "mentionwatch"


def default_data_dir() -> Path:
    return Path(user_data_dir(APP_NAME))


def default_database_url() -> str:
    return f"sqlite:///{default_data_dir() / 'mentionwatch.db'}"


class Settings(BaseSettings):
    """Settings of one mentionwatch process.

    Secrets are `SecretStr`: their repr is masked, so logging a Settings object or
    an error that includes it never leaks a token or a password.
    """

    model_config = SettingsConfigDict(env_prefix="MENTIONWATCH_", extra="ignore")

    database_url: str = default_database_url()
    # Where `mentionwatch sql` connects (default: database_url); on PostgreSQL, a
    # read-only role that cannot touch other sessions (docs/analysts.md).
    sql_database_url: str | None = None
    config: Path | None = None
    log_level: str = "INFO"

    slack_token: SecretStr | None = None
    slack_channel: str | None = None
    slack_base_url: str = "https://slack.com/api/"
    slack_signing_secret: SecretStr | None = None

    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    smtp_ssl: bool = False
    digest_from: str = "mentionwatch@localhost"

    # None = the built-in multilingual model; else a hub id or a local checkpoint path.
    sentiment_model: str | None = None
    # JSON object mapping the checkpoint's label names to negative/neutral/positive.
    sentiment_label_map: dict[str, str] | None = None
    sentiment_device: str | None = None
    # When to torch.compile the model: auto (once it pays back), always, never; see
    # sentiment.compilation (not imported here: it would load torch for every command).
    sentiment_compile: Literal["auto", "always", "never"] = "auto"
    cache_dir: Path = Path(user_cache_dir(APP_NAME))

    user_agent: str = "mentionwatch/0.1 (+https://github.com/mentionwatch/mentionwatch)"
    # Crawl size limits ("16MiB" or bytes); None keeps crawlers/settings.py's.
    download_maxsize: ByteSize | None = None
    download_warnsize: ByteSize | None = None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; cached so every module sees the same values."""
    return Settings()
