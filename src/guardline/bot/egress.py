"""Model egress: a second, deliberately over-eager masking pass on text bound for an outside model.

Rationale: the PII engine is tuned for precision as well as recall, because its masks are what agents
read and what is stored; whatever it misses (a lowercase English name in a call transcript, a passport
read out digit by digit, a password after 密码是) would reach a hosted model verbatim. A model needs
the question, not the customer's numbers, codes or names, so text bound for it goes through this pass
too, after the engine's placeholders, and it errs the other way: every long digit run, spoken or
written, every token mixing letters and digits, anything after a credential word, the words after a
name cue, every e-mail address. Order numbers, product codes and zip codes are masked as well: tools
handle orders, not the model. Dates, times, amounts, measures and short model names (iPhone 15) stay.

What it masks goes into the conversation's PlaceholderVault like the engine's values, typed by shape
(an 11-digit 1xx number is a <PHONE_n>, 18 digits an <ID_CARD_n>, what has no recognizable shape a
<CREDENTIAL_n>, which no reply ever restores). It never looks inside an existing placeholder. Only
the bot's prompt builder calls it: what is stored, what agents see and what tools get are unchanged.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from guardline.kit.wordsre import words_pattern
from guardline.pii import Entity, EntityType, PlaceholderVault, anonymize
from guardline.pii.lexicon import data_words, get_lexicon
from guardline.pii.normalize import find_english_runs, find_runs, to_ascii_digits

# What PlaceholderVault.restore accepts as a placeholder (its lenient forms included): never masked again.
_PLACEHOLDER_RE = re.compile(r"[<＜][ \t]*[A-Za-z]+(?:_[A-Za-z]+)*_[0-9]{1,9}[ \t]*[>＞]")
_BLANK = "\x00"  # stands in for a placeholder's characters: no rule matches it or runs across it

MIN_DIGITS = 5  # written digits (separators allowed between them)
MIN_SPOKEN_DIGITS = 4  # digits read out as words: 幺三八六, "four one five five"
MIN_CODE_LENGTH = 6  # letters and digits mixed: E12345678, abc123, T2024061199821

# -- what stays: dates, times, amounts and measures ---------------------------------------------------

_DATE_RE = re.compile(
    r"(?<![0-9])(?:(?P<y>(?:19|20)[0-9]{2})[-/.年](?P<m>[0-9]{1,2})[-/.月](?P<d>[0-9]{1,2})[日号]?"
    r"|(?P<m2>[0-9]{1,2})[-/.](?P<d2>[0-9]{1,2})[-/.](?P<y2>(?:19|20)?[0-9]{2}))(?![0-9])"
)
_TIME_RE = re.compile(r"(?<![0-9])[0-2]?[0-9][:：][0-5][0-9](?:[:：][0-5][0-9])?(?![0-9])")
_CURRENCY_BEFORE_RE = re.compile(r"(?:[¥￥$€£]|rmb|cny|usd|hkd|eur|gbp)\s?$", re.IGNORECASE)
_UNITS = (
    "元", "块", "角", "毛", "%", "％", "折", "毫升", "升", "克", "千克", "公斤", "斤", "米", "厘米", "毫米",
    "寸", "英寸", "瓦", "伏", "毫安", "mAh", "mah", "GB", "G", "gb", "TB", "tb", "MB", "mb", "KB", "kb",
    "mm", "cm", "km", "kg", "g", "ml", "L", "W", "w", "V", "Hz", "hz", "MHz", "GHz", "K", "k", "p", "P",
    "yuan", "rmb", "RMB", "dollars", "dollar", "bucks", "usd", "USD", "percent", "pounds", "lbs", "oz",
    "inch", "inches", "miles", "km", "meters", "steps", "calories", "kcal", "words", "points", "积分",
)  # fmt: skip
_UNIT_AFTER_RE = re.compile(rf"\s?(?:{words_pattern(_UNITS)})(?![A-Za-z])")
_AMOUNT_RE = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]+\.[0-9]+|[0-9]+")
_MEASURE_TOKEN_RE = re.compile(
    rf"(?:[0-9]+(?:\.[0-9]+)?(?:{words_pattern(_UNITS)})|[0-9]+[x×*][0-9]+|[vV][0-9]+(?:\.[0-9]+)*)"
)

# -- numbers read out in English: what the engine's table has not (teens, tens, hundreds) ------------

_EN_NUMBER_WORDS = {
    "zero": 1, "oh": 1, "one": 1, "two": 1, "three": 1, "four": 1, "five": 1, "six": 1, "seven": 1,
    "eight": 1, "nine": 1, "ten": 2, "eleven": 2, "twelve": 2, "thirteen": 2, "fourteen": 2,
    "fifteen": 2, "sixteen": 2, "seventeen": 2, "eighteen": 2, "nineteen": 2, "twenty": 2,
    "thirty": 2, "forty": 2, "fifty": 2, "sixty": 2, "seventy": 2, "eighty": 2, "ninety": 2,
    "hundred": 2, "double": 1, "triple": 2,
}  # fmt: skip
_EN_NUMBER_TOKEN = rf"(?:{'|'.join(sorted(_EN_NUMBER_WORDS, key=len, reverse=True))}|[0-9]+)"
_EN_NUMBER_RUN_RE = re.compile(
    rf"(?<![A-Za-z0-9']){_EN_NUMBER_TOKEN}(?:[ ,\-]{{1,2}}{_EN_NUMBER_TOKEN})+(?![A-Za-z0-9'])",
    re.IGNORECASE,
)
_EN_NUMBER_PIECE_RE = re.compile(_EN_NUMBER_TOKEN, re.IGNORECASE)

# -- codes and secrets --------------------------------------------------------------------------------

_CODE_RE = re.compile(r"(?<![A-Za-z0-9_\-])[A-Za-z0-9](?:[A-Za-z0-9_.\-]*[A-Za-z0-9])?(?![A-Za-z0-9_\-])")
_PASSPORT_SHAPE_RE = re.compile(r"[A-Za-z]{1,2}[0-9]{7,10}")
_ZH_SECRET_CUE = (
    "密码", "支付密码", "登录密码", "取款密码", "验证码", "校验码", "动态码", "动态密码", "口令", "安全码",
    "授权码", "短信码", "识别码", "PIN码", "pin码", "CVV", "cvv", "秘钥", "密钥", "令牌",
)  # fmt: skip
_ZH_SECRET_CUE_RE = re.compile(
    rf"(?:{words_pattern(_ZH_SECRET_CUE)})[\s:：,，]{{0,2}}"
    r"(?:是|为|改成了|改成|改为|设成|设为|设置成|设置为|换成了|换成|就是|写的是)?[\s:：,，]{0,3}"
)
_EN_SECRET_CUE_RE = re.compile(
    r"(?<![A-Za-z0-9'])(?:(?P<password>password|passcode|passwd|pwd|passphrase|secret)|pin(?:\s+(?:number|code))?|otp|"
    r"one[- ]time (?:code|password)|(?:verification|security|auth|authentication|access|login|2fa|"
    r"confirmation|sms|reset) code|code|cvv|cvc|token|api[ _-]?key|private key|recovery (?:code|phrase)|"
    r"seed phrase)(?:(?P<said>\s+(?:is|was|is now|should be|i set was|i used was)\s+|\s*[:=]\s*)|\s+)",
    re.IGNORECASE,
)
_KEY_VALUE_RE = re.compile(
    r"(?<![A-Za-z])[A-Za-z_]*(?:pass|pwd|token|secret|key|sig|auth|session|sid|otp|pin|code)[A-Za-z_]*"
    r"\s*[=:]\s*(?P<value>[^\s&,;，。]{3,})",
    re.IGNORECASE,
)
_SECRET_TOKEN_RE = re.compile(r"[!-~]{3,64}")
_ASCII_TOKEN_RE = re.compile(r"[A-Za-z0-9!@#$%^&*_\-]{1,64}")
_TRAILING = ".,;:!?)]}'\"。，；：！？"
_NOT_SECRETS = frozenset(
    "wrong incorrect correct expired invalid not the a an my your reset forgotten forgot changed sent "
    "working required missing please for to and or it this that rules never didn't doesn't isn't "
    "wasn't won't can't again anymore leaked stolen hacked compromised exposed lost locked blocked "
    "same different new old also too still here there".split()
)
_ACCOUNT_CUE_RE = re.compile(
    r"(?:微信号?|QQ号?|qq号?|用户名|账号|帐号|会员名|昵称|"
    r"(?<![A-Za-z0-9])(?:wechat(?: id)?|qq|whatsapp|telegram|skype|instagram|twitter|username|"
    r"user name|user id|handle|login|account(?: name| id)?)(?![A-Za-z]))"
    r"(?:\s+(?:is|was)\s+|\s*[:：=]\s*|\s*(?:是|为)\s*|\s+)",
    re.IGNORECASE,
)
_ACCOUNT_TOKEN_RE = re.compile(r"@?[A-Za-z0-9][A-Za-z0-9_.\-]{2,40}")

# -- e-mail addresses and URLs with a user ------------------------------------------------------------

_EMAIL_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._%+\-]*\s?[@＠]\s?[A-Za-z0-9\-]+(?:[.。][A-Za-z0-9\-]+)+")
_HANDLE_RE = re.compile(r"(?<![A-Za-z0-9_.@\x00])@[A-Za-z0-9_][A-Za-z0-9_.]{2,30}")
_TLDS = "com|net|org|cn|edu|gov|io|co|uk|de|jp|hk|tw|me|info|biz|us|ca|au"
_SPOKEN_EMAIL_RE = re.compile(
    rf"(?<![A-Za-z])[A-Za-z0-9][A-Za-z0-9._\-]*(?:\s+(?:dot|underscore|dash|hyphen)\s+[A-Za-z0-9]+)*"
    rf"\s+(?:at|艾特|圈a)\s+[A-Za-z0-9\-]+(?:\s+(?:dot|点)\s+[A-Za-z0-9\-]+)*\s+(?:dot|点)\s+(?:{_TLDS})(?![A-Za-z])",
    re.IGNORECASE,
)
_URL_USER_RE = re.compile(
    r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]*://(?P<user>[^\s/@:]+(?::[^\s/@]*)?)@"
)

# -- names after a cue --------------------------------------------------------------------------------

# Cues after which the next words are a name whatever they look like.
_EN_NAME_STRONG_RE = re.compile(
    r"(?<![A-Za-z0-9'])(?:my name is|my name's|name is|name's|names|name|full name|first name|last name|"
    r"surname|family name|given name|call me|recipient|addressed to|under the name(?: of)?|in the name of|"
    r"named|cardholder|card holder|account holder|attn|attention|spelled|spelt|signed|mr|mrs|ms|dr|mister)"
    r"(?![A-Za-z])[.:]?\s*(?:is\s+|was\s+)?",
    re.IGNORECASE,
)
# Cues after which a name is likely but so is anything else (I'm looking, this is about): the first
# word has to be a known given name or written with a capital.
_EN_NAME_INTRO_RE = re.compile(r"(?<![A-Za-z0-9'])(?:i'm|i am|im|this is)\s+", re.IGNORECASE)
_EN_NAME_WEAK_RE = re.compile(
    r"(?<![A-Za-z0-9'])(?:it's|it is|he's|she's|my (?:wife|husband|son|daughter|mother|father|mom|"
    r"dad|friend|brother|sister|partner|colleague|boss)(?: is)?|hi|hello|dear|thanks|thank you|regards|"
    r"miss|ask for|speak to|speaking to|speaking with|talk to|talking to|talked to|spoke to|spoke with)\s+",
    re.IGNORECASE,
)
# Cues after which only a known given name counts ("from sarah", "for james"): a capital there is
# mostly a place or a brand (from Shanghai, with SF Express).
_EN_NAME_KNOWN_RE = re.compile(r"(?<![A-Za-z0-9'])(?:from|for|with|and|by|to)\s+", re.IGNORECASE)
_EN_NAME_WORD_RE = re.compile(r"[A-Za-z][A-Za-z'’\-]*")
_EN_NAME_STOP = frozenset(
    "calling speaking here from and or the a an of my your our his her their to for with at on in about "
    "regarding is was i i'm im it it's this that please thanks thank so but just um uh er calling "
    "monday tuesday wednesday thursday friday saturday sunday january february march april may june "
    "july august september october november december christmas".split()
)
# Given names that are also everyday words or places: only after a cue.
_AMBIGUOUS_NAMES = frozenset(
    "mark frank jack bill max rose grace amber ruby holly ivy iris jade lily pat sue jean carol hunter "
    "austin christian victoria virginia jasmine jordan will may june april august dawn hope joy summer "
    "autumn chase guy rich drew art ray".split()
)
_EN_WORD_RE = re.compile(r"(?<![A-Za-z'’])[A-Za-z][A-Za-z'’\-]*(?![A-Za-z])")
_PINYIN_INITIALS = "b p m f d t n l g k h j q x zh ch sh r z c s y w".split()
_PINYIN_FINALS = (
    "a o e ai ei ao ou an en ang eng ong er i ia ie iao iu ian in iang ing iong u ua uo uai ui uan un "
    "uang ue ve v van vn".split()
)
_PINYIN = frozenset([*_PINYIN_FINALS, *(i + f for i in _PINYIN_INITIALS for f in _PINYIN_FINALS)])
_PINYIN_PAIR_RE = re.compile(r"(?<![A-Za-z])[A-Z][a-z]{0,6}(?:[ \-][A-Z][a-z]{0,6}){1,2}(?![A-Za-z])")
_NOT_PINYIN_NAMES = frozenset({"hong kong", "huawei mate", "xiaomi mi", "tai chi", "kung fu", "wi fi"})
_SPELLED_RE = re.compile(r"(?<![A-Za-z])(?:[A-Za-z](?:[ .\-]{1,2})){3,}[A-Za-z](?![A-Za-z])")
_SPELL_CUE_RE = re.compile(r"spell|spelt|name|surname|拼写|拼音|字母", re.IGNORECASE)

_ZH_NAME_CUES = (
    "我叫", "叫我", "名叫", "叫做", "我的名字是", "我的名字叫", "名字是", "名字叫", "姓名", "真实姓名",
    "收件人", "收货人", "联系人", "寄件人", "发件人", "持卡人", "开户名", "户名", "开户人", "签收人",
    "代收人", "本人是", "称呼", "全名", "实名", "机主", "下单人", "购买人", "付款人", "收款人", "申请人",
    "登记人", "入住人", "乘车人", "我老公", "我老婆", "我爱人", "我妈", "我爸", "我儿子", "我女儿",
    "我朋友", "我同事",
)  # fmt: skip
_ZH_NAME_CUE_RE = re.compile(
    rf"(?:{words_pattern(_ZH_NAME_CUES)})(?:信息)?[\s,，]{{0,2}}(?P<said>是|叫|为|写的是|写的|[:：])?[\s:：]{{0,2}}"
)
# A role noun ending in 人 (收礼人, 用药人, 代收人): the words after it are often a name.
_ZH_ROLE_RE = re.compile(
    r"[\u4e00-\u9fff]{1,2}人(?:信息|那一栏|一栏)?(?:填的是|填的|写的是|写的|是|叫|为)?[\s:：]{0,2}"
)
# A short segment on its own (between punctuation or spaces, before Latin or 和/的/名下): a name when it
# starts with a surname and is no dictionary word (…，田甜，… / —— 陆子昂 / 刘洋和…).
_ZH_BOUNDARY = "\\s，,。.!！?？、；;：:（()）“”\"'—/|\x00"
_ZH_SEGMENT_RE = re.compile(
    rf"(?:^|(?<=[{_ZH_BOUNDARY}]))[\u4e00-\u9fff]{{2,4}}"
    rf"(?=$|[{_ZH_BOUNDARY}0-9０-９A-Za-z]|和|跟|与|的|(?P<told>名下|敬上|家吗))"
)
_ZH_SELF_RE = re.compile(
    r"(?:我是|我这边是|这里是|本人|是|转给|交给|转交|找|打给|寄给|送给|问问|联系|告诉|收[:：])[\s:：]{0,2}"
)
_ZH_SURNAME_CUE_RE = re.compile(r"(?:我姓|免贵姓|姓)[\s:：]{0,2}")
_ZH_HONORIFIC_RE = re.compile(r"(?:先生|女士|小姐|太太|夫人|老师|师傅|经理)")
_LATIN_RE = re.compile(r"[A-Za-z]")
_LETTER_WORD_RE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]+(?![A-Za-z0-9])")
_CJK_RE = re.compile(r"[\u4e00-\u9fff]")
_CJK_RUN_RE = re.compile(r"[\u4e00-\u9fff·•]{1,6}")
_LATIN_NAME_RE = re.compile(r"[A-Za-z][A-Za-z'’\-]*(?:\s[A-Za-z][A-Za-z'’\-]*){0,2}")


@dataclass(frozen=True, slots=True)
class Found:
    """One span the egress pass masks: ``text[start:end]`` of the text it was given, and why."""

    start: int
    end: int
    type: EntityType
    rule: str


def _blank_placeholders(text: str) -> str:
    return _PLACEHOLDER_RE.sub(lambda m: _BLANK * len(m.group()), text)


def _protected(text: str) -> list[tuple[int, int]]:
    """Dates and times (valid ones): not personal here, and what a model needs to answer."""
    spans = []
    for m in _DATE_RE.finditer(text):
        month = int(m.group("m") or m.group("m2"))
        day = int(m.group("d") or m.group("d2"))
        if 1 <= month <= 12 and 1 <= day <= 31:
            spans.append(m.span())
    spans.extend(m.span() for m in _TIME_RE.finditer(text))
    return spans


def _inside(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(s <= start and end <= e for s, e in spans)


def _is_amount(text: str, start: int, end: int) -> bool:
    """A single number (1,299.00 / 12999) with a currency before it or a unit after it."""
    if _AMOUNT_RE.fullmatch(to_ascii_digits(text[start:end])) is None:
        return False
    return bool(_CURRENCY_BEFORE_RE.search(text, max(0, start - 5), start) or _UNIT_AFTER_RE.match(text, end))


def _number_type(digits: str, raw: str) -> EntityType:
    """The likeliest type of a digit run by its length alone (the engine already tried harder)."""
    n = len(digits)
    if (n == 11 and digits[0] == "1") or (n == 13 and digits.startswith("861")) or n == 10:
        return EntityType.PHONE
    if n in (15, 18) or (n == 18 and digits.endswith("X")):
        return EntityType.ID_CARD
    if 16 <= n <= 19:
        return EntityType.BANK_CARD
    if n == 9 and re.fullmatch(r"[0-9]{3}[ -][0-9]{2}[ -][0-9]{4}", raw.strip()):
        return EntityType.US_SSN
    return EntityType.CREDENTIAL


def _letter_before(text: str, start: int) -> int:
    """Start of a single letter read out before the digits (E 一二三四五六七八, "e one two ...")."""
    k = start
    if k > 0 and text[k - 1] in " -":
        k -= 1
    if k > 0 and text[k - 1].isascii() and text[k - 1].isalpha() and text[k - 1] not in "aAiI":
        if k - 1 == 0 or not (text[k - 2].isascii() and text[k - 2].isalnum()):
            return k - 1
    return start


def _numbers(text: str, protected: list[tuple[int, int]]) -> Iterator[Found]:
    # Dates and times blanked out of the digits' view, so 2024-12-01 10:30 is not one long run.
    view = text
    for s, e in protected:
        view = view[:s] + _BLANK * (e - s) + view[e:]
    norm = to_ascii_digits(view)
    for run in find_runs(view, norm=norm):
        digits = run.digits
        need = MIN_SPOKEN_DIGITS if run.spoken else MIN_DIGITS
        if len(digits) < need or _inside(run.start, run.end, protected):
            continue
        if _is_amount(text, run.start, run.end):
            continue
        if run.spoken and len(digits) == 4 and text.startswith("年", run.end):
            continue  # 二零二四年: a year
        start = _letter_before(text, run.start)
        passport = start < run.start and 7 <= len(digits) <= 10
        kind = EntityType.PASSPORT if passport else _number_type(digits, text[run.start : run.end])
        yield Found(start, run.end, kind, "digits")
    # The engine's reading of English digits first; then runs with teens and tens it does not read
    # ("five five five twenty one thirty four"), counted as two digits a word.
    engine = [(r.start, r.end, r.digits) for r in find_english_runs(view)]
    english = list(engine)
    for m in _EN_NUMBER_RUN_RE.finditer(view):
        if any(s <= m.start() and m.end() <= e for s, e, _ in engine):
            continue
        count = sum(_EN_NUMBER_WORDS.get(p.lower(), len(p)) for p in _EN_NUMBER_PIECE_RE.findall(m.group()))
        english.append((m.start(), m.end(), "?" * count))
    for start, end, digits in english:
        if len(digits) < MIN_SPOKEN_DIGITS or _UNIT_AFTER_RE.match(text, end):
            continue
        if not re.search(r"[A-Za-z]", text[start:end]):
            continue  # plain digits: handled above
        lead = _letter_before(text, start)
        kind = _number_type(digits, "") if "?" not in digits else EntityType.CREDENTIAL
        passport = lead < start and 7 <= len(digits) <= 10
        yield Found(lead, end, EntityType.PASSPORT if passport else kind, "spoken")


def _codes(text: str) -> Iterator[Found]:
    for m in _CODE_RE.finditer(text):
        token = m.group().rstrip(".")
        if len(token) < MIN_CODE_LENGTH or _MEASURE_TOKEN_RE.fullmatch(token):
            continue
        digits = sum(ch.isdigit() for ch in token)
        letters = sum(ch.isalpha() for ch in token)
        if not digits or not letters:
            continue
        random_looking = (
            len(token) >= 12 and any(c.isupper() for c in token) and any(c.islower() for c in token)
        )
        if digits < 3 and not random_looking:
            continue  # iPhone15, Pixel8a, COVID-19: names of things
        kind = EntityType.PASSPORT if _PASSPORT_SHAPE_RE.fullmatch(token) else EntityType.CREDENTIAL
        yield Found(m.start(), m.start() + len(token), kind, "code")


def _secret_at(text: str, pos: int, *, words: bool) -> Found | None:
    """The value right after a credential cue: digits (spoken or not) or one printable token; a plain
    word only when ``words`` (after "password is", 密码是: a password may be a word)."""
    window = text[pos : pos + 80]
    spoken = next(find_runs(window), None)
    if spoken is None or spoken.start != 0:
        spoken = next(iter(find_english_runs(window)), None)
    if spoken is not None and spoken.start == 0 and len(spoken.digits) >= 3:
        after = window[spoken.end : spoken.end + 1]
        if not (after.isascii() and after.isalnum()):
            return Found(pos, pos + spoken.end, EntityType.CREDENTIAL, "secret")
        if spoken.spoken:  # 幺三八john: read-out digits and typed letters, one password
            rest = _ASCII_TOKEN_RE.match(text, pos + spoken.end)
            end = rest.end() if rest is not None else pos + spoken.end
            return Found(pos, end, EntityType.CREDENTIAL, "secret")
    m = _SECRET_TOKEN_RE.match(text, pos)
    if m is None:
        return None
    token = m.group().rstrip(_TRAILING)
    lower = token.lower()
    if not any(ch.isalnum() for ch in token):
        return None  # ****** : already masked by the customer
    if len(token) < 3 or lower in _NOT_SECRETS or lower in get_lexicon().en_common:
        return None
    if not words and not any(ch.isdigit() or not ch.isalnum() for ch in token):
        return None  # "the code arrives", "code of conduct": a plain word after the cue is prose
    return Found(pos, pos + len(token), EntityType.CREDENTIAL, "secret")


def _secrets(text: str, *, latin: bool) -> Iterator[Found]:
    for m in _ZH_SECRET_CUE_RE.finditer(text):
        found = _secret_at(text, m.end(), words=True)
        if found is not None:
            yield found
    if not latin:
        return
    for m in _EN_SECRET_CUE_RE.finditer(text):
        found = _secret_at(text, m.end(), words=bool(m.group("password") and m.group("said")))
        if found is not None:
            yield found
    for m in _KEY_VALUE_RE.finditer(text):
        yield Found(m.start("value"), m.end("value"), EntityType.CREDENTIAL, "secret")
    for m in _ACCOUNT_CUE_RE.finditer(text):
        token = _ACCOUNT_TOKEN_RE.match(text, m.end())
        if token is None:
            continue
        value = token.group().rstrip(_TRAILING)
        if value.lower() in get_lexicon().en_common or value.lower() in _NOT_SECRETS:
            continue
        if not any(ch.isdigit() or ch in "_@." for ch in value):
            continue  # "account is locked": a plain word after the cue is prose
        yield Found(m.end(), m.end() + len(value), EntityType.CREDENTIAL, "account")
    for m in _URL_USER_RE.finditer(text):
        yield Found(m.start("user"), m.end("user"), EntityType.CREDENTIAL, "url-user")


def _emails(text: str) -> Iterator[Found]:
    for m in _EMAIL_RE.finditer(text):
        yield Found(m.start(), m.end(), EntityType.EMAIL, "email")
    for m in _SPOKEN_EMAIL_RE.finditer(text):
        yield Found(m.start(), m.end(), EntityType.EMAIL, "email")
    for m in _HANDLE_RE.finditer(text):
        yield Found(m.start(), m.end(), EntityType.CREDENTIAL, "account")


NameEvidence = Literal["strong", "intro", "weak", "known"]


_FILLERS_RE = re.compile(r"(?:(?:um+|uh+|er+|erm|ah+|hmm+|like|you know|well|so|yeah)[ ,]+)+", re.IGNORECASE)
# In lower-case transcripts a capital says nothing: after "i'm" a word that is neither frequent nor
# shaped like an adjective or a verb form is taken for a name (i'm chidi; not i'm confused).
_NOT_NAME_SHAPE_RE = re.compile(r".*(?:ed|ing|ly|ful|ous|ive|able|ible|less|ish|est|er|ant|ent|ry|ty|en)$")
_NOT_NAMES_EN = frozenset(
    "sure fine good unable upset angry happy sorry confused frustrated annoyed not afraid aware able "
    "ready done stuck lost calling trying back away out new fed tired mad okay alright just still "
    "password passcode pin code email phone number order account".split()
)


def _en_name_after(text: str, pos: int, *, evidence: NameEvidence) -> Found | None:
    lex = get_lexicon()
    filler = _FILLERS_RE.match(text, pos)
    if filler is not None:
        pos = filler.end()  # my name is uh kenneth
    # Letters of codes (E1234567, 12345GB) do not make a transcript cased.
    lowercase = not any(ch.isupper() for w in _LETTER_WORD_RE.findall(text) for ch in w)
    end = pos
    words = 0
    for m in _EN_NAME_WORD_RE.finditer(text, pos):
        gap = text[end : m.start()]
        if words and (len(gap) > 2 or any(ch not in " ,-" for ch in gap) or "," in gap):
            break
        if not words and m.start() != pos:
            break
        word = m.group().rstrip("'’-")
        lower = word.lower()
        if lower in lex.en_common or lower in _EN_NAME_STOP:
            break
        if not words and evidence != "strong" and lower not in lex.en_first_names:
            if evidence == "known":
                return None
            if lowercase and evidence == "intro":
                if lower in _NOT_NAMES_EN or _NOT_NAME_SHAPE_RE.match(lower) or len(lower) < 3:
                    return None
            elif not word[0].isupper():
                return None
        end = m.start() + len(word)
        words += 1
        if words == 3:
            break
    if not words:
        return None
    return Found(pos, end, EntityType.PERSON, "name")


def _zh_name_after(text: str, pos: int, *, surname_first: bool, weak: bool = False) -> Found | None:
    """A Chinese name at ``pos``: it must start with a surname when ``surname_first`` (我是王伟; 收件人
    写错了 is no name), otherwise anything that is not a dictionary word (收件人是玛丽). After a ``weak``
    cue (是, 找, 转给) it must also be made of characters seen in names, and Latin words are not names
    (是iPhone)."""
    lex = get_lexicon()
    latin = _LATIN_NAME_RE.match(text, pos)
    if latin is not None:
        if weak:
            return None
        return _en_name_after(text, pos, evidence="strong")
    m = _CJK_RUN_RE.match(text, pos)
    if m is None:
        return None
    run = m.group()
    surname = run[0] in lex.surnames or run[:2] in lex.compound_surnames
    if run[0] in lex.stop_chars or (surname_first and not surname):
        return None
    # A name is two or three characters (four with a compound surname); it ends where a character
    # that starts the next words begins (的, 是, 电话, 手机 …), but never before its second character.
    limit = 4 if run[:2] in lex.compound_surnames else 3
    n = 1
    while n < min(limit, len(run)) and (n < 2 or run[n] not in lex.stop_chars):
        if _ZH_HONORIFIC_RE.match(run, n):
            break
        n += 1
    name = run[:n]
    if any(name[:k] in _not_names_zh() for k in range(2, n + 1)):
        return None  # 国行, 李宁: a word or a brand
    if surname_first and n < 2:
        return None  # 没人管: one character after a cue is a word, not a name
    given = name[2:] if name[:2] in lex.compound_surnames else name[1:]
    if weak and not all(ch in lex.given_chars and ch not in lex.stop_chars for ch in given):
        return None  # 是史上最, 找客服
    # A surname first: a name unless the start is a word (马上, 会员); otherwise only if no word at all.
    if name in lex.very_common or (run[:2] in lex.words if surname else name in lex.words):
        return None
    return Found(pos, pos + n, EntityType.PERSON, "name")


@functools.cache
def _not_names_zh() -> frozenset[str]:
    """Brands and words that start like a name (李宁, 周大福, 敬上): the engine's shipped list."""
    return frozenset(data_words("not_names_zh.txt"))


