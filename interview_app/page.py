"""The practice page at `/`, served with no CDN so it works with no internet."""

from __future__ import annotations

from flask import Blueprint, render_template

page = Blueprint("page", __name__)


@page.get("/")
def index() -> str:
    """The practice page."""
    return render_template("index.html")
