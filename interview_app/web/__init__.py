"""The HTTP surface: blueprints (JSON in, SSE out), the page, errors, headers, logs, metrics."""
