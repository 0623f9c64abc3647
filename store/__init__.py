"""The mention store: schema, engine and the query functions every other package uses.

It imports nothing from crawlers, sentiment or alerts: they depend on it, never the
other way round.
"""
