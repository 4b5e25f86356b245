"""The input guard and the output guard: run the scanners, pick one decision, explain it safely.

InputGuard: rate limits first (every attempt counts), then size and well-formedness (an oversized
or broken text is not scanned further), then every content scanner (the learned classifier's vote
may tip a near miss over); the strongest finding decides, ties go to registry order. When no rule
fires, the classifier blocks on its own at or above its block threshold.
OutputGuard: prompt leaks and forbidden content block; personal data that is not the current
customer's is masked (or blocks, by configuration). Reasons name scanners, signals and counts only.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

from guardline.config import Settings, get_settings
from guardline.errors import BadInput
from guardline.guard import classifier
from guardline.guard.decision import ALLOW, Action, Category, Finding, GuardDecision
from guardline.guard.normalize import Views
from guardline.guard.ratelimit import RateLimiter, RateLimits
from guardline.guard.scanners import (
    INPUT_SCANNERS,
    ForbiddenContentScanner,
    InputContext,
    InputScanner,
    MalformedScanner,
    OutputContext,
    OutputResult,
    OutputScanner,
    PiiLeakScanner,
    PromptLeakScanner,
    SizeScanner,
)
from guardline.guard.scanners.base import MODEL_MIN_PROBA, MODEL_WEIGHT
from guardline.guard.scanners.pii_leak import own_keys
from guardline.pii.engine import MAX_TEXT_CHARS


def _block(findings: Sequence[Finding]) -> GuardDecision:
    top = max(findings, key=lambda f: f.score)  # max() keeps the first of equal scores
    return GuardDecision(Action.BLOCK, top.category, top.reason, tuple(findings))


def _check_text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise BadInput(f"{what} must be a string, not {type(value).__name__}")
    return value


class InputGuard:
    def __init__(
        self,
        *,
        scanners: Sequence[InputScanner] | None = None,
        size: SizeScanner | None = None,
        malformed: MalformedScanner | None = None,
        limiter: RateLimiter | None = None,
        model: classifier.Model | Literal[False] | None = None,
    ) -> None:
        """``model``: the learned classifier; None loads the shipped one, False runs rules only."""
        self.scanners = tuple(
            scanners if scanners is not None else (make() for make in INPUT_SCANNERS.values())
        )
        self.size = size or SizeScanner()
        self.malformed = malformed or MalformedScanner()
        self.limiter = limiter
        self.model = shipped_model() if model is None else model or None

    def scan(
        self,
        text: str,
        *,
        customer: str | None = None,
        source: str | None = None,
        credential: str | None = None,
        lang: str | None = None,
    ) -> GuardDecision:
        """Decide on one customer message. ``customer``/``source``/``credential`` feed the rate limits."""
        text = _check_text(text, "message")
        if self.limiter is not None:
            limited = self.limiter.hit(customer=customer, source=source, credential=credential)
            if limited is not None:
                return _block([limited])
        oversized = self.size.check(text)
        if oversized is not None:
            return _block([oversized])
        views = Views(text)
        model = self.model
        ctx = InputContext(
            lang=lang,
            text=text,
            # The model reads every natural-language view and keeps the one most like an attack.
            model=(lambda _text: model.proba_views(views.language)) if model else None,
            tip_threshold=model.tip_threshold if model else MODEL_MIN_PROBA,
            tip_weight=model.tip_weight if model else MODEL_WEIGHT,
        )
        # Broken text is refused as such: scanning it for meaning costs time and proves nothing.
        broken = self.malformed.scan(views, ctx)
        if broken is not None:
            return _block([broken])
        findings = [f for s in self.scanners if (f := s.scan(views, ctx)) is not None]
        # A weak rule signal tipped over by the model is the model's judgement too: the customer's own
        # things are exempt from it as from the model's lone block.
        findings = [f for f in findings if not ("model" in f.signals and _self_disclosure(f, views.folded))]
        if not findings and model is not None:
            alone = _model_finding(ctx.proba() or {}, model.block_threshold)
            if alone is not None and not _self_disclosure(alone, views.folded):
                findings.append(alone)
        return _block(findings) if findings else ALLOW


# A customer giving their own details ("我叫…，手机号…，退货运费谁出？", "my phone is …") is not asking
# for someone else's: the model, which reads words, not whose they are, confused the two (found by the
# bot's privacy corpus, not by a guard split). Without a rule's evidence, first-person disclosure with
# no third party in it is not refused as other customers' data. "我是…" and "I'm …" alone are not a
# disclosure but the opening of a claim ("我是市场监管局的", "I'm the nanny", and "告诉我是谁下的单"
# holds 我是 too): only being the account's holder counts. A role claimed in the first person
# ("我是快递员", "I'm a police officer", "I'm her landlord"), a relative, a given phone or ID
# number ("这个手机号…") and "who" (是谁, 谁下的单, who sent it) are the opening of a request for
# someone else's data: they count as others (without roles the exemption let 37 out-of-fold attacks
# like those through; with "我是" as a disclosure it let organisations' role claims through).
_SELF = re.compile(
    r"我叫|我的|本人|我是(?:这个)?(?:账号|账户|帐号)的?(?:本人|主人|持有人)|"
    r"我(?:自己)?(?:的)?(?:账号|账户|帐号|名下|地址簿|手机号)|(?:收集|保存|存)了?我|我(?:哪些|什么)(?:个人)?信息|"
    r"\bmy (name|phone|number|mobile|email|e-mail|address|card|own|account|data|information|details)\b|"
    r"\bon my account\b|\bi live\b|\bi'?m the account (?:holder|owner)\b",
    re.I,
)
_KIN = (
    r"老婆|老公|妻子|丈夫|爱人|媳妇|爸|妈|父亲|母亲|儿子|女儿|孩子|小孩|姐|哥|弟|妹|爷爷|奶奶|外婆|外公|姥姥|姥爷|"
    r"家人|家里人|室友|\b(?:wife|husband|mum|mom|mother|dad|father|son|daughter|kid|child|sister|brother|"
    r"grandma|grandmother|grandpa|grandfather|roommate|flatmate|partner)s?\b"
)
# Relatives and roommates (_KIN) count as others here. "所有" and "all" alone are the customer's
# own things too (我账号下所有的地址, all my orders); with people they are others.
_OTHERS = re.compile(
    r"他|她|别人|其他|另一|朋友|同事|客户|顾客|用户|住户|这个人|那个人|的人|(?:所有|全部)的?(?:人|会员|买家|乘客|学员)|"
    r"大家|不是我的|买家|收件人|女友|男友|女朋友|男朋友|前任|队友|同学|乘客|机主|患者|病人|学员|"
    r"收货人|寄件人|邻居|隔壁|租客|房客|房东|物业|前夫|前妻|对象|警察|民警|警官|派出所|法院|"
    r"律师|快递员|快递点|快递站|网点|驿站|运营|商家|店主|主管|团长|催收|调查|监管|记者|保姆|医院|主人|购买者|下单人|"
    r"是谁|谁的|谁(?:下|买|寄|订|付|送)|有人|这个(?:手机号|手机|电话|号码|身份证|邮箱)|" + _KIN + "|"
    r"\b(his|her|their|someone|somebody|another|other|customer|user|person|colleague|friend|buyer|recipient|"
    r"everyone|everybody|anyone|all (?:the )?(?:customers|users|buyers|people|members|passengers)|people|"
    r"not mine|store owner|shop owner|manager|supervisor|whose|"
    r"who (?:sent|ordered|bought|placed|paid|booked|is)|journalist|reporter|nanny|babysitter|"
    r"sender|neighbou?r|tenant|landlord|ex|girlfriend|boyfriend|police|officer|"
    r"detective|investigator|courier|driver|lawyer|attorney|collector|agency|auditor|teammate|classmate|"
    r"passenger|patient|previous|this (?:number|phone number|email|id))s?\b",
    re.I,
)
# Asking on a relative's behalf about their order, with its number ("帮我妈查一下她的快递，订单号…",
# "my dad asked me to check his return, order 2026…"), is the shop's everyday proxy, and the order
# number is the proof a shop asks for: it is spared as the customer's own things are. Asking for the
# relative's personal data (their address, phone, where they live, who they are, what they bought) is
# not, and neither is any stranger or role besides the relative.
_PROXY_KIN = re.compile(_KIN, re.I)
_ORDER_REF = re.compile(
    r"订单号|单号|运单|\d{10,}|\border (?:number|no\.?|#|id)\b|\border #?\d|\btracking (?:number|no)\b", re.I
)
_PERSONAL = re.compile(
    r"地址|住址|住哪|在哪住|手机号|电话|联系方式|身份证|姓名|名字|叫什么|邮箱|是谁|买了什么|买过|购买记录|消费记录|"
    r"充值记录|\b(?:address|phone|email|contact|name|where (?:she|he|they) lives?|who|whose|"
    r"what (?:did )?(?:she|he|they) (?:buy|bought|order)|purchase history)",
    re.I,
)
# What the customer already holds and hands over ("I have the order number and his phone", "我这有
# 她的手机号") is no request for it: it is read out before the personal-data check.
_HELD = re.compile(
    r"(?:\bi have(?: got)?|\bi've got|\bi can give you|\bi'?ll (?:send|give) you|\bhere(?: i|')s|"
    r"我(?:这里?|手上|手里)?有|我(?:发|给)你)[^.。,，;；!?！？]{0,40}",
    re.I,
)
_KIN_AND_PRONOUNS = re.compile(_KIN + r"|(?<!其)[他她](?!们)|\b(?:he|she|him|his|her|hers)\b", re.I)


def _self_disclosure(finding: Finding, text: str) -> bool:
    if finding.category is not Category.OTHER_CUSTOMER_DATA:
        return False
    if _SELF.search(text) is not None and _OTHERS.search(text) is None:
        return True
    return (
        _PROXY_KIN.search(text) is not None
        and _ORDER_REF.search(text) is not None
        and _PERSONAL.search(_HELD.sub(" ", text)) is None
        and _OTHERS.search(_KIN_AND_PRONOUNS.sub(" ", text)) is None
    )


def _model_finding(proba: Mapping[str, float], threshold: float) -> Finding | None:
    """The model blocks alone when it is this sure the message is an attack; it names the likeliest."""
    attack = 1.0 - proba.get("benign", 1.0)
    if attack < threshold:
        return None
    top = max(classifier.ATTACK_CLASSES, key=lambda c: proba.get(c, 0.0))
    category = Category(top)
    reason = f"{category.value}: model (attack p {attack:.2f} >= {threshold:.2f})"
    return Finding(category, attack, reason, ("model-alone",))


class OutputGuard:
    def __init__(
        self,
        *,
        scanners: Sequence[OutputScanner] | None = None,
        pii_action: Literal["sanitize", "block"] = "sanitize",
    ) -> None:
        self.scanners = tuple(
            scanners
            if scanners is not None
            else (PromptLeakScanner(), ForbiddenContentScanner(), PiiLeakScanner())
        )
        self.pii_action = pii_action

    def scan(
        self,
        reply: str,
        *,
        own_values: Iterable[str] = (),
        system_prompt: str | None = None,
        canaries: Iterable[str] = (),
    ) -> GuardDecision:
        """Decide on one bot reply to the current customer, whose own values are ``own_values``."""
        reply = _check_text(reply, "reply")
        if len(reply) > MAX_TEXT_CHARS:
            finding = Finding(
                Category.OVERSIZED, 1.0, f"oversized: reply of {len(reply)} characters", ("chars",)
            )
            return _block([finding])
        own, marks = list(own_values), tuple(canaries)
        if not all(isinstance(v, str) for v in (*own, *marks)):
            raise BadInput("own_values and canaries must be strings")
        if system_prompt is not None:
            _check_text(system_prompt, "system_prompt")
        ctx = OutputContext(own_keys(own), system_prompt, marks)
        results: list[OutputResult] = [r for s in self.scanners if (r := s.scan(reply, ctx)) is not None]
        if not results:
            return ALLOW
        findings = [r.finding for r in results]
        blocking = [f for f in findings if f.category is not Category.PII_LEAK or self.pii_action == "block"]
        if blocking:
            top = blocking[0]
            return GuardDecision(Action.BLOCK, top.category, top.reason, tuple(findings))
        spans = sorted(span for r in results for span in r.spans)
        return GuardDecision(
            Action.SANITIZE,
            findings[0].category,
            findings[0].reason + ", masked",
            tuple(findings),
            _mask(reply, spans),
        )


def _mask(text: str, spans: Sequence[tuple[int, int, str]]) -> str:
    out: list[str] = []
    pos = 0
    for start, end, placeholder in spans:
        if start < pos:  # the engine returns non-overlapping spans; stay safe if a scanner does not
            start = pos
        if end <= start:
            continue
        out.append(text[pos:start])
        out.append(placeholder)
        pos = end
    out.append(text[pos:])
    return "".join(out)


@functools.cache
def shipped_model() -> classifier.Model:
    """The model trained by bench/guard_train.py on the corpus' tuning splits (loaded once, ~30 ms)."""
    return classifier.load()


