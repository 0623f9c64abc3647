"""What every command needs: settings, the config file and the store, loaded once."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.engine import Engine

from mentionwatch.config import Config, ConfigError, load_config, sync_config
from mentionwatch.settings import Settings
from store.db import StoreUnavailable, open_store

DEFAULT_CONFIG_NAME = "mentionwatch.toml"

err_console = Console(stderr=True)
log = logging.getLogger(__name__)


def report_error(message: str) -> None:
    """One `error: ...` line on stderr; the message is plain text, never Rich markup."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)


def fail(message: str, code: int = 2) -> NoReturn:
    """Stop the command with one clear message on stderr (exit 2: the user's input was wrong)."""
    report_error(message)
    raise typer.Exit(code)


@dataclass
class AppState:
    settings: Settings
    config_option: Path | None = None
    _engine: Engine | None = field(default=None, repr=False)

    @property
    def config_path(self) -> Path:
        return self.config_option or self.settings.config or Path(DEFAULT_CONFIG_NAME)

    @cached_property
    def config(self) -> Config:
        """The validated config; a missing or bad file ends the command with exit 2."""
        path = self.config_path
        if not path.exists():
            fail(f"{path}: no such config file (create one with `mentionwatch init`, or pass --config)")
        try:
            return load_config(path)
        except ConfigError as exc:
            fail(str(exc))

    @property
    def engine(self) -> Engine:
        """The store, upgraded to the newest schema on first use; one that cannot be
        opened ends the command with exit 2, saying why."""
        if self._engine is None:
            try:
                self._engine = open_store(self.settings.database_url)
            except StoreUnavailable as exc:
                fail(f"MENTIONWATCH_DATABASE_URL: {exc}")
        return self._engine

    def sync_config(self) -> dict[str, int]:
        """Mirror the config's brands and sources into the store; source name -> id."""
        return sync_config(self.engine, self.config)


def app_state(ctx: typer.Context) -> AppState:
    state = ctx.find_root().obj
    if not isinstance(state, AppState):
        raise RuntimeError("commands must run under the mentionwatch root command")
    return state
