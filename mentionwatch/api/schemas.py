"""What the HTTP API returns and accepts; the field docs become the OpenAPI schema at /docs."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AnyHttpUrl, BaseModel, Field, model_validator

from mentionwatch.api.text import Text

Label = Literal["negative", "neutral", "positive"]
HandledState = Literal["new", "acknowledged", "responded", "ignored"]


class MentionOut(BaseModel):
    """One mention as in mention_view (see docs/analysts.md)."""

    id: int
    brand: str
    source: str
    source_type: str
    url: str
    canonical_url: str
    thread_url: str | None
    parent_url: str | None
    external_id: str | None
    author: str | None
    published_at: datetime | None
    fetched_at: datetime
    happened_at: datetime = Field(description="published_at, or fetched_at where the source gives no date")
    updated_at: datetime | None
    title: str | None
    text: str
    language: str | None
    rating: float | None
    rating_best: float | None
    rating_worst: float | None
    rating_5: float | None = Field(description="the rating rescaled to 1-5 from its own worst..best")
    sentiment: Label | None = Field(description="effective label: a manual relabel wins over the model")
    sentiment_score: float | None
    model_label: Label | None
    sentiment_model: str | None
    manual_label: Label | None
    manual_by: str | None
    manual_at: datetime | None
    handled: HandledState
    handled_by: str | None
    handled_at: datetime | None
    response_url: str | None
    first_response_at: datetime | None
    response_seconds: float | None = Field(description="from happened_at to the first public answer")
    brand_id: int
    source_id: int


class MentionPage(BaseModel):
    items: list[MentionOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last page")


class HandleIn(BaseModel):
    """A handling change; `mentions handle` validates with this model too, so both agree."""

    state: Literal["acknowledged", "responded", "ignored"]
    response_url: AnyHttpUrl | None = Field(None, description="the public answer: required for responded, else absent")
    by: Text | None = Field(None, description="who; defaults to the token's name")

    @model_validator(mode="after")
    def _url_exactly_with_responded(self) -> HandleIn:
        if self.state == "responded" and self.response_url is None:
            raise ValueError("state 'responded' needs response_url, the http(s) URL of the public answer")
        if self.state != "responded" and self.response_url is not None:
            raise ValueError(f"response_url goes with state 'responded' only, not {self.state!r}")
        return self


class RelabelIn(BaseModel):
    label: Label
    by: Text | None = Field(None, description="who; defaults to the token's name")


class BrandOut(BaseModel):
    id: int
    name: str
    query: str
    timezone: str


class SourceOut(BaseModel):
    id: int
    name: str
    type: str
    brand: str


class WeekOut(BaseModel):
    week: str = Field(description="ISO week in the brand's time zone, e.g. 2026-W47")
    start: datetime
    end: datetime
    mentions: int
    negative: int
    neutral: int
    positive: int
    unscored: int
    net_sentiment: float | None = Field(description="(positive - negative) / (positive + negative), -1..1")
    ratings: int
    avg_rating: float | None = Field(description="average rating on 1-5")
    negatives_responded: int
    response_rate: float | None = Field(description="answered negatives / negatives")
    median_first_response_seconds: float | None


class BrandMetrics(BaseModel):
    brand: str
    timezone: str
    weeks: list[WeekOut]


class ErrorOut(BaseModel):
    detail: str = Field(description="what was wrong, in words")


# The errors every route may answer besides 422, so that the OpenAPI schema lists them.
NEEDS_TOKEN = {401: {"model": ErrorOut, "description": "no bearer token, or an unknown one"}}
NEEDS_WRITE_TOKEN = {403: {"model": ErrorOut, "description": "a read token on a write route"}}
ONE_MENTION = {404: {"model": ErrorOut, "description": "no mention with this id"}}
