"""Slack Block Kit messages: a negative mention, a spike, and a message after a click.

A community manager must be able to answer from the message alone: where and who, when
(Slack shows the time in each reader's own zone), the stars, the model's verdict and
confidence, the language, the text, a button to open it where it can be answered, and
buttons that record what was done. Every message carries metadata naming its outbox row,
which is how the sender finds a message it may already have posted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alerts.rules import rated_negative
from alerts.view import Alert, MentionAlert, SpikeAlert

EVENT_TYPE = "mentionwatch_alert"
ACTION_HANDLED = "mentionwatch_handled"
ACTION_NOT_NEGATIVE = "mentionwatch_not_negative"
ACTION_OPEN = "mentionwatch_open"
ACTIONS_BLOCK = "mentionwatch_actions"
TEXT_LIMIT = 700
_HEADER_LIMIT = 150


@dataclass(frozen=True)
class SlackMessage:
    text: str
    blocks: list[dict[str, Any]]
    metadata: dict[str, Any]


def escape(text: str) -> str:
    """Slack mrkdwn treats &, < and > as markup; user text must not."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def trim(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def metadata(outbox_id: int, mention_id: int | None, brand: str) -> dict[str, Any]:
    return {
        "event_type": EVENT_TYPE,
        "event_payload": {"outbox_id": outbox_id, "mention_id": mention_id or 0, "brand": brand},
    }


def is_message_for(message_metadata: dict[str, Any] | None, outbox_id: int) -> bool:
    """Whether a message's metadata says it was posted for this outbox row."""
    if not message_metadata or message_metadata.get("event_type") != EVENT_TYPE:
        return False
    return (message_metadata.get("event_payload") or {}).get("outbox_id") == outbox_id


def stars_text(stars: float | None, rating: float | None, best: float | None) -> str:
    if stars is None or rating is None:
        return "no rating"
    full = round(stars)
    return f"{'★' * full}{'☆' * (5 - full)} {rating:g}/{best or 5:g}"


def sentiment_text(alert: MentionAlert) -> str:
    if alert.relabeled_by:
        return f"{alert.label} (set by {alert.relabeled_by})"
    if alert.label is None:
        return "not scored yet"
    if alert.prob_negative is None:
        return alert.label
    if alert.stars is not None:
        # Judged with its stars, as the rules do: a 3-star "good, but..." is no near-certain negative.
        judged = rated_negative(alert.prob_negative, alert.stars)
        return f"negative {judged:.0%} with the stars (text alone: {alert.label}, negative {alert.prob_negative:.0%})"
    if alert.label == "negative":
        return f"negative ({alert.prob_negative:.0%} confidence)"
    # Alerted for its critical words while the model read it otherwise: show both.
    return f"{alert.label} (negative {alert.prob_negative:.0%})"


def _date(alert: MentionAlert) -> str:
    # Slack renders <!date^...> in each reader's zone; the fallback is in the brand's.
    return f"<!date^{int(alert.when.timestamp())}^{{date_short_pretty}} {{time}}|{alert.local_time}>"


def _field(label: str, value: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": f"*{label}*\n{value}"}


def mention_message(alert: MentionAlert) -> SlackMessage:
    title = ("🚨 Urgent: " if alert.urgent else "") + alert.headline
    header = trim(title, _HEADER_LIMIT)
    author = escape(trim(alert.author, 100)) if alert.author else "unknown"
    body = escape(trim(alert.text, TEXT_LIMIT))
    if alert.title:
        body = f"*{escape(trim(alert.title, 200))}*\n{body}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header, "emoji": True}},
        {
            "type": "section",
            "fields": [
                _field("Source", f"{escape(alert.source)} ({alert.source_type})"),
                _field("Author", author),
                _field("Time", _date(alert)),
                _field("Rating", stars_text(alert.stars, alert.rating, alert.rating_best)),
                _field("Sentiment", sentiment_text(alert)),
                _field("Language", alert.language or "unknown"),
            ],
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": body or "_(no text)_"}},
    ]
    context = []
    if alert.thread_note:
        context.append(escape(alert.thread_note))
    if alert.critical_words:
        context.append("Critical words: " + ", ".join(f"*{escape(w)}*" for w in alert.critical_words))
    if alert.reasons:
        context.append("Why: " + ", ".join(alert.reasons))
    if context:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(context)}]})
    value = str(alert.mention_id)
    blocks.append(
        {
            "type": "actions",
            "block_id": ACTIONS_BLOCK,
            "elements": [
                _button("Open and answer", ACTION_OPEN, value, url=alert.url, style="primary"),
                _button("Mark handled", ACTION_HANDLED, value),
                _button("Not negative", ACTION_NOT_NEGATIVE, value),
            ],
        }
    )
    # The notification's text: what phones and the sidebar show.
    text = escape(trim(f"{title}: {alert.text}", 300))
    return SlackMessage(text=text, blocks=blocks, metadata=metadata(alert.outbox_id, alert.mention_id, alert.brand))


def spike_message(alert: SpikeAlert) -> SlackMessage:
    hours = alert.window_minutes / 60
    window = "hour" if hours == 1 else f"{hours:g} hours"
    text = (
        f"📈 Spike: {alert.count} negative mentions of {alert.brand} in the last {window} "
        f"(usually {alert.baseline_mean:.1f})"
    )
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": trim(text, _HEADER_LIMIT), "emoji": True}},
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "Each mention follows in this message's thread, so the channel stays readable.",
            },
        },
    ]
    return SlackMessage(text=text, blocks=blocks, metadata=metadata(alert.outbox_id, None, alert.brand))


def render(alert: Alert) -> SlackMessage:
    return mention_message(alert) if isinstance(alert, MentionAlert) else spike_message(alert)


def _button(
    text: str, action_id: str, value: str, *, url: str | None = None, style: str | None = None
) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
        "value": value,
    }
    if url:
        button["url"] = url
    if style:
        button["style"] = style
    return button


def after_action(blocks: list[dict[str, Any]], note: str) -> list[dict[str, Any]]:
    """The message's blocks once someone acted: the note replaces the handling buttons.

    The button that opens the mention stays, so it can still be answered from Slack.
    """
    updated: list[dict[str, Any]] = []
    for block in blocks:
        if block.get("block_id") == ACTIONS_BLOCK:
            kept = [e for e in block.get("elements", []) if e.get("action_id") == ACTION_OPEN]
            if kept:
                updated.append({**block, "elements": kept})
            continue
        updated.append(block)
    updated.append({"type": "context", "elements": [{"type": "mrkdwn", "text": note}]})
    return updated
