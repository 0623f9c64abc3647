"""Ratings on a common scale: every site rates on its own worst..best scale.

Alerts, the digest and the crawler's normalizer all read ratings through here, so a
"2 of 10" is the same 1.4 stars everywhere. The SQL twin is store.derived.rating_5.
"""

from __future__ import annotations

# schema.org's defaults for a rating without bestRating / worstRating.
DEFAULT_BEST, DEFAULT_WORST = 5.0, 1.0


def rescale(rating: float, *, best: float | None, worst: float | None, low: float, high: float) -> float | None:
    """A rating moved from its own worst..best scale to low..high; None for a broken scale."""
    top = DEFAULT_BEST if best is None else best
    bottom = DEFAULT_WORST if worst is None else worst
    if top <= bottom:
        return None
    fraction = min(max((rating - bottom) / (top - bottom), 0.0), 1.0)
    return low + fraction * (high - low)


def stars(rating: float | None, *, best: float | None, worst: float | None) -> float | None:
    """A rating on the 1-5 star scale; None without a rating or with a broken scale."""
    return None if rating is None else rescale(rating, best=best, worst=worst, low=1.0, high=5.0)
