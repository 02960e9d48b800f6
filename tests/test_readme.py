"""The README stays true: its commands and examples run, its settings are real."""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from playwright.sync_api import Browser

from interview_app.coaching.anchors import ANCHORS, DIRECT
from interview_app.settings import CONFIG_PREFIX, Settings
from tests.helpers import sse_client
from tests.helpers.fakes import FakeUpstream, Script
from tests.helpers.server import ROOT, Server, free_port

README = (ROOT / "README.md").read_text()


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, re.DOTALL)


def test_every_setting_is_documented() -> None:
    # Every variable a setting reads, and the server's own, is in the README's settings
    # table and in .env.example; and nothing is documented that nothing reads.
    server = {"PORT", "WEB_CONCURRENCY", "GRACEFUL_TIMEOUT", "ACCESS_LOG", "DYNO", "MAX_ACCEPT"}
    names = set(Settings.variables()) | server
    settings_fields = {f.name for f in dataclasses.fields(Settings)} - {"trusted_proxies_source"}
    read = {f.name for f in dataclasses.fields(Settings) if "env" in f.metadata}
    assert read == settings_fields  # every field is read from a variable it names
    env_example = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^([A-Z][A-Z_]+)=", env_example, re.MULTILINE))
    assert documented == names
    table = README[README.index("## Settings") :]
    table = table[: table.index("\n## ", 5)]
    in_table = set(re.findall(r"`([A-Z][A-Z_]+)`", table))
    assert names <= in_table, names - in_table
    assert f"`{CONFIG_PREFIX}" in README  # how an embedding host names them


