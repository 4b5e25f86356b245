"""Cross-site scripting: markup that would run script if a console or widget rendered it.

A developer-customer pastes <div class="price"> or <error>...</error>, or the shop's own widget
snippet (<script src="https://…"></script>) with a question about where it goes; a customer quotes
"<script>" seen in an e-mail; people write <3 and ->. An attack carries a script element, an
event-handler attribute inside a tag or after a quote that closes one, a javascript: or
data:text/html URL, an element that loads active content (iframe srcdoc, object data, link import),
a client-side template expression that reaches the Function constructor, or a quote that breaks out
into script. Entity-, percent- and \\x/\\u-escaped forms are decoded first (guard/normalize.py).
"""

from __future__ import annotations

import re

from guardline.guard.decision import Category
from guardline.guard.scanners.base import MarkupScanner, signal

_HANDLERS = (
    r"on(?:error|load|mouse\w+|focus\w*|blur|click|dblclick|key\w+|submit|change|input|toggle|begin|end|"
    r"animation\w+|transition\w+|pointer\w+|wheel|drag\w*|drop|copy|paste|cut|scroll|resize|unload|"
    r"beforeunload|hashchange|message|show|select|invalid|play|pause|auxclick|contextmenu|touch\w+|"
    r"readystatechange|pageshow|popstate|search|start|finish)"
)
# Calls a payload makes; not function( or fetch( alone, which pasted integration code is full of.
_JS_CALL = r"(?:alert|prompt|confirm|eval)\s*[(`]"

SIGNALS = (
    signal("script-tag", r"<\s*/?\s*script\b", 1.0),
    # The shop's own widget pasted with a question, or "<script>" quoted or named as a word: not a payload
    # alone; with anything else of XSS's (a breakout, a sink, a handler) it still blocks.
    signal(
        "integration-snippet",
        r"^(?=.*(?:snippet|widget|embed|sdk|docs?\b|documentation|integrat|install|plugin|\bhead\b|文档|嵌|集成|组件|插件|代码|放在|放到))"
        r"(?!.*<\s*script[^>]*>\s*[^<\s])(?!.*<\s*script(?![^>]*\bsrc\s*=\s*[\"']https://)[^>]*>)",
        -0.5,
    ),
    signal(
        "quoted-tag",
        r"^(?!.*<\s*/\s*script)(?!.*<\s*script[^>]*\bsrc\b).*[\"“'「]\s*<\s*script\s*>\s*[\"”'」]",
        -0.5,
    ),
    # A bare <script> named in a sentence ("页面上写着 <script> 的乱码", "I see <script> on the page"):
    # what follows is prose, not a script body.
    signal(
        "mentioned-tag",
        r"^(?!.*<\s*/\s*script)(?!.*<\s*script[^>]*\bsrc\b).*<\s*script\s*>\s*"
        r"(?:[\u3400-\u9fff，。？！,.?!]|(?:tags?|text|code|on|in|at|is|was|and|or|showing|shows|appears?)\b)",
        -0.5,
    ),
    signal("event-handler", r"<[a-z][^>]*[\s/\"'](?:on[a-z]{3,})\s*=", 1.0),
    # The same with the spaces gone (a payload spaced out letter by letter and joined again):
    # <imgsrc=xonerror=alert(1)>. A known handler and a script call keep it to payloads.
    signal("glued-handler", rf"<[a-z][^>]*?{_HANDLERS}\s*=[^>]*?{_JS_CALL}", 1.0),
    # " onfocus=alert(1) autofocus="   ' onmouseover='fetch(...)  (an attribute value broken out of)
    signal(
        "attribute-breakout",
        rf"[\"']\s*(?:autofocus\s+)?{_HANDLERS}\s*=\s*[\"'`]?[^\"'>]{{0,60}}?(?:{_JS_CALL}|fetch\s*\(|document\.|window\.)",
        1.0,
    ),
    signal("js-url", r"(?:j\s*a\s*v\s*a\s*s\s*c\s*r\s*i\s*p\s*t|vbscript|livescript)\s*:", 1.0),
    signal("data-html", r"data\s*:\s*(?:text/html|application/xhtml)|data\s*:[^,]{0,40};base64,\s*phn", 1.0),
    signal(
        "active-element",
        r"<\s*(?:iframe|frame|object|embed|applet|base|form|portal)\b[^>]*\b(?:src|srcdoc|data|href|action)\s*=",
        1.0,
    ),
    signal(
        "active-element",
        r"\bsrcdoc\s*=|\bformaction\s*=|\bxlink:href\s*=|<\s*link\b[^>]*\brel\s*=\s*[\"']?import",
        1.0,
    ),
    signal(
        "active-element",
        r"<\s*(?:svg|math|details|marquee|video|audio|body|input|isindex|animate|xmp|keygen)\b[^>]*>",
        0.5,
    ),
    signal("meta-refresh", r"<\s*meta\b[^>]*http-equiv\s*=\s*[\"']?refresh", 1.0),
    signal(
        "breakout", r"[\"']\s*>\s*<\s*[a-z]|</\s*(?:title|textarea|style|noscript|xmp|iframe)\s*>\s*<", 0.5
    ),
    # '-alert(1)-'   ";alert(document.cookie)//   (a JavaScript string broken out of)
    signal("js-breakout", rf"[\"']\s*(?:[-+*/;,)]|\)\s*;)+\s*{_JS_CALL}", 1.0),
    signal(
        "css-expression",
        r"expression\s*\(|url\s*\(\s*[\"']?\s*javascript|-moz-binding\s*:|behavior\s*:\s*url",
        1.0,
    ),
    # AngularJS / Vue template injection: {{constructor.constructor('alert(1)')()}}, {{$on.constructor(...)}}
    signal(
        "template-expression",
        r"\{\{[^}]{0,120}?(?:constructor|\$on\b|\$eval|\$event|__proto__|\balert\s*\(|\bdocument\.|\bwindow\.|\bfetch\s*\()[^}]{0,120}\}\}",
        1.0,
    ),
    signal(
        "dom-sink",
        r"document\s*\.\s*(?:cookie|domain|location|write)|\b(?:alert|prompt|confirm|eval)\s*[(`]|localstorage\.|\batob\s*\(|\bstring\.fromcharcode\s*\(|\.innerhtml\s*=|new\s+image\s*\(\s*\)\s*\.src|window\.location|\bxmlhttprequest\b",
        0.4,
    ),
)


class XssScanner(MarkupScanner):
    name = "xss"
    category = Category.XSS
    signals = SIGNALS
    trigger = re.compile(
        r"<|script|:|expression|document\.|alert|eval|prompt|confirm|\{\{|\bon[a-z]{3,}\s*=", re.IGNORECASE
    )
