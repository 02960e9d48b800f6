"""The practice page at `/`, its question bank, and its browser libraries.

Everything is served from here, with no CDN, so the page works with no internet.
The Markdown renderer and sanitizer, the history chart (Chart.js) and the answer
diff (jsdiff) come from the npm registry (`npm ci` in the setup script puts them
in `node_modules/`); only the files below are served.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, render_template, send_from_directory

from interview_app.web import urls

page = Blueprint("page", __name__)

NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
VENDOR = {
    "markdown-it.min.js": "markdown-it/dist/browser/markdown-it.umd.min.js",
    "purify.min.js": "dompurify/dist/purify.min.js",
    "chart.umd.min.js": "chart.js/dist/chart.umd.min.js",
    "diff.min.js": "diff/dist/diff.min.js",
}


@page.get("/")
def index() -> str:
    """The practice page."""
    # Our templates sit in a folder of our name so a host app's index.html never shadows them.
    return render_template("interview_app/index.html", base=urls.base())


@page.get("/vendor/<name>")
def vendor(name: str) -> Response:
    """One of the page's npm libraries, from node_modules."""
    path = VENDOR.get(name)
    if path is None:
        abort(404)
    return send_from_directory(NODE_MODULES, path, max_age=3600)