def test_serve_command_runs_the_offline_service_and_the_curl_example_works() -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LLM_"))}
    env.update(PORT=str(port), OFFLINE_TOKENS_PER_SECOND="0", PATH=os.environ["PATH"])
    process = subprocess.Popen(
        ["scripts/serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 300
        health = ""
        while time.monotonic() < deadline and process.poll() is None:
            probe = subprocess.run(
                ["curl", "-s", f"http://127.0.0.1:{port}/healthz"], capture_output=True, text=True
            )
            health = probe.stdout
            if health:
                break
            time.sleep(0.5)
        assert '"backend":"offline"' in health, health
        (curl,) = [b for b in blocks("sh") if b.startswith("curl")]
        command = curl.replace("http://localhost:8000", f"http://127.0.0.1:{port}")
        out = subprocess.run(["sh", "-c", command], capture_output=True, timeout=60).stdout
        events = sse_client.messages(out)
        assert events[-1].event == "done"
        analysis = events[-1].json()["analysis"]
        # "2 days late" is a number, not a measured outcome: the rubric says so.
        assert analysis["quantified_result"] is False and analysis["score"] <= 2
        assert analysis["star"]["action"] is True and analysis["source"] == "rules"
        assert "What to sharpen" in sse_client.text_of(out)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        output = process.communicate(timeout=30)[0].decode()
    assert "MonkeyPatchWarning" not in output


def test_browser_examples_work(browser: Browser, upstream: FakeUpstream) -> None:
    fetch_example, eventsource_example = blocks("js")
    upstream.script = Script(tokens=["줄\n", "data: x", "😀"])
    server = Server(
        {
            "OPENAI_API_KEY": "sk-x",
            "OPENAI_BASE_URL": upstream.url,
            "OPENAI_MAX_RETRIES": "0",
        }
    )
    context = browser.new_context(bypass_csp=True)
    try:
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{server.port}/")
        text = page.evaluate(f"async () => {{ {fetch_example}; return text; }}")
        assert text == "줄\ndata: x😀"
        result = page.evaluate(
            "async () => { const output = {textContent: ''};"
            f"{eventsource_example};"
            "await new Promise((r) => source.addEventListener('done', r));"
            "return output.textContent; }"
        )
        assert result == "줄\ndata: x😀"
    finally:
        context.close()
        server.stop()


def test_the_readmes_scale_drifted_from_the_one_the_model_and_the_page_read() -> None:
    """The README said a 5 story is "spoken as 'I'" after the anchors (the model's prompt,
    the page's note) said what the scale reads: "we" outweighing "I"."""
    for table in (ANCHORS, DIRECT):
        for score, words in table.items():
            assert f"| {score} | {words['en']} | {words['ko']} |" in README, (score, words)


def test_the_product_declares_python_311() -> None:
    # What a PaaS and a new developer read to pick the interpreter: the product's files,
    # not the machine running this test.
    assert (ROOT / ".python-version").read_text().strip() == "3.11"
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'target-version = "py311"' in pyproject and 'python_version = "3.11"' in pyproject
    assert Path(ROOT / "Procfile").read_text().startswith("web: gunicorn -c gunicorn.conf.py")


def test_python_example_works_with_httpx_sse(upstream: FakeUpstream) -> None:
    """The README's httpx-sse client, against the running server, through pings."""
    (example,) = [b for b in blocks("python") if "httpx_sse" in b]
    # Slow tokens and a short heartbeat: pings arrive between ids, as in real use.
    upstream.script = Script(tokens=["Good ", "줄\\n", "start."], interval=0.35)
    server = Server(
        {
            "OPENAI_API_KEY": "sk-x",
            "OPENAI_BASE_URL": upstream.url,
            "OPENAI_MAX_RETRIES": "0",
            "SSE_HEARTBEAT_SECONDS": "0.1",
        }
    )
    try:
        code = example.replace("http://localhost:8000", f"http://127.0.0.1:{server.port}")
        run = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
        )
    finally:
        server.stop()
    assert run.returncode == 0, run.stderr
    assert run.stdout == "Good 줄\\nstart.\n[done] stop\n"


def test_both_embedding_examples_mount_the_service_under_coach(tmp_path: Path) -> None:
    """The README's two ways into a host app, run as written (gunicorn: test_embedding.py)."""
    examples = [b for b in blocks("python") if "interview_app import" in b]
    assert len(examples) == 2
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LLM_"))}
    env.update(SECRET_KEY="readme", HISTORY="off", LOG_JSON="false")
    for example in examples:
        code = example + (
            "\nclient = app.test_client()\n"
            "print(client.get('/coach/healthz').status_code, client.get('/healthz').status_code)\n"
            "print(client.post('/coach/api/streams', json={'kind': 'answer', 'question': 'Why?'})"
            ".headers['Location'].startswith('/coach/api/streams/'))\n"
        )
        run = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
            env={**env, "PYTHONPATH": str(ROOT)},
        )
        assert run.returncode == 0, run.stderr
        assert run.stdout == "200 404\nTrue\n"

    # The migrate command the README gives a host, on the extension example as `yourapp`.
    (tmp_path / "yourapp.py").write_text(next(e for e in examples if "Coach(" in e))
    database = f"sqlite:///{tmp_path / 'yours.db'}"
    command = re.search(r"`(flask --app yourapp [^`]+)`", README)
    assert command is not None
    run = subprocess.run(
        [str(Path(sys.executable).parent / "flask"), *command.group(1).split()[1:]],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT), "HISTORY": "on", "DATABASE_URL": database},
    )
    assert run.returncode == 0, run.stderr
    assert "migrated" in run.stdout


def test_app_json_deploys_what_the_readme_and_procfile_describe() -> None:
    """The Heroku Button manifest: it parses, names only real settings, and fits the Procfile."""
    import json

    manifest = json.loads((ROOT / "app.json").read_text())
    assert [b["url"] for b in manifest["buildpacks"]] == ["heroku/nodejs", "heroku/python"]
    assert {"plan": "heroku-postgresql"} in manifest["addons"]
    source = (ROOT / "interview_app" / "settings.py").read_text()
    for name in manifest["env"]:
        assert f'"{name}"' in source and f"`{name}`" in README, name
    assert manifest["env"]["SECRET_KEY"]["generator"] == "secret"
    assert manifest["env"]["TRUSTED_PROXIES"]["value"] == "1"
    assert manifest["env"]["OPENAI_API_KEY"]["required"] is False
    procfile = dict(
        line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line
    )
    assert set(manifest["formation"]) <= set(procfile)  # every formation is a Procfile process
    assert procfile["release"].strip() == "python -m interview_app.history.migrate"
    assert "scripts" not in manifest  # the release phase, not a postdeploy script, migrates
    assert "[![Deploy to Heroku]" in README
