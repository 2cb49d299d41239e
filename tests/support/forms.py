"""Fill in the public form the way a browser would: question page, then check-your-answers."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "fields": {}})
        elif tag in ("input", "button") and self.forms and a.get("name"):
            kind = a.get("type", "text" if tag == "input" else "submit")
            if kind in ("hidden",) or (kind == "submit" and tag == "input"):
                self.forms[-1]["fields"].setdefault(a["name"], a.get("value", ""))


def forms(html: str) -> list[dict[str, Any]]:
    """Every form on the page with its action and hidden fields."""
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def submit_question(client: Any, slug: str, text: str, **fields: str) -> Any:
    """GET the question page, POST the question, confirm on the check page.

    ``client`` is a Flask test client or an httpx client (following redirects is up to it).
    Returns the final response (a redirect to the confirmation page, or the page itself).
    """
    page = client.get(f"/meetings/{slug}/ask")
    html = page.get_data(as_text=True) if hasattr(page, "get_data") else page.text
    question_form = next(f for f in forms(html) if "question" in html)
    data = {**question_form["fields"], "question": text, **fields}
    data.pop("submit", None)
    checked = client.post(f"/meetings/{slug}/ask", data=data)
    html = checked.get_data(as_text=True) if hasattr(checked, "get_data") else checked.text
    confirm = [f for f in forms(html) if f["action"].endswith("/send")]
    if not confirm:
        return checked  # errors, or a flow without a check step
    return client.post(confirm[0]["action"], data=confirm[0]["fields"])
