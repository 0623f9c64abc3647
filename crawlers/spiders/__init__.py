"""The spider bases every source type builds on: `base` (pages, JSON APIs) and
`newest_first` (search APIs that list newest first). The types themselves, one module
each, are in `crawlers.sources`.
"""
