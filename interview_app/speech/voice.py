"""Text to speech through the model server's `/v1/audio/speech`, streamed as it is made."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import openai


def model_client(api_key: str | None, base_url: str | None, timeout: float) -> openai.OpenAI:
    """The SDK client of the speech endpoints (no retries: a reader is waiting)."""
    return openai.OpenAI(
        # A local server (speaches, whisper.cpp behind a gateway) takes any key.
        api_key=api_key or "unused",
        base_url=base_url,
        max_retries=0,
        timeout=httpx2.Timeout(timeout, connect=10.0),
    )


class ModelVoice:
    """Questions read aloud by an OpenAI-compatible speech endpoint (MP3)."""

    def __init__(
        self, *, api_key: str | None, base_url: str | None, model: str, voice: str, timeout: float
    ) -> None:
        self.client = model_client(api_key, base_url, timeout)
        self.model = model
        self.voice = voice

    def open(self, text: str) -> Any:
        """The server's streaming response (headers in); raises the SDK's errors."""
        manager = self.client.audio.speech.with_streaming_response.create(
            model=self.model, voice=self.voice, input=text, response_format="mp3"
        )
        return manager.__enter__()

    @staticmethod
    def chunks(response: Any) -> Iterator[bytes]:
        """The MP3 bytes as they arrive; the response is closed when the reader leaves."""
        try:
            yield from response.iter_bytes()
        finally:
            response.close()