def _zh_segment_name(segment: str, *, told: bool = False) -> bool:
    lex = get_lexicon()
    not_names = _not_names_zh()
    if any(segment[:k] in not_names for k in range(2, len(segment) + 1)):
        return False
    compound = segment[:2] in lex.compound_surnames
    if not (compound or segment[0] in lex.surnames) or len(segment) > (4 if compound else 3):
        return False
    given = segment[2:] if compound else segment[1:]
    # No cue here, so every given-name character must be one seen in names (查一下, 哈喽, 花呗 are not),
    # unless what follows says it is a name (名下, 敬上); a compound surname (欧阳, 司马) is evidence
    # enough on its own.
    if not (compound or told) and not all(ch in lex.given_chars for ch in given):
        return False
    if any(ch in lex.stop_chars for ch in given):
        return False
    # 叶子琪 starts with a word and is a name; 周末 is only a word.
    return segment not in lex.words and (compound or len(segment) > 2 or segment[:2] not in lex.words)


def _is_pinyin(word: str, depth: int = 0) -> bool:
    """``word`` (lower case) split into one to three pinyin syllables: Zhang, Xiaoming, Ouyang."""
    if not word:
        return depth > 0
    if depth == 3:
        return False
    return any(
        word[:k] in _PINYIN and _is_pinyin(word[k:], depth + 1) for k in range(min(6, len(word)), 0, -1)
    )


