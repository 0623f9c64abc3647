"""The monitoring config file: which brands to watch, where, and whom to tell.

It is TOML because community managers edit it by hand; it is validated with pydantic
so that a typo is reported once, naming the key, instead of surfacing as a crash in
the middle of a crawl.
"""

from __future__ import annotations

import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from sqlalchemy.engine import Engine

from crawlers.sources import SourceKind, UnknownSourceType, source_kind
from crawlers.urls import is_web_url
from store.boolean_query import QuerySyntaxError, parse_query
from store.db import session_scope
from store.queries import BrandSpec, SourceSpec, sync_brands_and_sources

_INTERVAL = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_interval(value: str) -> timedelta:
    """'30m', '2h', '1d' or '45s' as a timedelta; ValueError naming the format otherwise."""
    m = _INTERVAL.match(value)
    if not m:
        raise ValueError(f"interval {value!r} must look like '30m', '2h', '1d' or '45s'")
    return timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the key and the problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SpikeRules(_Strict):
    """When a brand's hourly volume of alerts is a storm, sent as one alert with a thread."""

    enabled: bool = True
    # The hour's alerts must exceed the last 7 days' hourly mean + sigmas standard deviations...
    sigmas: Annotated[float, Field(gt=0.0)] = 3.0
    # ... and be at least this many, so a quiet brand's third complaint is no storm.
    min_count: Annotated[int, Field(ge=2)] = 10


class AlertRules(_Strict):
    """When a mention of a brand is worth a Slack message."""

    channel: str | None = None
    # Chosen on the sentiment dev split: negative alerts at least 80 % precise (sentiment/data/README.md).
    min_negative: Annotated[float, Field(ge=0.0, le=1.0)] = 0.41
    languages: list[str] = []
    sources: list[str] = []
    # A rating at or below this, on a 1-5 scale after rescaling, alerts on its own.
    max_rating: Annotated[float, Field(ge=1.0, le=5.0)] | None = 2.0
    critical_words: list[str] = []
    enabled: bool = True
    spikes: SpikeRules = SpikeRules()
    # Only mentions said within this alert: a new source's first crawl brings years of
    # old reviews, which are stored and counted but are not news. An undated mention
    # counts from when it was found.
    max_age: str = "3d"

    @field_validator("max_age")
    @classmethod
    def _valid_max_age(cls, value: str) -> str:
        parse_interval(value)
        return value

    @property
    def max_age_delta(self) -> timedelta:
        return parse_interval(self.max_age)


class Brand(_Strict):
    name: Annotated[str, Field(min_length=1)]
    query: str = ""
    languages: list[str] = []
    timezone: str = "UTC"
    alerts: AlertRules = AlertRules()
    digest_recipients: list[str] = []
    digest_language: Literal["en", "pl", "ru"] = "en"

    @field_validator("query")
    @classmethod
    def _readable_query(cls, value: str) -> str:
        # Checked here so that `check` reports it, not every crawl of the brand's sources.
        if value.strip():
            try:
                parse_query(value)
            except QuerySyntaxError as exc:
                raise ValueError(f"bad query: {exc}") from exc
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name like 'Europe/Warsaw')") from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Source(_Strict):
    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")]
    brand: str
    # A module of crawlers/sources; it says which options, urls and search terms it takes.
    type: str
    urls: list[str] = []
    search: list[str] = []
    base_url: str | None = None
    interval: str = "1h"
    # "all": every item is about the brand; "query": keep items matching the brand's query.
    match: Literal["all", "query"] | None = None
    max_pages: Annotated[int, Field(ge=1)] = 20
    # Runs stop at what earlier runs saw, so an edited old review would stay unseen: this
    # often, one run ignores that and reads up to max_pages of each listing again.
    # "off" turns it off.
    recheck: str = "1d"
    # The type's options (its `Options` model: an app id, the variable holding a token, ...).
    options: dict[str, Any] = {}

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        try:
            source_kind(value)
        except UnknownSourceType as exc:
            raise ValueError(str(exc)) from exc
        return value

    @field_validator("interval", "recheck")
    @classmethod
    def _valid_interval(cls, value: str, info: ValidationInfo) -> str:
        if not (info.field_name == "recheck" and value == "off"):
            parse_interval(value)
        return value

    @model_validator(mode="after")
    def _fits_its_type(self) -> Source:
        """Every mistake against the type's kind at once: options, urls, search, what is missing."""
        kind = self.kind
        problems: list[InitErrorDetails] = []
        try:
            options = kind.options.model_validate(self.options)
        except ValidationError as exc:
            options = None
            problems += [_option_problem(kind, error) for error in exc.errors()]
        for field in ("urls", "search"):
            if getattr(self, field) and field not in kind.reads:
                reads = f"; it reads {' and '.join(sorted(kind.reads))}" if kind.reads else ""
                problems.append(_problem((field,), f"{self.type} does not read {field}{reads}"))
        problems += [
            _problem(("urls", i), f"{url!r} is not an http(s) URL") for i, url in enumerate(self.urls) if not is_web_url(url)
        ]
        missing = kind.missing(options, self) if options is not None else None
        if missing:
            problems.append(_problem((), missing))
        if problems:
            raise ValidationError.from_exception_data(type(self).__name__, problems)
        return self

    @property
    def kind(self) -> SourceKind:
        return source_kind(self.type)

    @property
    def interval_delta(self) -> timedelta:
        return parse_interval(self.interval)

    @property
    def recheck_delta(self) -> timedelta | None:
        return None if self.recheck == "off" else parse_interval(self.recheck)

    @property
    def match_mode(self) -> Literal["all", "query"]:
        if self.match is not None:
            return self.match
        return "all" if self.kind.owned else "query"


