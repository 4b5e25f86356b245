"""Command injection: a shell metacharacter followed by a command that does something to the host.

Customers write "A & B", "$99 | shipping $5", "please kill the order" and usernames like rm_smith.
A signal needs a separator or substitution (;, &&, ||, |, $(...), backticks) in front of a real
command with shell-shaped arguments, or an unmistakable payload (/dev/tcp, ${IFS}, nc -e, | sh).
"""

from __future__ import annotations

import re

from guardline.guard.decision import Category
from guardline.guard.scanners.base import MarkupScanner, signal

# Fetching a URL is what a developer's pasted `curl https://...` does too: it scores less alone.
_FETCH = r"(?:wget|curl)"
_CMD = r"(?:(?:/usr)?(?:/s?bin/))?(?:rm|cat|wget|curl|nc|ncat|netcat|bash|sh|zsh|dash|python[23]?|perl|php|ruby|chmod|chown|whoami|uname|ping|powershell|cmd(?:\.exe)?|telnet|sudo|mkfifo|base64|tftp|scp|ssh|echo|id|ls|env|printenv|nslookup|dig)"
# Something shell-shaped within a few words of the command: a flag, a path, a redirect, a pipe,
# a URL, a script name, or nothing at all (the payload ends there).
_ARG = r"(?:[^\S\n]+[^\s;|&`)]+){0,3}?(?:[^\S\n]+(?:-{1,2}[a-z][\w-]*|/[\w./-]*|>|\||https?://|[\w.-]+\.(?:sh|py|pl|php|exe)\b|[\w.-]+:\d+)|\s*$|\s*[)`;|&])"

SIGNALS = (
    signal("separator-command", rf"(?:^|[;&|\n]|&&|\|\|)\s*{_CMD}{_ARG}", 0.8),
    signal("leading-separator", r"^\s*(?:;|&&?|\|\|?)\s*\S", 0.3),
    signal("substitution", rf"\$\(\s*(?!{_FETCH}\b){_CMD}\b[^)]*\)|`\s*(?!{_FETCH}\b){_CMD}\b[^`]*`", 0.8),
    signal("substitution-fetch", rf"\$\(\s*{_FETCH}\b[^)]*\)|`\s*{_FETCH}\b[^`]*`", 0.5),
    signal("exfiltrate", r"\s-d\s*@|--data(?:-binary|-urlencode)?[\s=]*@|\s-T\s+/|--upload-file\b", 0.5),
    signal(
        "recon",
        r"(?:\$\(|`|[;&|]\s*)\s*(?:whoami|id|uname(?:\s+-a)?|hostname|ifconfig|printenv|env)\s*(?:\)|`|$|[;&|])|\s-c\s+id\b",
        0.5,
    ),
    signal(
        "sensitive-path",
        r"/etc/(?:passwd|shadow|hosts|sudoers)|/bin/(?:ba|z|da)?sh\b|/var/www|/root/|~/\.ssh|/tmp/\w+|c:\\\\windows",
        0.5,
    ),
    signal("redirect", r">\s*/(?:var|etc|tmp|dev|home|root|usr)/", 0.5),
    signal(
        "destructive",
        r"\brm\s+-[a-z]*[rf][a-z]*\s+\S|\bchmod\s+(?:[0-7]{3,4}|\+x)\s|\bmkfs\b|\bdd\s+if=|>\s*/dev/sd|:\(\)\s*\{",
        0.5,
    ),
    signal(
        "remote-shell",
        r"/dev/tcp/|\b(?:nc|ncat|netcat)\b[^;|&]*\s-[a-z]*[elv]|\bbash\s+-i\b|\bpty\.spawn\b|\bsocket\.socket\(|\bpowershell\b[^;|&]*\s-(?:enc|e|encodedcommand)\b",
        1.0,
    ),
    signal("pipe-to-shell", r"\|\s*(?:ba|z|da)?sh\b|\|\s*python[23]?\b|base64\s+-d\s*\|", 0.6),
    signal("ifs", r"\$\{ifs\}|\$ifs\b", 1.0),
    signal(
        "exec-code", r"\b(?:python[23]?|perl|ruby|php)\s+-[ce]\s+['\"]|\bos\.system\(|\bimport\s+os\b", 0.5
    ),
    signal("fetch", r"\b(?:wget|curl)\b\s+[^\s]*(?:https?://|\.\w{2,}/)\S*", 0.3),
)


class CommandInjectionScanner(MarkupScanner):
    name = "command_injection"
    category = Category.COMMAND_INJECTION
    signals = SIGNALS
    trigger = re.compile(r"[;&|`$\n]|/dev/|/etc/|/bin/", re.IGNORECASE)
