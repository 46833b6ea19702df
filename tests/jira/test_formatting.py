"""Formatting both ways (pure): helpdesk HTML becomes Jira wiki markup; Jira's rendered HTML
becomes safe action text."""

from __future__ import annotations

import pytest

from app.jira.formatting import (
    action_html,
    action_text,
    escape_wiki,
    html_to_wiki,
    looks_like_html,
)
from jirasim.wiki import render


@pytest.mark.parametrize(
    ("source", "wiki"),
    [
        ("<p>One</p><p>Two</p>", "One\n\nTwo"),
        ("<p>Hello <b>bold</b>, <strong>strong</strong></p>", "Hello *bold*, *strong*"),
        ("<i>it</i> <em>em</em> <u>under</u> <s>gone</s>", "_it_ _em_ +under+ -gone-"),
        ("<b> spaced </b>out", "*spaced* out"),
        ("<b></b>empty", "empty"),
        ("line<br>break<br/>again", "line\nbreak\nagain"),
        ("<p>See <a href='https://x.test/a'>the docs</a></p>", "See [the docs|https://x.test/a]"),
        ("<a href='https://y.test'>https://y.test</a>", "[https://y.test]"),
        ("<a href='mailto:a@b.test'>mail</a>", "[mail|mailto:a@b.test]"),
        ("<a href='javascript:alert(1)'>click</a>", "click"),
        ("<a>no target</a>", "no target"),
        ("<ul><li>one</li><li>two</li></ul>", "* one\n* two"),
        ("<ol><li>first</li><li>second</li></ol>", "# first\n# second"),
        ("<ul><li>a<ul><li>a.1</li></ul></li><li>b</li></ul>", "* a\n** a.1\n* b"),
        ("<ol><li>n<ul><li>bullet</li></ul></li></ol>", "# n\n#* bullet"),
        ("<p>Run <code>make test</code></p>", "Run {{make test}}"),
        ("<pre>x = 1\n  y = 2</pre>", "{noformat}\nx = 1\n  y = 2\n{noformat}"),
        ("<pre>*not bold* {noformat}</pre>", "{noformat}\n*not bold* { noformat}\n{noformat}"),
        ("<h2>Title</h2><p>text</p>", "h2. Title\n\ntext"),
        ("<blockquote>quoted</blockquote>", "{quote}\nquoted\n{quote}"),
        ("<p>a</p><hr><p>b</p>", "a\n\n----\n\nb"),
        ("<p>2 * 3 = [six] {x} _y_ a|b</p>", "2 \\* 3 = \\[six\\] \\{x\\} \\_y\\_ a\\|b"),
        ("<p>Tom &amp; Jerry &lt;3 &nbsp;</p>", "Tom & Jerry <3"),
        ("<script>alert(1)</script><style>p{}</style><p>ok</p>", "ok"),
        ("<p>unclosed <b>bold", "unclosed *bold*"),
        ("stray </b> end", "stray end"),
        ("<div>  lots   of\n\n  space </div>", "lots of space"),
    ],
)
def test_html_to_wiki(source: str, wiki: str) -> None:
    assert html_to_wiki(source) == wiki


@pytest.mark.parametrize(
    ("text", "is_html"),
    [
        ("plain words", False),
        ("a < b and c > d", False),
        ("x<y", False),
        ("<p>para</p>", True),
        ("line<br>", True),
        ("<br/>", True),
        ("<B>caps</B>", True),
        ("<!-- note -->text", True),
        ("<a href='x'>x</a>", True),
    ],
)
def test_looks_like_html(text: str, is_html: bool) -> None:
    assert looks_like_html(text) is is_html


def test_plain_text_is_pushed_as_it_is() -> None:
    assert action_text("Printer on fire!\nSecond line *as typed*") == (
        "Printer on fire!\nSecond line *as typed*"
    )
    assert action_text("<p>HTML <b>is</b> converted</p>") == "HTML *is* converted"
    assert escape_wiki("Ann [ops] *") == "Ann \\[ops\\] \\*"


@pytest.mark.parametrize(
    ("rendered", "text"),
    [
        ("<p>Fixed in 2.1</p>", "Fixed in 2.1"),  # one plain paragraph stays text
        ("<p>a &amp; b</p>", "<p>a &amp; b</p>"),  # entities need HTML
        ("<p>One</p>\n<p>Two</p>", "<p>One</p>\n<p>Two</p>"),
        ("<p>Hi <b>there</b></p>", "<p>Hi <b>there</b></p>"),
        ("<p>x</p><script>alert(1)</script>", "x"),
        ("<p onclick='evil()'>x <img src='https://t.test/p.png'></p>", "x"),
        (
            '<p><a href="javascript:evil()">a</a> <a href="https://x.test" class="external-link"'
            ' target="_blank">b</a></p>',
            '<p><a rel="noopener noreferrer">a</a> '
            '<a href="https://x.test" rel="noopener noreferrer">b</a></p>',
        ),
        ("<ul><li>one</li></ul>", "<ul><li>one</li></ul>"),
        ('<div class="preformatted"><pre>x  y</pre></div>', "<div><pre>x  y</pre></div>"),
    ],
)
def test_action_html(rendered: str, text: str) -> None:
    assert action_html(rendered) == text


@pytest.mark.parametrize(
    ("source", "kept"),
    [
        ("<p>Hello <b>bold</b> and <i>it</i></p>", ["<b>bold</b>", "<em>it</em>"]),
        ("<p>See <a href='https://x.test/a'>docs</a></p>", ['href="https://x.test/a"', "docs"]),
        ("<ul><li>one</li><li>two</li></ul>", ["<ul><li>one</li><li>two</li></ul>"]),
        ("<p>Run <code>make</code></p><pre>a\n  b</pre>", ["<tt>make</tt>", "<pre>a\n  b</pre>"]),
        ("<p>2 * 3 [x]</p>", ["2 * 3 [x]"]),
    ],
)
def test_formatting_survives_the_round_trip_through_jira(source: str, kept: list[str]) -> None:
    """Helpdesk HTML → wiki markup → Jira's rendering (the simulator's) → action text."""
    back = action_html(render(html_to_wiki(source)))
    for fragment in kept:
        assert fragment in back
