"""The record ids an audit has read: a compact set that answers like a dict of id -> file."""

from __future__ import annotations

import random

from rulecore._seen import SeenIds


def test_seen_ids_answer_like_a_dict_of_id_to_file() -> None:
    rng = random.Random(3)
    seen = SeenIds()
    plain: dict[str, str] = {}
    alphabet = "abcé漢\U0001f600-_ 0123456789"
    for step in range(20_000):
        record_id = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 12)))
        source = f"file-{step % 7}.jsonl"
        assert seen.get(record_id) == plain.get(record_id)
        assert (record_id in seen) == (record_id in plain)
        if record_id not in plain:
            seen[record_id] = source
            plain[record_id] = source
    assert len(seen) == len(plain)
    assert all(seen.get(record_id) == source for record_id, source in plain.items())


def test_an_id_that_only_shares_bytes_across_entries_is_not_seen() -> None:
    """Entries are packed end to end; a match that straddles two of them is not an id."""
    seen = SeenIds()
    for number in range(200_000):
        seen[f"id-{number}"] = "a.jsonl"
    assert all(f"id-{number}" in seen for number in range(0, 200_000, 997))
    assert not any(f"other-{number}" in seen for number in range(20_000))
    assert "\ud800lone surrogate" not in seen  # read from JSON escapes, and still hashable
