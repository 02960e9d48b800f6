"""Text to speech through the model server's `/v1/audio/speech`, streamed as it is made."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import httpx2
import openai

log = logging.getLogger(__name__)


def model_client(api_key: str | None, base_url: str | None, timeout: float) -> openai.OpenAI:
    """The SDK client of the speech endpoints (no retries: a reader is waiting)."""
    return openai.OpenAI(
        # A local server (speaches, whisper.cpp behind a gateway) takes any key.
        api_key=api_key or "unused",
        base_url=base_url,
        max_retries=0,
        timeout=httpx2.Timeout(timeout, connect=10.0),
    )


def endpoint_missing(exc: openai.NotFoundError) -> bool:
    """Whether a 404 says the route is missing (llama.cpp, Ollama), not that the model or
    voice asked for is unknown (OpenAI's `model_not_found`): only the first is remembered."""
    said = f"{getattr(exc, 'code', '') or ''} {exc.message}".lower()
    return not any(word in said for word in ("model", "voice"))


class ModelVoice:
    """Questions read aloud by an OpenAI-compatible speech endpoint (MP3), a voice per
    language. A language with no voice ("none") is not spoken by the model: a local
    server's voice speaks one language, and a Korean question read by an English voice
    is noise. A server with no speech endpoint (404) is remembered as such."""

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None,
        model: str,
        voices: dict[str, str],
        timeout: float,
    ) -> None:
        self.client = model_client(api_key, base_url, timeout)
        self.model = model
        self.voices = {k: v for k, v in voices.items() if v and v.lower() != "none"}
        self.absent = False  # the server said 404: it has no speech endpoint

    def speaks(self, language: str) -> bool:
        """Whether the model server reads `language` aloud."""
        return not self.absent and language in self.voices

    def open(self, text: str, language: str) -> Any:
        """The server's streaming response (headers in); raises the SDK's errors."""
        manager = self.client.audio.speech.with_streaming_response.create(
            model=self.model, voice=self.voices[language], input=text, response_format="mp3"
        )
        try:
            return manager.__enter__()
        except openai.NotFoundError as exc:
            if not endpoint_missing(exc):
                raise
            if not self.absent:
                self.absent = True
                log.warning("the speech server has no /v1/audio/speech (404): the browser reads")
            raise

    @staticmethod
    def chunks(response: Any) -> Iterator[bytes]:
        """The MP3 bytes as they arrive; the response is closed when the reader leaves."""
        try:
            yield from response.iter_bytes()
        finally:
            response.close()
