"""URL clean-up: unwrapping redirect links and the canonical form used for dedup.

Two links to one review must compare equal, however they were shared: tracking
parameters (utm_*, fbclid, ...) are removed, query arguments sorted, and redirect
wrappers such as Google Alerts' `google.com/url?...&url=` replaced by their target.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from w3lib.url import canonicalize_url, url_query_cleaner

# Query parameters that only say where a click came from.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
        "ttclid", "li_fat_id", "igshid", "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi",
        "mkt_tok", "ref_src", "ref_url", "spm", "si", "oly_anon_id", "oly_enc_id", "vero_id",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_")

# host suffix + path -> the query parameters that may hold the real target.
_REDIRECTORS: dict[tuple[str, str], tuple[str, ...]] = {
    ("google.com", "/url"): ("url", "q"),
    ("facebook.com", "/l.php"): ("u",),
    ("youtube.com", "/redirect"): ("q",),
    ("vk.com", "/away.php"): ("to",),
}


def _host_matches(host: str, suffix: str) -> bool:
    # google.com/url also lives on www.google.pl, google.co.uk and friends.
    if suffix == "google.com":
        return host == "google.com" or host.startswith("google.") or ".google." in f".{host}"
    return host == suffix or host.endswith("." + suffix)


def is_web_url(url: str) -> bool:
    """Whether ``url`` is an absolute http(s) URL with a host: the only kind worth
    fetching or storing as a mention's link."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def unwrap_redirect(url: str) -> str:
    """The target of a known redirect wrapper (repeatedly), else `url` unchanged."""
    for _ in range(3):
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        targets = next(
            (params for (suffix, path), params in _REDIRECTORS.items() if parts.path == path and _host_matches(host, suffix)),
            None,
        )
        if targets is None:
            return url
        query = dict(parse_qsl(parts.query))
        target = next((query[name] for name in targets if query.get(name, "").startswith(("http://", "https://"))), None)
        if target is None:
            return url
        url = target
    return url


def is_tracking_param(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def strip_params(url: str, names: set[str] | frozenset[str]) -> str:
    """`url` without the given query parameters (phpBB's `sid`, for one)."""
    present = [key for key, _ in parse_qsl(urlsplit(url).query, keep_blank_values=True) if key in names]
    return url_query_cleaner(url, present, remove=True, keep_fragments=True) if present else url


def canonical_url(url: str) -> str:
    """Redirects unwrapped, tracking parameters dropped, query sorted; fragments kept.

    Fragments stay because on review and forum pages they are often the only thing
    that tells two items on one page apart (`#p453`, `#review-17`). Raises ValueError
    for a URL that cannot be parsed (a bad port, say).
    """
    url = unwrap_redirect(url.strip())
    tracking = {key for key, _ in parse_qsl(urlsplit(url).query, keep_blank_values=True) if is_tracking_param(key)}
    return canonicalize_url(strip_params(url, tracking), keep_fragments=True)
