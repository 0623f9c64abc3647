"""The digest's words and number formats in the reader's language (en, pl, ru).

Wording lives in one small TOML catalogue per language beside this module, so a
translator edits text, not templates; numbers, dates, durations and language names are
formatted by Babel from CLDR data, which knows that Polish writes "4,2" and "3 godziny".
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from importlib.resources import files
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_interval, format_skeleton, format_timedelta
from babel.numbers import format_decimal, format_percent

LANGUAGES = ("en", "pl", "ru")


@cache
def catalogue(language: str) -> dict[str, str]:
    """The message catalogue of `language`; an unknown language is a programming error."""
    if language not in LANGUAGES:
        raise ValueError(f"no digest messages for {language!r} (have {', '.join(LANGUAGES)})")
    text = files("alerts.digest").joinpath("messages", f"{language}.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


@dataclass(frozen=True)
class Formats:
    """Formats values for one reader: their language and the brand's time zone."""

    language: str
    tz: ZoneInfo

    @property
    def messages(self) -> dict[str, str]:
        return catalogue(self.language)

    def text(self, key: str, **values: object) -> str:
        return self.messages[key].format(**values)

    def integer(self, value: int) -> str:
        return format_decimal(value, locale=self.language)

    def decimal(self, value: float, digits: int = 1, *, signed: bool = False) -> str:
        """`value` rounded to `digits`; `signed` adds a plus to positives (zero has no sign)."""
        pattern = "#,##0." + "0" * digits if digits else "#,##0"
        if signed and round(value, digits) != 0:
            pattern = f"+{pattern};-{pattern}"
        elif round(value, digits) == 0:
            value = 0.0  # no "-0.0"
        return format_decimal(value, pattern, locale=self.language).replace("-", "−")

    def percent(self, share: float) -> str:
        return format_percent(share, "#,##0%", locale=self.language)

    def duration(self, span: timedelta) -> str:
        # threshold=2: "90 minutes" rather than "2 hours", "36 hours" rather than "2 days".
        return format_timedelta(span, threshold=2, locale=self.language)

    def date_range(self, first: date, last: date) -> str:
        return format_interval(first, last, "yMMMd", locale=self.language)

    def day(self, value: date) -> str:
        """A weekday and day of month, short enough for a chart axis: 'Mon 16'."""
        return format_date(value, "EEE d", locale=self.language)

    def when(self, moment: datetime) -> str:
        """A moment in the brand's time zone: 'Nov 16, 06:03'."""
        return f"{format_skeleton('MMMd', moment, tzinfo=self.tz, locale=self.language)}, {self.time(moment)}"

    def time(self, moment: datetime) -> str:
        return format_datetime(moment, "HH:mm", tzinfo=self.tz, locale=self.language)

    def language_name(self, code: str | None) -> str:
        if not code:
            return self.text("language_unknown")
        return str(Locale(self.language).languages.get(code.split("-")[0].lower(), code))