def _en_names_alone(text: str) -> Iterator[Found]:
    """Names with no cue: a known given name (and the surname after it), a pair of pinyin words."""
    lex = get_lexicon()
    cased = any(ch.isupper() for ch in text)
    for m in _EN_WORD_RE.finditer(text):
        lower = m.group().lower()
        if lower not in lex.en_first_names or lower in _AMBIGUOUS_NAMES or lower in lex.en_common:
            continue
        end = m.end()
        nxt = _EN_WORD_RE.match(text, end + 1) if text[end : end + 1] == " " else None
        if nxt is not None:
            word = nxt.group()
            low = word.lower()
            surname_like = word[0].isupper() if cased else not low.endswith(("ed", "ing"))
            if surname_like and low not in lex.en_common and low not in _EN_NAME_STOP:
                end = nxt.end()
        yield Found(m.start(), end, EntityType.PERSON, "given-name")
    for m in _PINYIN_PAIR_RE.finditer(text):
        words = re.split(r"[ \-]", m.group().lower())
        if " ".join(words) in _NOT_PINYIN_NAMES or any(len(w) < 2 or w in lex.en_common for w in words):
            continue  # "Can I", "He Is": English words, not syllables
        if not all(_is_pinyin(w) for w in words):
            continue
        yield Found(m.start(), m.end(), EntityType.PERSON, "pinyin")


