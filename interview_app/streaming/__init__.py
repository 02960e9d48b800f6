"""Getting text to readers: SSE framing, the relay, stream stores, quotas, shutdown, counters."""
