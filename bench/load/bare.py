"""The yardstick: a bare Flask JSON endpoint, served by gunicorn exactly as `openfloor web`."""

from __future__ import annotations

from typing import Any

from flask import Flask, request

app = Flask(__name__)


@app.post("/bare")
def bare() -> dict[str, Any]:
    """Parse the JSON body and answer a small JSON object, nothing else."""
    body = request.get_json(silent=True) or {}
    return {"ok": True, "fields": len(body)}
