"""SQL injection: payloads that break out of a string or number literal and append SQL.

Natural language is full of SQL words ("select 红色的那款", "drop 掉这个订单", "update my address", "1=1
是什么意思"), so no word alone is a signal. Each signal needs syntax: a quote that closes a literal
followed by a boolean tautology, a blind-injection function or a comment, UNION SELECT with a column
list, a stacked statement after ";", time-delay, error-based and metadata functions, NoSQL operators
in a query value. Inline comments (union/**/select, MySQL's /*!50000select*/) and the "+" of a URL
query are read as spaces first. (No maintained libinjection binding ships a Python 3.11 wheel.)
"""

from __future__ import annotations

import re

from guardline.guard.decision import Category
from guardline.guard.scanners.base import MarkupScanner, signal

_Q = r"['\"`]"
_VAL = r"(?:['\"]?\w*['\"]?|\d+)"
# Functions a boolean- or error-based blind injection calls right after the closing quote.
_BLIND = r"(?:ascii|substr(?:ing)?|mid|length|char|ord|if|iif|exists|select|sleep|benchmark|pg_sleep|user|database|version|current_user|extractvalue|updatexml|cast|convert)"

SIGNALS = (
    # ' OR '1'='1   " OR ""="   ') OR ('1'='1   1' OR 1=1
    signal(
        "quote-tautology",
        rf"{_Q}\s*\)*\s*(?:or|and|\|\||&&)\s*\(*\s*{_VAL}\s*(?:=|<>|!=|<|>|\blike\b)\s*{_VAL}",
        1.0,
    ),
    # ' OR TRUE--   ' or 1#   ') or true;
    signal(
        "quote-tautology",
        rf"{_Q}\s*\)*\s*(?:or|\|\|)\s+(?:not\s+)?(?:true|false|\d+)\s*(?:--|#|/\*|;|$)",
        1.0,
    ),
    # 1 OR 1=1, 1) OR (1=1 (numeric context): the same value on both sides of =.
    signal("tautology", r"\b(?:or|and)\s+\(*\s*(\d+|'[^']*')\s*=\s*\1(?!\w)", 1.0),
    signal("tautology", r"\bhaving\s+(\d+)\s*=\s*\1\b", 1.0),
    # ' AND ASCII(SUBSTRING((SELECT ...   ' AND IF(1=1,SLEEP(5),0)
    signal("quote-blind", rf"{_Q}\s*\)*\s*(?:and|or|&&|\|\|)\s+\(*\s*(?:not\s+)?{_BLIND}\s*\(", 1.0),
    signal("quote-comment", rf"\w{_Q}\s*\)*\s*(?:--|#|/\*)", 0.8),
    # admin'--  root'#  the login bypass: an account name closed by a quote, the rest of the query cut off.
    signal(
        "login-bypass",
        rf"\b(?:admin|administrator|root|sa|sysadmin|guest|test|user){_Q}\s*\)*\s*(?:--|#|/\*)",
        1.0,
    ),
    # An e-mail not opened by a quote, closed by one with the comment glued on ("a@b.com" -- is prose).
    signal("login-bypass", r"(?<![\w.+'\"`-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+'\)*(?:--|#|/\*)", 1.0),
    # ' AND (SELECT SUBSTRING(secret,1,1) FROM t)='a   a subquery read one character at a time.
    signal("quote-subquery", rf"{_Q}\s*\)*\s*(?:and|or|&&|\|\|)\s*\(\s*select\b[\s\S]{{0,80}}?\bfrom\b", 1.0),
    signal(
        "quote-statement",
        rf"{_Q}\s*\)*\s*;\s*(?:drop|delete|update|insert|exec|execute|shutdown|truncate|alter|create|select|waitfor|declare)\b",
        1.0,
    ),
    signal(
        "union-select",
        r"\bunion\b(?:\s+(?:all|distinct))?\s*\(?\s*select\b[\s\S]{0,80}?(?:\bfrom\b|\bnull\b|\d\s*,|@@|\w+\s*\(|--|#)",
        1.0,
    ),
    signal("union-select", r"unionselect\w*from", 1.0),  # spaced letters, squeezed
    signal(
        "stacked",
        r";\s*(?:drop\s+(?:table|database)|delete\s+from|update\s+\w+\s+set|insert\s+into|exec(?:ute)?\s+\w+|truncate\s+table|alter\s+table|shutdown|declare\s+@|waitfor\s+delay|select\s+[^;]{1,60}\bfrom\s+\w+)\b",
        1.0,
    ),
    signal("concat-subquery", r"['\"]\s*\|\|\s*\(\s*select\b|\|\|\s*\(\s*select\b[^)]*\bfrom\b", 1.0),
    signal(
        "time-delay",
        r"\b(?:sleep|pg_sleep)\s*\(\s*\d+(?:\.\d+)?\s*\)|\bbenchmark\s*\(\s*\d+\s*,|\bwaitfor\s+(?:delay|time)\s+'|\bdbms_(?:pipe\.receive_message|lock\.sleep)\s*\(|\brandomblob\s*\(\s*\d{6,}",
        1.0,
    ),
    signal(
        "error-based",
        r"\bfloor\s*\(\s*rand\s*\(\s*\d*\s*\)\s*\*\s*2\s*\)|\bexp\s*\(\s*~\s*\(|\bconvert\s*\(\s*int\s*,\s*(?:@@|\(\s*select)|\bcast\s*\(\s*\(\s*select\b",
        1.0,
    ),
    signal(
        "information-schema",
        r"\bfrom\s+information_schema\s*\.\s*\w+|\binformation_schema\s*\.\s*(?:tables|columns|schemata)\b",
        1.0,
    ),
    signal(
        "metadata",
        r"\binformation_schema\b|@@version|@@datadir|\bxp_cmdshell\b|\bextractvalue\s*\(|\bupdatexml\s*\(|\bgroup_concat\s*\(|\bload_file\s*\(|\binto\s+(?:out|dump)file\b|\bsysobjects\b|\bpg_catalog\b|\bsqlite_master\b|\bpg_shadow\b|\bmysql\.user\b|\bsys\.tables\b|\butl_http\b",
        0.8,
    ),
    signal(
        "encoded-literal",
        r"\bchar\s*\(\s*\d+\s*(?:,\s*\d+\s*){2,}\)|\bconcat(?:_ws)?\s*\(\s*0x[0-9a-f]+|=\s*0x[0-9a-f]{6,}\b",
        0.5,
    ),
    signal(
        "subquery", r"\b(?:and|or)\s*\(\s*select\b|=\s*convert\s*\(\s*int|\border\s+by\s+\d+\s*(?:--|#)", 0.8
    ),
    # NoSQL (MongoDB) operators where a value belongs: {"$ne": null} logs in as anyone.
    signal("nosql-operator", r"\[\s*\$(?:ne|gt|gte|lt|regex|nin|exists|where)\s*\]\s*=", 1.0),
    signal(
        "nosql-operator",
        r"\{\s*[\"']?\$(?:ne|gt|gte|lt|nin|regex|exists)[\"']?\s*:\s*(?:null|\"\"|''|1|true|[\"']\.\*)",
        1.0,
    ),
    signal(
        "nosql-operator",
        r"[\"']?\$where[\"']?\s*:|\{\s*[\"']?\$(?:ne|gt|gte|lt|nin|regex|or|and)[\"']?\s*:",
        0.6,
    ),
    signal(
        "sql-statement",
        r"\bselect\b[^;]{1,80}?\bfrom\s+\w+\s+where\b|\binsert\s+into\s+\w+\s*\([^)]*\)\s*values\b|\bdelete\s+from\s+\w+\s+where\b|\bdrop\s+table\s+\w+",
        0.5,
    ),
    signal("comment-tail", r"(?:--|#|/\*)\s*$", 0.2),
)

_INLINE_COMMENT = re.compile(r"/\*!?\d*|\*/")
_URL_PLUS = re.compile(r"(?<=[\w'\"()])\+(?=[\w'\"()])")


class SqlInjectionScanner(MarkupScanner):
    name = "sql_injection"
    category = Category.SQL_INJECTION
    signals = SIGNALS
    trigger = re.compile(
        r"['\"`;@()=]|union|select|sleep|information_schema|xp_|\$(?:ne|gt|where)", re.IGNORECASE
    )

    def rewrite(self, text: str) -> str:
        # union/**/select and 1+union+select+1: comments and a URL's pluses are spaces to SQL.
        if "/*" not in text and "+" not in text:
            return text
        return _URL_PLUS.sub(" ", _INLINE_COMMENT.sub(" ", text))
