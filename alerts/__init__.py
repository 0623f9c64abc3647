"""Telling people: negative mentions to Slack exactly once, storms as one spike alert.

The flow, each step a function of the database so any of them can stop and resume:
`rules` decides which mentions qualify, `outbox` queues each once per channel and hands
rows to senders, `sender` posts them through `slack_client` (or `console` without a
token), and `slack_actions` takes the buttons' clicks back. `digest/` mails the weekly
report.
"""
