"""Baseline: FastAPI + sse-starlette + AsyncOpenAI under uvicorn.

Run: uvicorn bench.baselines.fastapi_sse:app --port P
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from typing import Any

import openai
from fastapi import FastAPI, Request
from sse_starlette.sse import EventSourceResponse

app = FastAPI()
client = openai.AsyncOpenAI(api_key="unused", base_url=os.environ["OPENAI_BASE_URL"], max_retries=0)


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/api/answer")
async def answer(request: Request) -> EventSourceResponse:
    body = await request.json()
    stream = await client.chat.completions.create(
        model="fake-model",
        messages=[
            {"role": "system", "content": "You are an interview coach."},
            {"role": "user", "content": body["question"]},
        ],
        stream=True,
    )

    async def events() -> AsyncIterator[dict[str, Any]]:
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                yield {"data": json.dumps({"text": chunk.choices[0].delta.content})}
        yield {"event": "done", "data": "{}"}

    return EventSourceResponse(events())
