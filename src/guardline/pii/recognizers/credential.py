"""CREDENTIAL: passwords and one-time codes a customer types or says.

Only the secret is reported (密码是abc12345 → abc12345). Two ways in:
- right after a cue and a connector (密码是…, "my password is …", 验证码 482913): high confidence;
- near a cue in either direction (短信里的829687我已经输过了, "926550 <- that's the code from the SMS"):
  a token that looks like a secret — 4–8 digits, or letters mixed with digits or symbols — within a
  short distance of a credential word, unless a closer word says it is something else (a confirmation
  code, a gift card, a coupon, a version number).
取件码 (parcel pickup codes), coupon and promo codes are not credentials.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from guardline.pii.entities import EntityType
from guardline.pii.normalize import find_english_runs, find_runs
from guardline.pii.recognizers.base import Candidate, Doc
from guardline.pii.recognizers.phone import is_hotline

_ZH_CUE_WORDS = (
    r"支付密码|登录密码|取款密码|密码|验证码|校验码|动态码|动态密码|口令|短信码|短信验证码|安全码|授权码|"
    r"短信(?:上|里)?(?:的|写的)?(?:码)?|四位的|六位的|位数|收到的是|报给|问我要"
)
_ZH_CUE_RE = re.compile(
    rf"(?:{_ZH_CUE_WORDS})[\s:：,，]{{0,2}}"
    r"(?:是|为|改成了|改成|改为|设置成|设置为|设成|设为|换成|换成了|设的是|是这个|就是|我就说了|报了|说了|发你了|"
    r"发你|给你|我记得是|我改成|写的)?[\s:：,，]{0,3}"
)
_EN_CUE_WORDS = (
    r"password|passcode|passwd|pass|pwd|pw|pin(?: number| code)?|verification code|security code|"
    r"one-time code|2fa code|2fa|auth code|login code|access code|otp|code|authenticator|reset it to|"
    r"changed it to|unlock"
)
_EN_CUE_RE = re.compile(
    rf"\b(?:{_EN_CUE_WORDS})(?:\s+(?:is|was|should be|to|is now|of|i set was|shows)\s+|\s*[:=]\s*|\s+)",
    re.IGNORECASE,
)
# Anywhere near a candidate token, these make it a secret …
_NEAR_RE = re.compile(rf"{_ZH_CUE_WORDS}|\b(?:{_EN_CUE_WORDS}|sms|text message|the text)\b", re.IGNORECASE)
# … unless one of these is closer: then it is a confirmation number, a gift card, a coupon.
_OTHER_RE = re.compile(
    r"取件码|优惠码|兑换码|券码|礼品卡|订单|单号|版本|固件|账号|用户名|会员名|"
    r"\b(?:promo|discount|coupon|gift|voucher|username|user name|login|user id|account|"
    r"confirmation|booking|reference|tracking|order|version|firmware|zip|postal|product|area|redemption|rma)\b",
    re.IGNORECASE,
)
_NEAR_BEFORE = 32
_NEAR_AFTER = 24
_TOKEN_RE = re.compile(r"[!-~]{3,40}")
_SECRETISH_RE = re.compile(r"(?<![!-~])(?=[!-~]*[0-9])(?=[!-~]*[A-Za-z!@#$%^&*._-])[!-~]{4,40}(?![!-~])")
_TRAILING = ".,;:!?)]}'\"。，"
_NOT_SECRETS = frozenset(
    "wrong incorrect correct expired invalid not the a an my your reset forgotten changed sent "
    "working required missing please for to and or it this that requirements rules".split()
)


def _looks_secret(token: str) -> bool:
    if token.lower() in _NOT_SECRETS or ("@" in token[1:-1] and "." in token):
        return False  # an e-mail address is not a password
    return any(ch.isdigit() for ch in token) or any(not ch.isalnum() for ch in token)


def _glued(text: str, i: int) -> bool:
    return 0 <= i < len(text) and (text[i] == "_" or (text[i].isascii() and text[i].isalnum()))


class CredentialRecognizer:
    name = "credential"

    def find(self, doc: Doc) -> Iterator[Candidate]:
        text = doc.text
        if _NEAR_RE.search(doc.lower) is None:
            return
        zh = doc.lang != "en"
        en = doc.lang != "zh"
        if zh:
            for m in _ZH_CUE_RE.finditer(text):
                yield from self._secret_at(doc, m.end())
        if en:
            for m in _EN_CUE_RE.finditer(text):
                if not _OTHER_RE.search(doc.lower, max(0, m.start() - 14), m.start()):
                    yield from self._secret_at(doc, m.end(), english=True)
        yield from self._near(doc)

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
            if not (after.isascii() and after.isalnum()) and not (after and after in "!@#$%^&*"):
                yield Candidate(pos, pos + spoken.end, EntityType.CREDENTIAL, 0.9)
                return
        m = _TOKEN_RE.match(text, pos)
        if m is None:
            return
        token = m.group().rstrip(_TRAILING)
        if len(token) >= 3 and _looks_secret(token):
            yield Candidate(pos, pos + len(token), EntityType.CREDENTIAL, 0.85)

    def _near(self, doc: Doc) -> Iterator[Candidate]:
        """Secret-looking tokens with a credential word close by, before or after."""
        text, lower = doc.text, doc.lower
        runs = list(find_runs(text, min_chars=4, norm=doc.norm))
        if doc.lang != "zh":
            runs += find_english_runs(text)
        # (start, end, is a number): numbers need no further test, other tokens must look secret.
        tokens = [
            (r.start, r.end, True) for r in runs if 4 <= len(r.digits) <= 8 and not is_hotline(r.digits)
        ]
        tokens += [(*m.span(), False) for m in _SECRETISH_RE.finditer(text)]
        for start, end, number in tokens:
            end = start + len(text[start:end].rstrip(_TRAILING))
            if number and (_glued(text, start - 1) or _glued(text, end)):
                continue  # zhangsan_1990: part of a user name
            if end - start < 4 or not (number or _looks_secret(text[start:end])):
                continue
            lo, hi = max(0, start - _NEAR_BEFORE), min(len(text), end + _NEAR_AFTER)
            near = [
                m
                for m in _NEAR_RE.finditer(lower, lo, hi)
                if (m.end() <= start or m.start() >= end)
                and not _OTHER_RE.search(lower, max(0, m.start() - 14), m.start())  # "promo code"
            ]
            if not near:
                continue
            cue_gap = min(start - m.end() if m.end() <= start else m.start() - end for m in near)
            other = [m for m in _OTHER_RE.finditer(lower, lo, hi) if m.end() <= start or m.start() >= end]
            if any((start - m.end() if m.end() <= start else m.start() - end) <= cue_gap for m in other):
                continue
            yield Candidate(start, end, EntityType.CREDENTIAL, 0.7)
