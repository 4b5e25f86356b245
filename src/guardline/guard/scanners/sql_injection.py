"""SQL injection: payloads that break out of a string or number literal and append SQL.

Natural language is full of SQL words ("select 红色的那款", "drop 掉这个订单", "update my address"), so
no word alone is a signal. Each signal needs syntax: a quote that closes a literal followed by a
boolean tautology or a comment, UNION SELECT with a column list, a stacked statement after ";",
time-delay and metadata functions. (No maintained libinjection binding ships a Python 3.11 wheel.)
"""

from __future__ import annotations

import re

from guardline.guard.decision import Category
from guardline.guard.scanners.base import MarkupScanner, signal

_Q = r"['\"`]"
_VAL = r"(?:['\"]?\w*['\"]?|\d+)"

SIGNALS = (
    # ' OR '1'='1   " OR ""="   ') OR ('1'='1   1' OR 1=1
    signal(
        "quote-tautology",
        rf"{_Q}\s*\)*\s*(?:or|and|\|\||&&)\s*\(*\s*{_VAL}\s*(?:=|<>|!=|<|>|\blike\b)\s*{_VAL}",
        1.0,
    ),
    # 1 OR 1=1 (numeric context): the same value on both sides of =.
    signal("tautology", r"\b(?:or|and)\s+(\d+|'[^']*')\s*=\s*\1(?!\w)", 1.0),
    signal("quote-comment", rf"\w{_Q}\s*\)*\s*(?:--|#|/\*)", 0.8),
    signal(
        "quote-statement",
        rf"{_Q}\s*\)*\s*;\s*(?:drop|delete|update|insert|exec|execute|shutdown|truncate|alter|create|select|waitfor|declare)\b",
        1.0,
    ),
    signal(
        "union-select",
        r"\bunion\b(?:\s+(?:all|distinct))?\s*\(?\s*select\b[\s\S]{0,80}?(?:\bfrom\b|\bnull\b|\d\s*,|@@|\w+\s*\()",
        1.0,
    ),
    signal("union-select", r"unionselect\w*from", 1.0),  # spaced letters, squeezed
    signal(
        "stacked",
        r";\s*(?:drop\s+(?:table|database)|delete\s+from|update\s+\w+\s+set|insert\s+into|exec(?:ute)?\s+\w+|truncate\s+table|alter\s+table|shutdown)\b",
        1.0,
    ),
    signal("concat-subquery", r"['\"]\s*\|\|\s*\(\s*select\b|\|\|\s*\(\s*select\b[^)]*\bfrom\b", 1.0),
    signal(
        "time-delay",
        r"\b(?:sleep|pg_sleep)\s*\(\s*\d+\s*\)|\bbenchmark\s*\(\s*\d+\s*,|\bwaitfor\s+delay\s+'",
        1.0,
    ),
    signal(
        "metadata",
        r"\binformation_schema\b|@@version|\bxp_cmdshell\b|\bextractvalue\s*\(|\bupdatexml\s*\(|\bgroup_concat\s*\(|\bload_file\s*\(|\binto\s+(?:out|dump)file\b|\bsysobjects\b|\bpg_catalog\b|\bsqlite_master\b",
        0.8,
    ),
    signal(
        "subquery", r"\b(?:and|or)\s*\(\s*select\b|=\s*convert\s*\(\s*int|\border\s+by\s+\d+\s*(?:--|#)", 0.8
    ),
    signal(
        "sql-statement",
        r"\bselect\b[^;]{1,80}?\bfrom\s+\w+\s+where\b|\binsert\s+into\s+\w+\s*\([^)]*\)\s*values\b|\bdelete\s+from\s+\w+\s+where\b|\bdrop\s+table\s+\w+",
        0.5,
    ),
    signal("comment-tail", r"(?:--|#|/\*)\s*$", 0.2),
)


class SqlInjectionScanner(MarkupScanner):
    name = "sql_injection"
    category = Category.SQL_INJECTION
    signals = SIGNALS
    trigger = re.compile(r"['\"`;@()=]|union|select|sleep|information_schema|xp_", re.IGNORECASE)
