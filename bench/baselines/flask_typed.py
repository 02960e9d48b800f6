"""Baseline: Flask + gevent iterating the SDK's typed chunks (the obvious way).

Run: gunicorn -k gevent -w 1 --worker-connections 6000 bench.baselines.flask_typed:app
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import openai
from flask import Flask, Response, request

app = Flask(__name__)
_client: openai.OpenAI | None = None


def client() -> openai.OpenAI:
    global _client
    if _client is None:
        _client = openai.OpenAI(
            api_key="unused", base_url=os.environ["OPENAI_BASE_URL"], max_retries=0
        )
    return _client


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/api/answer")
def answer() -> Response:
    body = request.get_json()
    stream = client().chat.completions.create(
        model="fake-model",
        messages=[
            {"role": "system", "content": "You are an interview coach."},
            {"role": "user", "content": body["question"]},
        ],
        stream=True,
    )

    def events() -> Iterator[str]:
        try:
            for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    yield f"data: {json.dumps({'text': chunk.choices[0].delta.content})}\n\n"
            yield "event: done\ndata: {}\n\n"
        finally:
            stream.close()

    return Response(events(), mimetype="text/event-stream")