def _problem(location: tuple[str | int, ...], message: str) -> InitErrorDetails:
    return {"type": PydanticCustomError("source_type", message), "loc": location, "input": None}


def _option_problem(kind: SourceKind, error: Any) -> InitErrorDetails:
    """An error of the type's Options, under `options`; an unknown key lists the known ones."""
    location = ("options", *error["loc"])
    if error["type"] == "extra_forbidden":
        known = ", ".join(kind.options.model_fields) or "no options"
        return _problem(location, f"extra inputs are not permitted; {kind.name} takes {known}")
    message = error["msg"].removeprefix("Value error, ").rstrip(".")
    return _problem(location, message[:1].lower() + message[1:])


class Config(_Strict):
    brands: list[Brand] = []
    sources: list[Source] = []
    # How often the service scores and sends alerts; short so negatives reach Slack fast.
    score_interval: str = "20s"
    alert_interval: str = "15s"

    @field_validator("score_interval", "alert_interval")
    @classmethod
    def _valid_intervals(cls, value: str) -> str:
        parse_interval(value)
        return value

    @model_validator(mode="after")
    def _references_resolve(self) -> Config:
        brand_names = [b.name for b in self.brands]
        _no_duplicates("brands", brand_names)
        _no_duplicates("sources", [s.name for s in self.sources])
        for i, source in enumerate(self.sources):
            if source.brand not in brand_names:
                raise ValueError(
                    f"sources[{i}].brand: {source.brand!r} is not one of the brands ({', '.join(brand_names) or 'none'})"
                )
        return self

    def brand(self, name: str) -> Brand:
        for brand in self.brands:
            if brand.name == name:
                return brand
        raise KeyError(name)

    def source(self, name: str) -> Source:
        for source in self.sources:
            if source.name == name:
                return source
        raise KeyError(name)


def _no_duplicates(key: str, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"{key}: the name {name!r} is used twice")
        seen.add(name)


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown key"
    return f"{location}: {message}" if location else message


def parse_config(text: str, *, origin: str = "<config>") -> Config:
    """Parse and validate config TOML, raising ConfigError with one clear message."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{origin}: not valid TOML: {exc}") from exc
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{origin}: {_describe(exc)}") from exc


def load_config(path: Path) -> Config:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc.strerror})") from exc
    return parse_config(text, origin=str(path))


def sync_config(engine: Engine, config: Config) -> dict[str, int]:
    """Mirror the config's brands and sources into the store (rows are never deleted); source name -> id."""
    with session_scope(engine) as session:
        return sync_brands_and_sources(
            session,
            brands=[BrandSpec(b.name, b.query, b.timezone) for b in config.brands],
            sources=[SourceSpec(s.name, s.type, s.brand) for s in config.sources],
        )
