"""Sanitize imported HTML with nh3: safe tags and attributes only, no script, no handlers."""

from __future__ import annotations

import re
from collections.abc import Callable

import nh3

from .tree import ASSET_SCHEME

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup",
        "dd", "del", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3",
        "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q",
        "s", "samp", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot",
        "th", "thead", "tr", "u", "ul", "var",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start", "type"},
    "abbr": {"title"},
    "*": {"lang", "dir"},
}
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto", ASSET_SCHEME})
_ASSET_URL = re.compile(r'(src|href)="' + ASSET_SCHEME + r':([^"]*)"')


def clean_html(html: str) -> str:
    """Return ``html`` with only safe tags, attributes and URL schemes left."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def clean_text(html: str) -> str:
    """Plain text of an HTML fragment with every tag removed."""
    return nh3.clean(html, tags=set()).strip()


def rewrite_asset_urls(html: str, url_for: Callable[[str], str]) -> str:
    """Replace ``asset:<path>`` URLs with the app's URLs, e.g. ``url_for(path)``."""
    return _ASSET_URL.sub(lambda m: f'{m.group(1)}="{url_for(m.group(2))}"', html)
