"""Command injection: a shell metacharacter followed by a command that does something to the host.

Customers write "A & B", "$99 | shipping $5", "please kill the order", "rm 1203" (a room), "cat food"
and usernames like rm_smith; developers paste `curl https://…` calls and file paths. A signal needs
a separator or substitution (;, &&, ||, |, $(...), backticks, an encoded newline) in front of a
real command with shell-shaped arguments, or an unmistakable payload (/dev/tcp, ${IFS}, nc -e,
| sh, PowerShell's iex and download cradles, certutil, a PHP web shell, a server-side template
reaching the OS, ${jndi:}). A separator glued to the field before it (admin|ping, 123;id) is what a
payload in an order-number or user-name field looks like; natural text puts spaces around " & ".
Quotes and backslashes inside a word (c''at, w\\hoami) are removed before matching.
"""

from __future__ import annotations

import re

from guardline.guard.decision import Category
from guardline.guard.scanners.base import MarkupScanner, signal

# Fetching a URL is what a developer's pasted `curl https://...` does too: it scores less alone.
_FETCH = r"(?:wget|curl)"
_CMD = (
    r"(?:(?:/usr)?(?:/s?bin/))?(?:rm|cat|tac|wget|curl|nc|ncat|netcat|socat|bash|sh|zsh|dash|ksh|busybox|"
    r"python[23]?|perl|php|ruby|node|lua|chmod|chown|whoami|uname|ping|powershell|pwsh|cmd(?:\.exe)?|"
    r"telnet|sudo|su|mkfifo|base64|xxd|tftp|scp|ssh|echo|printf|id|ls|dir|env|printenv|nslookup|dig|"
    r"sleep|kill|killall|pkill|reboot|shutdown|halt|ifconfig|ipconfig|hostname|netstat|ps|grep|find|awk|"
    r"sed|tail|head|xargs|nohup|eval|exec|crontab|useradd|passwd|mv|cp|tar|certutil|bitsadmin|mshta|rundll32|"
    r"regsvr32|type|iex|del|erase|rmdir|rd|taskkill|attrib|wmic|schtasks|icacls)"
)
# Something shell-shaped within a few words of the command: a flag, a path, a redirect, a pipe,
# a URL, a script name, or nothing at all (the payload ends there).
_ARG = r"(?:[^\S\n]+[^\s;|&`)]+){0,3}?(?:[^\S\n]+(?:-{1,2}[a-z][\w-]*|/[\w./-]*|>|\||https?://|[\w.-]+\.(?:sh|py|pl|php|exe|ps1|bat)\b|[\w.-]+:\d+|[a-z]:\\)|\s*$|\s*[)`;|&])"

