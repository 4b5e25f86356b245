"""CREDENTIAL: passwords and one-time codes a customer types or says after a cue word.

Only the secret is reported (密码是abc12345 → abc12345). A word after the cue that is clearly not a
secret (密码错误, "my password is wrong") is not: a secret has a digit or a symbol, or is long.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from guardline.pii.entities import EntityType
from guardline.pii.normalize import find_english_runs, find_runs
from guardline.pii.recognizers.base import Candidate, Doc

# 取件码 (parcel pickup codes) are deliberately absent: they open a locker, not an account.
_ZH_CUE_RE = re.compile(
    r"(?:支付密码|登录密码|取款密码|密码|验证码|校验码|动态码|动态密码|口令|短信码|短信(?:上|里)?的码|安全码|授权码)"
    r"[\s:：,，]{0,2}"
    r"(?:是|为|改成了|改成|改为|设置成|设置为|设成|设为|换成|换成了|设的是|是这个|就是|我就说了|报了|说了|发你|给你)?"
    r"[\s:：,，]{0,3}"
)
_ZH_CODE_FIRST_RE = re.compile(
    r"(?<![0-9A-Za-z])([0-9]{4,8})(?:就)?是(?:我的|我)?(?:验证码|动态码|校验码|密码)"
)
_EN_CUE_RE = re.compile(
    r"\b(?:password|passcode|passwd|pass|pwd|pw|pin(?: number| code)?|verification code|security code|"
    r"one-time code|2fa code|auth code|login code|access code|otp|code)"
    r"(?:\s+(?:is|was|should be|to|is now|of)\s+|\s*[:=]\s*|\s+)",
    re.IGNORECASE,
)
# "promo code SAVE20" is a coupon, not a secret.
_NOT_SECRET_CODE_RE = re.compile(r"(?:promo|discount|coupon|gift|zip|postal|product|tracking|order|area)\s*$")
_TOKEN_RE = re.compile(r"[!-~]{3,40}")
_TRAILING = ".,;:!?)]}'\"。，"
_NOT_SECRETS = frozenset(
    "wrong incorrect correct expired invalid not the a an my your reset forgotten changed sent "
    "working required missing please for to and or it this that".split()
)


def _looks_secret(token: str) -> bool:
    if token.lower() in _NOT_SECRETS:
        return False
    has_digit = any(ch.isdigit() for ch in token)
    has_symbol = any(not ch.isalnum() for ch in token)
    return has_digit or has_symbol or len(token) >= 8


class CredentialRecognizer:
    name = "credential"

    def find(self, doc: Doc) -> Iterator[Candidate]:
        text = doc.text
        if "码" in text or "令" in text:
            for m in _ZH_CUE_RE.finditer(text):
                yield from self._secret_at(doc, m.end())
            for m in _ZH_CODE_FIRST_RE.finditer(doc.norm):
                yield Candidate(m.start(1), m.end(1), EntityType.CREDENTIAL, 0.85)
        if doc.lang != "zh":
            for m in _EN_CUE_RE.finditer(text):
                if not _NOT_SECRET_CODE_RE.search(doc.lower, max(0, m.start() - 12), m.start()):
                    yield from self._secret_at(doc, m.end(), english=True)

    def _secret_at(self, doc: Doc, pos: int, *, english: bool = False) -> Iterator[Candidate]:
        text = doc.text
        if pos >= len(text):
            return
        spoken = next(find_runs(text[pos : pos + 60]), None)
        if english and spoken is None:
            spoken = next(find_english_runs(text[pos : pos + 120]), None)
        if spoken is not None and spoken.start == 0 and 4 <= len(spoken.digits) <= 12:
            # Digits (possibly spoken) right after the cue: a code. Stop at the first letter that
            # continues an ASCII token so "abc123" is handled below as a password.
            after = text[pos + spoken.end : pos + spoken.end + 1]
            if not (after.isascii() and after.isalnum()):
                yield Candidate(pos, pos + spoken.end, EntityType.CREDENTIAL, 0.9)
                return
        m = _TOKEN_RE.match(text, pos)
        if m is None:
            return
        token = m.group().rstrip(_TRAILING)
        if len(token) >= 3 and _looks_secret(token):
            yield Candidate(pos, pos + len(token), EntityType.CREDENTIAL, 0.85)
