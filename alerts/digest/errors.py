"""The one exception type callers of the digest need to catch."""


class DigestError(Exception):
    """A digest that cannot be built or sent; the message says what to fix."""
