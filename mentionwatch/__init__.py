"""mentionwatch: review and social-mention monitoring.

The top-level package holds only what ties the others together: process settings,
the monitoring config file, and the command line. `crawlers`, `sentiment`, `alerts`
and `store` are sibling packages.
"""

__version__ = "0.1.0"
