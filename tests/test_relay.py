"""streaming/relay.py's pieces on their own (the relay end to end: test_api, test_e2e)."""

from __future__ import annotations

import pytest

from interview_app.streaming.relay import Text


@pytest.mark.parametrize("count", [0, 1, Text.BATCH - 1, Text.BATCH, Text.BATCH + 1, 1000])
def test_the_kept_text_is_every_token_in_order_across_batches(count: int) -> None:
    tokens = [f"토큰{i} " if i % 2 else f"t{i} " for i in range(count)]
    text = Text()
    for token in tokens:
        text.append(token)
    assert str(text) == "".join(tokens)
    assert len(text._parts) < Text.BATCH  # joined as it goes, not kept token by token
