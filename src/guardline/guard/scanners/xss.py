"""Cross-site scripting: markup that would run script if a console or widget rendered it.

A developer-customer pastes <div class="price"> or <error>...</error>; an attack carries a script
element, an event-handler attribute inside a tag, a javascript: or data:text/html URL, or an
element that loads active content. Entity- and percent-encoded forms are decoded first.
"""

from __future__ import annotations

import re

from guardline.guard.decision import Category
from guardline.guard.scanners.base import MarkupScanner, signal

SIGNALS = (
    signal("script-tag", r"<\s*/?\s*script\b", 1.0),
    signal("event-handler", r"<[a-z][^>]*[\s/\"'](?:on[a-z]{3,})\s*=", 1.0),
    signal("js-url", r"(?:j\s*a\s*v\s*a\s*s\s*c\s*r\s*i\s*p\s*t|vbscript|livescript)\s*:", 1.0),
    signal("data-html", r"data\s*:\s*text/html|data\s*:[^,]{0,40};base64,\s*phn", 1.0),
    signal(
        "active-element",
        r"<\s*(?:iframe|frame|object|embed|applet|base|form)\b[^>]*\b(?:src|data|href|action)\s*=",
        1.0,
    ),
    signal("active-element", r"<\s*(?:svg|math|details|marquee|video|audio|body|input|isindex)\b[^>]*>", 0.5),
    signal("meta-refresh", r"<\s*meta\b[^>]*http-equiv\s*=\s*[\"']?refresh", 1.0),
    signal("breakout", r"[\"']\s*>\s*<\s*[a-z]", 0.5),
    signal("css-expression", r"expression\s*\(|url\s*\(\s*[\"']?\s*javascript", 1.0),
    signal(
        "dom-sink",
        r"document\s*\.\s*(?:cookie|domain|location|write)|\b(?:alert|prompt|confirm|eval)\s*\(|localstorage\.|\batob\s*\(",
        0.4,
    ),
)


class XssScanner(MarkupScanner):
    name = "xss"
    category = Category.XSS
    signals = SIGNALS
    trigger = re.compile(r"<|script|:|expression|document\.|alert|eval", re.IGNORECASE)
