"""Head+tail truncation and length buckets."""

from __future__ import annotations

from sentiment.batching import MAX_TOKENS, TAIL_TOKENS, length_sorted_batches, tokenize, truncate_head_tail
from tests.sentiment.conftest import tiny_tokenizer


def test_short_sequences_are_kept_whole() -> None:
    assert truncate_head_tail([1, 2, 3], max_tokens=5, tail=2) == [1, 2, 3]
    assert truncate_head_tail(list(range(5)), max_tokens=5, tail=2) == [0, 1, 2, 3, 4]


def test_long_sequences_keep_their_start_and_end() -> None:
    assert truncate_head_tail(list(range(10)), max_tokens=5, tail=2) == [0, 1, 2, 8, 9]
    cut = truncate_head_tail(list(range(1000)))
    assert len(cut) == MAX_TOKENS
    assert cut[: MAX_TOKENS - TAIL_TOKENS] == list(range(MAX_TOKENS - TAIL_TOKENS))
    assert cut[-TAIL_TOKENS:] == list(range(1000 - TAIL_TOKENS, 1000))


def test_a_long_review_keeps_its_verdict_and_both_special_tokens() -> None:
    tokenizer = tiny_tokenizer()
    review = "good " + "the delivery was late " * 100 + "awful"
    (ids,) = tokenize(tokenizer, [review])
    tokens = tokenizer.convert_ids_to_tokens(ids)
    assert len(ids) == MAX_TOKENS
    assert tokens[:2] == ["[CLS]", "good"]
    assert tokens[-2:] == ["awful", "[SEP]"]


def test_the_prefix_goes_before_every_text() -> None:
    tokenizer = tiny_tokenizer()
    assert tokenize(tokenizer, ["bad"], prefix="very ") == tokenize(tokenizer, ["very bad"])


def test_length_buckets_cover_every_index_once_shortest_first() -> None:
    lengths = [5, 1, 9, 3, 7, 2, 8]
    batches = list(length_sorted_batches(lengths, batch_size=3))
    assert [len(b) for b in batches] == [3, 3, 1]
    flat = [i for batch in batches for i in batch]
    assert sorted(flat) == list(range(len(lengths)))
    assert [lengths[i] for i in flat] == sorted(lengths)
