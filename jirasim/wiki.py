"""Jira's rendering of wiki markup to HTML (`expand=renderedBody`), for the markup the service
writes and a Jira user types most: paragraphs, line breaks, bold, italics, underline, strike,
links, mentions, lists, headings, quotes, monospace and `{noformat}` blocks."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

_LINK = re.compile(r"\[([^\[\]|]+)\|([^\[\]]+)\]|\[((?:https?|mailto):[^\[\]|]+)\]")
_MENTION = re.compile(r"\[~(?:accountid:)?([^\]]+)\]")
_INLINE = [
    (re.compile(r"\{\{(.+?)\}\}"), r"<tt>\1</tt>"),
    (re.compile(r"(?<![\w\\])\*(\S(?:.*?\S)?)\*(?!\w)"), r"<b>\1</b>"),
    (re.compile(r"(?<![\w\\])_(\S(?:.*?\S)?)_(?!\w)"), r"<em>\1</em>"),
    (re.compile(r"(?<![\w\\])\+(\S(?:.*?\S)?)\+(?!\w)"), r"<ins>\1</ins>"),
    (re.compile(r"(?<![\w\\-])-(\S(?:.*?\S)?)-(?![\w-])"), r"<del>\1</del>"),
]
_ESCAPED = re.compile(r"\\([\\*_{}\[\]|!^~+\-#])")
_LIST_ITEM = re.compile(r"^([*#]+) (.*)$")
_HEADING = re.compile(r"^h([1-6])\. (.*)$")

UserName = Callable[[str], str | None]


def render(markup: str, user_name: UserName = lambda ident: None) -> str:
    """The HTML Jira shows for `markup`."""
    blocks: list[str] = []
    for n, chunk in enumerate(markup.split("{noformat}")):
        if n % 2:
            pre = html.escape(chunk.strip("\n"))
            blocks.append(f'<div class="preformatted"><pre>{pre}</pre></div>')
        else:
            blocks += _paragraphs(chunk, user_name)
    return "\n".join(block for block in blocks if block)


def _paragraphs(text: str, user_name: UserName) -> list[str]:
    out: list[str] = []
    for para in re.split(r"\n\s*\n", text.strip()):
        lines = [line.strip() for line in para.split("\n") if line.strip()]
        if not lines:
            continue
        if all(_LIST_ITEM.match(line) for line in lines):
            out.append(_list(lines, user_name))
        elif heading := _HEADING.match(lines[0]):
            level, title = heading.groups()
            out.append(f"<h{level}>{_inline(title, user_name)}</h{level}>")
        else:
            out.append("<p>" + "<br/>\n".join(_inline(line, user_name) for line in lines) + "</p>")
    return out


def _list(lines: list[str], user_name: UserName) -> str:
    out: list[str] = []
    open_: list[str] = []
    for line in lines:
        match = _LIST_ITEM.match(line)
        assert match is not None
        markers, item = match.groups()
        while len(open_) > len(markers):
            out.append(f"</li></{open_.pop()}>")
        if len(open_) == len(markers):
            out.append("</li>")
        while len(open_) < len(markers):
            tag = "ol" if markers[len(open_)] == "#" else "ul"
            open_.append(tag)
            out.append(f"<{tag}>")
        out.append(f"<li>{_inline(item, user_name)}")
    while open_:
        out.append(f"</li></{open_.pop()}>")
    return "".join(out)


def _inline(text: str, user_name: UserName) -> str:
    escaped = html.escape(text, quote=False)
    for pattern, replacement in _INLINE:
        escaped = pattern.sub(replacement, escaped)

    def link(match: re.Match[str]) -> str:
        label, href, bare = match.groups()
        target = html.unescape(href or bare)
        return f'<a href="{html.escape(target)}" class="external-link">{label or bare}</a>'

    def mention(match: re.Match[str]) -> str:
        ident = match.group(1)
        name = user_name(ident) or ident
        href = f"/secure/ViewProfile.jspa?accountId={ident}"
        return f'<a href="{href}" class="user-hover">{name}</a>'

    escaped = _MENTION.sub(mention, escaped)
    escaped = _LINK.sub(link, escaped)
    return _ESCAPED.sub(r"\1", escaped)