def _en_names(text: str) -> Iterator[Found]:
    cues: list[tuple[re.Pattern[str], NameEvidence]] = [
        (_EN_NAME_STRONG_RE, "strong"),
        (_EN_NAME_INTRO_RE, "intro"),
        (_EN_NAME_WEAK_RE, "weak"),
        (_EN_NAME_KNOWN_RE, "known"),
    ]
    for pattern, evidence in cues:
        for m in pattern.finditer(text):
            found = _en_name_after(text, m.end(), evidence=evidence)
            if found is not None:
                yield found
    for m in _SPELLED_RE.finditer(text):
        named = _SPELL_CUE_RE.search(text, max(0, m.start() - 40), m.start())
        yield Found(m.start(), m.end(), EntityType.PERSON if named else EntityType.CREDENTIAL, "spelled")
    yield from _en_names_alone(text)


def _zh_names(text: str) -> Iterator[Found]:
    lex = get_lexicon()
    for m in _ZH_NAME_CUE_RE.finditer(text):
        found = _zh_name_after(text, m.end(), surname_first=m.group("said") is None)
        if found is not None:
            yield found
    for m in _ZH_ROLE_RE.finditer(text):
        found = _zh_name_after(text, m.end(), surname_first=True)
        if found is not None:
            yield found
    for m in _ZH_SEGMENT_RE.finditer(text):
        before = text[: m.start()].rstrip()
        if before[-1:].isdigit() or text[m.start() - 1 : m.start()] == _BLANK:
            continue  # 99 元包邮, <CREDENTIAL_1>元: a unit after a number
        told = m.group("told") is not None or before.endswith("—")  # 徐凤英名下 / —— 陆子昂
        if _zh_segment_name(m.group(), told=told):
            yield Found(m.start(), m.end(), EntityType.PERSON, "segment")
    for m in _ZH_SELF_RE.finditer(text):
        found = _zh_name_after(text, m.end(), surname_first=True, weak=True)
        if found is not None:
            yield found
    for m in _ZH_SURNAME_CUE_RE.finditer(text):
        pos = m.end()
        if text.startswith("名", pos) or text.startswith("别", pos):
            continue  # 姓名 is a cue of its own; 性别 is not a name
        width = 2 if text[pos : pos + 2] in lex.compound_surnames else 1
        if pos < len(text) and (text[pos] in lex.surnames or width == 2):
            yield Found(pos, pos + width, EntityType.PERSON, "surname")
    for m in _ZH_HONORIFIC_RE.finditer(text):
        s = m.start()
        if s >= 1 and text[s - 1] in lex.surnames and text[max(0, s - 2) : s] not in lex.words:
            yield Found(s - 1, s, EntityType.PERSON, "surname")


