"""Security headers on the page, and CORS only for configured origins."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask.testing import FlaskClient

from tests.helpers.fakes import FakeUpstream


def test_page_has_a_csp_without_inline_script(client: FlaskClient) -> None:
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script>" not in response.get_data(as_text=True)


def test_no_cors_by_default(client: FlaskClient, upstream: FakeUpstream) -> None:
    response = client.options(
        "/api/streams",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "Access-Control-Allow-Origin" not in response.headers


def test_cors_only_for_listed_origins(
    make_client: Callable[..., FlaskClient], upstream: FakeUpstream
) -> None:
    client = make_client(cors_origins=("https://coach.example",))
    preflight = {"Access-Control-Request-Method": "POST"}
    ok = client.options("/api/streams", headers={"Origin": "https://coach.example", **preflight})
    assert ok.headers["Access-Control-Allow-Origin"] == "https://coach.example"
    other = client.options("/api/streams", headers={"Origin": "https://evil.example", **preflight})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_vendor_files_are_served_locally(client: FlaskClient) -> None:
    for name in ("markdown-it.min.js", "purify.min.js"):
        response = client.get(f"/vendor/{name}")
        assert response.status_code == 200 and response.mimetype == "text/javascript"
        assert response.get_data()
        response.close()
    assert client.get("/vendor/../package.json").status_code == 404
    assert client.get("/vendor/other.js").status_code == 404


def test_question_bank_is_bilingual_with_the_readmes_count(client: FlaskClient) -> None:
    categories = client.get("/api/questions").get_json()["categories"]
    assert {c["id"] for c in categories} == {"behavioural", "motivation", "technical", "culture"}
    questions = [q for c in categories for q in c["questions"]]
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert f"a bilingual bank of {len(questions)} common" in readme
    assert all(len(c["questions"]) >= 4 for c in categories)
    assert len({q["en"] for q in questions}) == len({q["ko"] for q in questions}) == len(questions)
    assert all(q["en"] and q["ko"] for q in questions)