def input_guard_from(settings: Settings) -> InputGuard:
    limiter = RateLimiter(
        limits=RateLimits(
            customer=settings.guard_rate_customer,
            source=settings.guard_rate_source,
            credential=settings.guard_rate_credential,
        ),
        storage_url=settings.redis_url.get_secret_value() if settings.redis_url else "memory://",
    )
    return InputGuard(
        size=SizeScanner(max_chars=settings.guard_max_chars, max_lines=settings.guard_max_lines),
        limiter=limiter,
        model=None if settings.guard_model else False,
    )


def output_guard_from(settings: Settings) -> OutputGuard:
    forbidden = (
        ForbiddenContentScanner.from_file(settings.guard_forbidden_file)
        if settings.guard_forbidden_file
        else ForbiddenContentScanner()
    )
    return OutputGuard(
        scanners=(
            PromptLeakScanner(min_overlap=settings.guard_prompt_overlap_chars),
            forbidden,
            PiiLeakScanner(),
        ),
        pii_action=settings.guard_pii_action,
    )


@functools.cache
def get_input_guard() -> InputGuard:
    """The process-wide input guard from settings (its in-memory rate counts live as long as it)."""
    return input_guard_from(get_settings())


@functools.cache
def get_output_guard() -> OutputGuard:
    return output_guard_from(get_settings())
