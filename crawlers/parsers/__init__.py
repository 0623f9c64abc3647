"""What the API source types' parsers share (`common`): the `Page` they return and the
lenient reading of odd JSON. Each type's parsing lives in its module in `crawlers.sources`,
as pure functions of a response body, so each format is tested on recorded bodies alone.
"""
