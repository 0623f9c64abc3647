"""Source types: one module per config `type`, found by its name.

`crawlers/sources/<type>.py` holds everything of a type: its `Options` (a subclass of
`SourceOptions`; unknown keys are refused), its spider and the parsing of its
responses, and at the end `KIND = SourceKind(...)`, which says what the config may give
it. Every module here whose name does not start with `_` is a type, so adding a type is
adding a module (and its test and samples; docs/crawling.md says how).

`mentionwatch.config.Source` validates a source's `type`, `options`, `urls` and
`search` against its kind, so a mistake is named before any crawl. Modules are imported
only when a config uses their type.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict

if TYPE_CHECKING:
    from crawlers.spiders.base import MentionSpider
    from mentionwatch.config import Source

# What a source lists in the config to say what to read.
Input = Literal["urls", "search"]
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class UnknownSourceType(LookupError):
    """The config names a type that has no module in crawlers/sources."""


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r} (use an IANA name like 'Europe/Warsaw')") from exc
    return value


def _environment_name(value: str) -> str:
    # The config names the variable; a value that looks like a secret itself is a mistake
    # that would otherwise end up in the config file's history.
    if not _ENV_NAME.match(value):
        raise ValueError(f"{value[:4]}... is not an environment variable name (like 'VK_TOKEN')")
    return value


TimeZoneName = Annotated[str, AfterValidator(_zone)]
EnvironmentName = Annotated[str, AfterValidator(_environment_name)]


class SourceOptions(BaseModel):
    """The `options` every type takes; a type's `Options` adds its own.

    One name per idea across types: `token_env` (the environment variable that holds a
    token or API key), `countries`, `languages`, `timezone`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    # The zone of the source's naive and printed times; default: the brand's.
    timezone: TimeZoneName | None = None


class TokenOptions(SourceOptions):
    """Options of a type that may send a secret: the variable that holds it, never the secret."""

    token_env: EnvironmentName | None = None


# (the type's options, the source) -> what is missing, or None; see SourceKind.requirement.
Requirement = Callable[[Any, "Source"], str | None]


@dataclass(frozen=True)
class SourceKind:
    """What a source type is: its options, its spider, and what it reads from the config.

    `reads`: which of `urls` and `search` the spider uses; the config may not give the
    others. `owned`: every item is about the brand (the brand's own product or app
    pages), so `match` defaults to "all". `requirement`: what a source must give; by
    default at least one of what it reads.
    """

    name: str
    options: type[SourceOptions]
    spider: type[MentionSpider]
    reads: frozenset[Input]
    owned: bool = False
    requirement: Requirement | None = None

    def missing(self, options: SourceOptions, source: Source) -> str | None:
        """What the source lacks to be crawled, or None."""
        if self.requirement is not None:
            return self.requirement(options, source)
        given = {"urls": bool(source.urls), "search": bool(source.search)}
        if self.reads and not any(given[name] for name in self.reads):
            return f"{self.name} needs {' or '.join(sorted(self.reads))}"
        return None


def type_names() -> list[str]:
    """Every source type, in name order."""
    return sorted(module.name for module in pkgutil.iter_modules(__path__) if not module.name.startswith("_"))


@cache
def source_kind(name: str) -> SourceKind:
    """The kind of type `name`, its module imported on first use."""
    if name not in type_names():
        raise UnknownSourceType(f"unknown source type {name!r} (one of: {', '.join(type_names())})")
    kind = importlib.import_module(f"{__name__}.{name}").KIND
    assert isinstance(kind, SourceKind) and kind.name == name, f"crawlers.sources.{name}.KIND is not its SourceKind"
    return kind

