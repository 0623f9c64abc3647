"""Reading recorded API responses for the social-source tests: samples, fixtures, cassettes.

The shared fixtures hold bodies inside three cassette formats: Betamax JSON (PRAW),
VCR.py YAML (Mastodon.py) and R vcr YAML (bskyr). `cassette` reads any of them into
`Recorded` responses so a test can serve or parse the body exactly as recorded.
Also here: a hypothesis strategy that damages a real document one node at a time,
which is how APIs go wrong in practice (a field turned null, a list turned object).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from crawlers.parsers.common import ParseError

SAMPLES = Path(__file__).parent / "samples"


@dataclass(frozen=True)
class Recorded:
    method: str
    uri: str
    status: int
    headers: dict[str, str]
    body: str


def sample(source_type: str, name: str) -> bytes:
    """A sample response written for these tests (tests/crawlers/samples/<type>/<name>)."""
    return (SAMPLES / source_type / name).read_bytes()


def _header_values(headers: dict[str, Any]) -> dict[str, str]:
    # Betamax and R vcr keep one string per header, VCR.py a list of them.
    return {name: ", ".join(value) if isinstance(value, list) else str(value) for name, value in headers.items()}


def cassette(path: Path) -> list[Recorded]:
    """Every interaction of a Betamax (JSON), VCR.py or R vcr (YAML) cassette."""
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    interactions = data.get("interactions") or data.get("http_interactions") or []
    recorded = []
    for interaction in interactions:
        request, response = interaction["request"], interaction["response"]
        status = response["status"]
        recorded.append(
            Recorded(
                method=request["method"].upper(),
                uri=request["uri"],
                status=int(status["code"] if isinstance(status, dict) else status),
                headers=_header_values(response.get("headers") or {}),
                body=response["body"]["string"],
            )
        )
    return recorded


def recorded_get(path: Path, uri_part: str) -> Recorded:
    """The first recorded GET whose URI contains `uri_part`."""
    return next(r for r in cassette(path) if r.method == "GET" and uri_part in r.uri)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    paths = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            paths.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            paths.extend(_paths(value, (*prefix, index)))
    return paths


def _replaced(node: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = dict(node) if isinstance(node, dict) else list(node)
    copy[path[0]] = _replaced(node[path[0]], path[1:], value)
    return copy


@st.composite
def damaged(draw: st.DrawFn, document: Any) -> Any:
    """`document` with one node (anywhere, the root included) replaced by random JSON."""
    path = draw(st.sampled_from(_paths(document)))
    return _replaced(document, path, draw(json_values))


def assert_well_formed(mentions: list[Any]) -> None:
    """What the pipeline relies on from every parser: a URL, a string body, aware UTC times."""
    for mention in mentions:
        assert mention.url.startswith(("http://", "https://")), mention.url
        assert isinstance(mention.body, str)
        assert mention.external_id is None or isinstance(mention.external_id, str)
        published = mention.published
        assert published is None or (published.tzinfo is not None and published.utcoffset().total_seconds() == 0)


def parse_or_refuse(parse: Callable[[str], Any], body: str) -> None:
    """`parse(body)` either refuses the whole body with ParseError or returns well-formed mentions."""
    try:
        page = parse(body)
    except ParseError:
        return
    assert_well_formed(page.mentions)