def find(text: str) -> list[Found]:
    """Everything the egress pass would mask in ``text``; existing placeholders are never touched."""
    blanked = _blank_placeholders(text)
    protected = _protected(blanked)
    # Rules of a script the text does not use are skipped: most messages are all Chinese or all English.
    latin = _LATIN_RE.search(blanked) is not None
    cjk = _CJK_RE.search(blanked) is not None
    found: list[Found] = []
    rules = [_numbers(blanked, protected), _secrets(blanked, latin=latin)]
    if latin:
        rules += [_codes(blanked), _emails(blanked)]
    for rule in rules:
        found.extend(f for f in rule if not _inside(f.start, f.end, protected))
    if latin:
        found.extend(_en_names(blanked))
    if cjk:
        found.extend(_zh_names(blanked))
    # A rule may run into a neighbouring placeholder's blanked characters (a name cue right before
    # one); trim so the placeholder survives intact.
    out = []
    for f in found:
        start, end = f.start, f.end
        while start < end and blanked[start] in (_BLANK, " "):
            start += 1
        while end > start and blanked[end - 1] in (_BLANK, " "):
            end -= 1
        if end > start and _BLANK not in blanked[start:end]:
            out.append(Found(start, end, f.type, f.rule))
    return sorted(out, key=lambda f: (f.start, f.end))


@dataclass(frozen=True, slots=True)
class Masked:
    text: str
    found: tuple[Found, ...]


def mask(text: str, vault: PlaceholderVault) -> Masked:
    """``text`` with everything :func:`find` reports replaced by ``vault``'s placeholders."""
    found = find(text)
    if not found:
        return Masked(text, ())
    entities = [Entity(f.start, f.end, f.type, 0.5) for f in found]
    return Masked(anonymize(text, entities, default="placeholder", vault=vault).text, tuple(found))
