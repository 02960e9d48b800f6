"""Our app deployed three ways through gunicorn + gevent: standalone, and inside a host
app (`host.py`) under /coach as a `Coach` extension or through `DispatcherMiddleware`."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from tests.helpers.env import relay_env
from tests.helpers.fakes import FakeUpstream
from tests.helpers.server import Server

EMBEDS = ["standalone", "extension", "dispatcher"]
PREFIX = "/coach"
# Set in the host's config (extension only), to show INTERVIEW_APP_* keys are read.
CONFIG_RETRY_MS = 350


@dataclass
class Deployment:
    """One running deployment and where our routes are in it."""

    embed: str
    server: Server
    prefix: str  # where our routes are: "" standalone, "/coach" embedded

    @property
    def retry_ms(self) -> int:
        # INTERVIEW_APP_SSE_RETRY_MS in the host's config beats SSE_RETRY_MS in the environment.
        return CONFIG_RETRY_MS if self.embed == "extension" else 300

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=f"http://127.0.0.1:{self.server.port}", timeout=20)


def start(embed: str, upstream: FakeUpstream, database: str, **extra: str) -> Deployment:
    env = relay_env(
        upstream,
        SSE_RETRY_MS="300",
        HISTORY="on",
        DATABASE_URL=database,
        STREAM_GRACE_SECONDS="2",
        **extra,
    )
    if embed == "standalone":
        return Deployment(embed, Server(env), "")
    server = Server(
        {**env, "HOST_EMBED": embed}, app="tests.helpers.host:app", health=f"{PREFIX}/healthz"
    )
    return Deployment(embed, server, PREFIX)
