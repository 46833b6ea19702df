"""Formatting both ways between helpdesk actions (HTML, or plain text) and Jira comments (wiki
markup, the text REST v2 takes; Jira renders it to HTML itself). Pure.

- `html_to_wiki`: paragraphs, line breaks, bold, italics, underline, strike-through, links,
  nested lists, headings, quotes, inline code and preformatted blocks become Jira wiki markup;
  text that could be read as markup is escaped; anything else keeps its text.
- `action_html`: Jira's own rendering of a comment (`expand=renderedBody`), cleaned to a safe
  set of tags (nh3, a maintained HTML sanitizer): mentions and links stay as readable links,
  scripts, styles, images and event handlers go. A comment of one plain paragraph stays text.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import nh3

_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(\s[^<>]*)?/?>|<!--")
_SPACE = re.compile(r"[ \t\r\n\f\v]+")
_WIKI_SPECIAL = re.compile(r"([\\*_{}\[\]|!^~+])")
_BLANK_LINES = re.compile(r"\n[ \t]*(\n[ \t]*)+")
_SPACES = re.compile(r" {2,}")

INLINE = {"b": "*", "strong": "*", "i": "_", "em": "_", "u": "+", "ins": "+", "s": "-",
          "strike": "-", "del": "-", "sup": "^", "sub": "~"}  # fmt: skip
BLOCKS = {"p", "div", "section", "article", "header", "footer", "table", "tr", "address"}
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
IGNORED = {"script", "style", "head", "title", "template"}

SAFE_TAGS = {
    "p", "br", "b", "strong", "i", "em", "u", "ins", "s", "del", "strike", "sub", "sup",
    "code", "tt", "pre", "blockquote", "q", "cite", "ul", "ol", "li", "a", "hr", "span", "div",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
SAFE_ATTRIBUTES = {
    "a": {"href", "title"},
    "th": {"colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
}
SAFE_SCHEMES = {"http", "https", "mailto"}
_ONE_PARAGRAPH = re.compile(r"^\s*<p>([^<>&]*)</p>\s*$")


def looks_like_html(text: str) -> bool:
    """Whether an action's text is HTML (has a tag or a comment), else it is plain text."""
    return bool(_TAG.search(text))


def escape_wiki(text: str) -> str:
    """Text that Jira shows as it is, not as markup (`*` is not bold, `[` no link)."""
    return _WIKI_SPECIAL.sub(r"\\\1", text)


def html_to_wiki(source: str) -> str:
    """The Jira wiki markup of an action written in HTML."""
    parser = _WikiWriter()
    parser.feed(source)
    parser.close()
    return parser.result()


def action_text(description: str) -> str:
    """What a comment made from an action says: HTML as wiki markup; plain text as it is."""
    return html_to_wiki(description) if looks_like_html(description) else description


def action_html(rendered: str) -> str:
    """An action's text from Jira's rendering of a comment: safe HTML, or plain text when the
    comment is one paragraph without formatting (or anything to escape)."""
    cleaned = nh3.clean(
        rendered,
        tags=SAFE_TAGS,
        attributes=SAFE_ATTRIBUTES,
        url_schemes=SAFE_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    ).strip()
    plain = _ONE_PARAGRAPH.match(cleaned)
    return plain.group(1).strip() if plain else cleaned


@dataclass
class _Frame:
    """The text written inside one open inline element (or the whole document)."""

    tag: str
    parts: list[str] = field(default_factory=list)
    href: str | None = None

    def text(self) -> str:
        return "".join(self.parts)


class _WikiWriter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.frames = [_Frame("")]
        self.lists: list[str] = []
        self.pre = 0
        self.ignored = 0

    # writing

    def write(self, text: str) -> None:
        self.frames[-1].parts.append(text)

    def block_break(self) -> None:
        self.write("\n\n")

    def line_break(self) -> None:
        self.write("\n")

    # parsing

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in IGNORED:
            self.ignored += 1
        elif tag in INLINE or tag in {"code", "tt"}:
            self.frames.append(_Frame(tag))
        elif tag == "a":
            self.frames.append(_Frame(tag, href=dict(attrs).get("href")))
        elif tag in ("ul", "ol"):
            if not self.lists:
                self.block_break()
            self.lists.append("#" if tag == "ol" else "*")
        elif tag == "li":
            self.line_break()
            self.write("".join(self.lists or ["*"]) + " ")
        elif tag == "br":
            self.line_break()
        elif tag == "hr":
            self.block_break()
            self.write("----")
            self.block_break()
        elif tag in HEADINGS:
            self.block_break()
            self.write(f"{tag}. ")
        elif tag == "blockquote":
            self.block_break()
            self.write("{quote}\n")
        elif tag == "pre":
            self.block_break()
            self.write("{noformat}\n")
            self.pre += 1
        elif tag in BLOCKS and not self.lists:
            self.block_break()
        elif tag in ("td", "th"):
            self.write(" | ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "hr"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in IGNORED:
            self.ignored = max(0, self.ignored - 1)
        elif tag in INLINE or tag in {"code", "tt", "a"}:
            self._close_inline(tag)
        elif tag in ("ul", "ol"):
            if self.lists:
                self.lists.pop()
            if not self.lists:
                self.block_break()
        elif tag == "blockquote":
            self.write("\n{quote}")
            self.block_break()
        elif tag == "pre":
            self.pre = max(0, self.pre - 1)
            self.write("\n{noformat}")
            self.block_break()
        elif (tag in BLOCKS or tag in HEADINGS) and not self.lists:
            self.block_break()

    def handle_data(self, data: str) -> None:
        if self.ignored:
            return
        if self.pre:
            self.write(data.replace("{noformat}", "{ noformat}"))
            return
        self.write(escape_wiki(_SPACE.sub(" ", data)))

    def _close_inline(self, tag: str) -> None:
        if not any(frame.tag == tag for frame in self.frames[1:]):
            return  # a stray end tag
        while True:
            frame = self.frames.pop()
            self.write(_wrapped(frame))
            if frame.tag == tag:
                return

    def close(self) -> None:
        super().close()
        while len(self.frames) > 1:
            self.write(_wrapped(self.frames.pop()))

    def result(self) -> str:
        """Lines trimmed and blank runs made one, except inside `{noformat}` (kept as written)."""
        out: list[str] = []
        for n, chunk in enumerate(self.frames[0].text().split("{noformat}")):
            if n % 2:
                out.append(chunk)
                continue
            lines = "\n".join(_SPACES.sub(" ", line).strip() for line in chunk.split("\n"))
            out.append(_BLANK_LINES.sub("\n\n", lines))
        return "{noformat}".join(out).strip()


def _wrapped(frame: _Frame) -> str:
    """An inline element's text with its markup, spaces kept outside (Jira needs `*x*`)."""
    text = frame.text()
    inner = text.strip()
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()) :]
    if frame.tag == "a":
        href = (frame.href or "").strip()
        if not href or href.lower().startswith("javascript:"):
            return text
        link = href.replace("|", "%7C").replace("]", "%5D")
        if not inner or html.unescape(inner).replace("\\", "") == href:
            return f"{lead}[{link}]{trail}"
        return f"{lead}[{inner}|{link}]{trail}"
    if not inner:
        return text
    if frame.tag in ("code", "tt"):
        return f"{lead}{{{{{inner}}}}}{trail}"
    marker = INLINE[frame.tag]
    return f"{lead}{marker}{inner}{marker}{trail}"
