"""The words of an email: its body as plain text, with quoted replies and sign-offs trimmed.

Plain text is preferred, HTML is turned into text without its markup (never interpreted), and
format=flowed soft line breaks are undone. What the sender quoted, their signature, phone
footers ("Sent from my iPhone") and the sign-off block at the end are cut.
"""

from __future__ import annotations

import re
from email.message import EmailMessage, Message
from html.parser import HTMLParser


def body_text(msg: EmailMessage) -> str:
    """The message's own words: plain text preferred, else HTML as text; replies trimmed."""
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = _decoded(part)
    if part.get_content_type() == "text/html":
        text = html_to_text(content)
    else:
        text = content
        if str(part.get_param("format", "")).lower() == "flowed":
            delsp = str(part.get_param("delsp", "")).lower() == "yes"
            text = unflow(text, delsp=delsp)
    return trim_reply(text)


def _decoded(part: Message) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
    except (LookupError, UnicodeError, ValueError, AssertionError):
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return content if isinstance(content, str) else ""


def unflow(text: str, *, delsp: bool = False) -> str:
    """Undo RFC 3676 format=flowed soft line breaks (a line ending in a space continues)."""
    out: list[str] = []
    current = ""
    for line in text.replace("\r\n", "\n").split("\n"):
        if line != "-- " and line.endswith(" "):
            current += line[:-1] if delsp else line
            continue
        out.append(current + line)
        current = ""
    if current:
        out.append(current)
    return "\n".join(out)


class _TextExtractor(HTMLParser):
    """Text content of an HTML body; scripts, styles and quoted blocks left out."""

    SKIP = frozenset({"script", "style", "head", "title", "blockquote", "template", "noscript"})
    BLOCK = frozenset(
        {
            "p", "div", "li", "tr", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
            "section", "article", "header", "footer", "hr", "pre", "address",
        }
    )  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skip_depth += 1
        elif tag == "br" or tag in self.BLOCK:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br" or tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip_depth:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """Plain text of an HTML email: tags dropped (never interpreted), entities decoded."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


_ON_WROTE = re.compile(r"^on\b.{0,200}\bwrote:?$", re.IGNORECASE)
_SEPARATOR = re.compile(
    r"^(-{2,}\s*original message\s*-{2,}|_{8,}|-{8,}|={8,}|begin forwarded message:?)$",
    re.IGNORECASE,
)
_MOBILE = re.compile(
    r"^(sent from my \w+|sent from (outlook|mail|yahoo mail)\b|get outlook for \w+)",
    re.IGNORECASE,
)
_HEADER_LINE = re.compile(r"^(sent|date|to|subject|cc):", re.IGNORECASE)
_VALEDICTION = re.compile(
    r"^((kind|best|warm|warmest|many|with)\s+)?"
    r"(regards|wishes|thanks|thank you|cheers|yours( sincerely| faithfully| truly)?|sincerely"
    r"|all the best|thanks in advance|regards and thanks)[\s,.!]*$",
    re.IGNORECASE,
)


def trim_reply(text: str) -> str:
    """Cut quoted replies, signatures, phone footers and the sign-off block at the end."""
    lines = text.replace("\r\n", "\n").split("\n")
    kept: list[str] = []
    for i, line in enumerate(lines):
        stripped = line.strip()
        if line.rstrip() == "--" or _SEPARATOR.match(stripped) or _MOBILE.match(stripped):
            break
        following = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if _ON_WROTE.match(stripped) or (
            stripped.lower().startswith("on ") and _ON_WROTE.match(f"{stripped} {following}")
        ):
            break
        if stripped.lower().startswith("from:") and any(
            _HEADER_LINE.match(x.strip()) for x in lines[i + 1 : i + 4]
        ):
            break
        if stripped.startswith(">"):
            continue
        kept.append(line.rstrip())
    return _trim_sign_off("\n".join(kept)).strip()


def _trim_sign_off(text: str) -> str:
    lines = text.rstrip().split("\n")
    content = [i for i, line in enumerate(lines) if line.strip()]
    # Only the last few lines can be a sign-off ("Kind regards,\nKath\n07700 900123").
    for index in reversed(content[-6:]):
        if _VALEDICTION.match(lines[index].strip()):
            after = [line.strip() for line in lines[index + 1 :] if line.strip()]
            if len(after) <= 4 and all(len(line) <= 60 for line in after):
                return "\n".join(lines[:index])
            break
    return text
