"""Text that both databases can store and compare.

PostgreSQL text cannot hold a NUL character and an unpaired surrogate cannot be encoded as
UTF-8: either once ended a request in a 500. This module imports no web framework, so the
command line's models (mentions handle validates with the API's HandleIn) stay light.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


def _storable(value: str) -> str:
    if _UNSTORABLE.search(value):
        raise ValueError("must not contain NUL characters or unpaired surrogates")
    return value


Text = Annotated[str, AfterValidator(_storable)]