SIGNALS = (
    signal("separator-command", rf"(?:^|[;&|\n]|&&|\|\|)\s*{_CMD}{_ARG}", 0.8),
    signal("leading-separator", r"^\s*(?:;|&&?|\|\|?)\s*\S", 0.3),
    # admin|ping -c 3 x   123;id   x&&whoami: glued to a field value, unlike "A & B" or "$5 | $9".
    signal(
        "glued-separator",
        rf"[\w'\"](?:;|&&|\|\||\|)\s*{_CMD}(?:\s+-{{1,2}}[a-z]|\s+[/~$]|\s*$|\s*[;|&`]|\s+(?:\d{{1,3}}\.){{3}}\d{{1,3}})",
        0.3,
    ),
    # An encoded line break in a single-line field, then a command: 123%0acat%20/etc/passwd.
    signal("encoded-newline", rf"(?:%0a|%0d)(?:%0a|%0d|%20|%09|\+|\s)*{_CMD}(?:%20|%09|\+|\s|$)", 1.0),
    signal("encoded-newline", rf"(?:\\n|\\r)+\s*{_CMD}(?:\s|$)", 0.8),
    # Quotes that split a command's letters: c''at, w'h'o'am'i (the rewritten view then reads the command).
    signal("split-letters", r"[a-z](?:''|\"\")[a-z]|\b(?:[a-z]{1,2}'){3,}[a-z]", 0.3),
    signal("substitution", rf"\$\(\s*(?!{_FETCH}\b){_CMD}\b[^)]*\)|`\s*(?!{_FETCH}\b){_CMD}\b[^`]*`", 0.8),
    signal("substitution-fetch", rf"\$\(\s*{_FETCH}\b[^)]*\)|`\s*{_FETCH}\b[^`]*`", 0.5),
    # Brace expansion without spaces: {cat,/etc/passwd}
    signal("brace-expansion", rf"\{{\s*{_CMD}\s*,[^}}\s]*\}}", 0.8),
    signal("exfiltrate", r"\s-d\s*@|--data(?:-binary|-urlencode)?[\s=]*@|\s-T\s+/|--upload-file\b", 0.5),
    signal(
        "recon",
        r"(?:\$\(|`|[;&|]\s*|%0a|\\n)\s*(?:whoami|id|uname(?:\s+-a)?|hostname|ifconfig|ipconfig|printenv|env|net\s+user|ps\s+aux|netstat\s+-\w+)\s*(?:\)|`|$|[;&|])|\s-c\s+id\b",
        0.5,
    ),
    # Blind probes: a delay or a ping count the attacker times.
    signal(
        "delay-probe",
        r"(?:[;&|`]|\$\()\s*(?:sleep\s+\d+|timeout\s+/?t?\s*\d+|ping\s+-[cnw]\s*\d+)\s*(?:$|[;&|`)]|\s+(?:\d{1,3}\.){3}\d{1,3}|\s+[\w-]+\.[a-z]{2,}\b|\s+localhost\b)",
        0.4,
    ),
    signal(
        "sensitive-path",
        r"/etc/(?:passwd|shadow|hosts|sudoers|group|issue|crontab)|/bin/(?:ba|z|da|k)?sh\b|/var/www|/root/|~/\.ssh|\.ssh/(?:id_\w+|authorized_keys)|/proc/self/|/var/log/(?:auth|secure|syslog|messages|wtmp|btmp)|\.aws/credentials|\.bash_history|/tmp/\w+|c:\\\\windows|\\\\system32\\\\|c:\\windows\b|\\system32\b|\bwin\.ini\b|\bboot\.ini\b",
        0.5,
    ),
    signal("traversal", r"(?:\.\.[/\\]){2,}", 0.5),
    signal("redirect", r">\s*/(?:var|etc|tmp|dev|home|root|usr)/|\b\d?>&\s*\d\b|&>\s*/", 0.5),
    signal(
        "destructive",
        r"\brm\s+-[a-z]*[rf][a-z]*\s+\S|\brm-[a-z]*[rf][a-z]*/|\bchmod\s+(?:[0-7]{3,4}|[ugoa]*\+[rwxs]+)\s|\bmkfs\b|\bdd\s+if=|>\s*/dev/sd|:\(\)\s*\{|\b(?:del|erase)\s+/[fsq]\b|\b(?:rmdir|rd)\s+/s\b|\btaskkill\s+/(?:f|im|pid)\b|\bformat\s+c:",
        0.5,
    ),
    signal(
        "remote-shell",
        r"/dev/(?:tcp|udp)/|\b(?:nc|ncat|netcat)\b[^;|&]*\s-[a-z]*[elv]|\bbash\s+-i\b|\bpty\.spawn\b|\bsocket\.socket\(|\bfsockopen\s*\(|\buse\s+socket\b|\bruby\s+-rsocket\b|\bsocat\b[^;|&]*\bexec:|\bpowershell\b[^;|&]*\s-(?:enc|e|ec|encodedcommand)\b",
        1.0,
    ),
    # PowerShell and Windows download-and-run: iex (New-Object Net.WebClient).DownloadString(...)
    signal(
        "windows-cradle",
        r"\biex\s*\(|\binvoke-expression\b|\.downloadstring\s*\(|\.downloadfile\s*\(|\bnew-object\s+(?:system\.)?net\.webclient\b|-executionpolicy\s+bypass\b|-exec\s+bypass\b|\bcertutil(?:\.exe)?\s+-urlcache\b|\bbitsadmin(?:\.exe)?\s+/transfer\b|\bmshta(?:\.exe)?\s+(?:https?:|javascript:|vbscript:)|\bregsvr32\b[^;|&]*/i:https?:|\brundll32(?:\.exe)?\s+javascript:",
        1.0,
    ),
    signal(
        "windows-shell",
        r"\b(?:cmd|command)(?:\.exe)?\s+/[ck]\s+\S|\bpowershell(?:\.exe)?\s+-(?:c|command|nop|noprofile|w|windowstyle)\b|\binvoke-webrequest\b|\biwr\s+https?:",
        0.5,
    ),
    signal(
        "pipe-to-shell",
        r"\|\s*(?:/bin/)?(?:ba|z|da|k)?sh\b|\|\s*python[23]?\b|\|\s*iex\b|base64\s+-d\s*\||\bxxd\s+-r\b",
        0.6,
    ),
    # Creating a Windows account from a field: & net user x P@ss /add (no one writes "/add" in prose).
    signal(
        "windows-account",
        r"\bnet(?:\.exe)?\s+(?:user|localgroup)\s+\S+(?:\s+\S+){0,2}\s+/(?:add|active:yes)\b",
        1.0,
    ),
    signal("ifs", r"\$\{ifs\}|\$ifs\b|\$\{ifs%\?\?\}|\$\{path:0:1\}", 1.0),
    # /???/c?t /???/p?ss??  (wildcards standing in for the letters a filter looks for)
    signal("glob-path", r"/\?{2,}/[\w?*]*[?*]|/[a-z]\?{2,}/", 0.6),
    signal("glob-path", r"/[\w?*]*\?[\w?*]*/\S*[?*]\S*\s+/[\w?*]*\?", 1.0),
    signal(
        "exec-code",
        r"\b(?:python[23]?|perl|ruby|php|node)\s+-[cer]\s+['\"]|\bos\.system\(|\bimport\s+os\b|\bsubprocess\.\w+\(|\bchild_process\b|\bsystem\s*\(\s*['\"]|\b(?:shell_exec|passthru|proc_open|popen)\s*\(|\$_(?:get|post|request|cookie)\s*\[|__(?:class|import)__|\bruntime\s*\.\s*getruntime\s*\(\s*\)\s*\.\s*exec\b",
        0.5,
    ),
    # A PHP web shell or a server-side template that reaches the OS ({{ __import__('os').popen(…) }}).
    signal(
        "code-exec-payload",
        r"<\?(?:php|=)?\s*[^?]{0,40}\b(?:system|exec|shell_exec|passthru|popen|proc_open|eval|assert)\s*\(|__(?:mro|subclasses|globals|builtins)__|\{\{[^}]{0,80}(?:__import__|\bos\s*\.\s*(?:popen|system)|\bsubprocess\b)|\bjava\.lang\.runtime\b|\$\{\s*jndi\s*:|\bt\s*\(\s*java\.lang\.",
        1.0,
    ),
    signal("fetch", r"\b(?:wget|curl)\b\s+[^\s]*(?:https?://|\.\w{2,}/)\S*", 0.3),
)

# A quote pair or a backslash inside a word is nothing to the shell: c''at, w'h'oami, wh\oami.
_SHELL_QUOTES = re.compile(r"(?<=[a-z])(?:''|\"\"|\\|'(?=[a-z]+'))(?=[a-z/])|(?<=[a-z])'(?=[a-z/])")
_DOLLAR_NOISE = re.compile(r"(?<=[a-z])\$(?:@|\{\w?\})(?=[a-z])")


class CommandInjectionScanner(MarkupScanner):
    name = "command_injection"
    category = Category.COMMAND_INJECTION
    signals = SIGNALS
    trigger = re.compile(
        r"[;&|`$\n{]|/dev/|/etc/|/bin/|%0[ad]|\\[nr]|\.\./|\.\.\\|<\?|__|/\?\?|\b(?:iex|cmd|powershell|certutil|bitsadmin|mshta|regsvr32|rundll32|invoke-|iwr|net\s+(?:user|localgroup))\b",
        re.IGNORECASE,
    )

    def rewrite(self, text: str) -> str:
        if "'" not in text and '"' not in text and "\\" not in text and "$" not in text:
            return text
        return _DOLLAR_NOISE.sub("", _SHELL_QUOTES.sub("", text))
