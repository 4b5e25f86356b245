"""Context words around a candidate: cues that raise confidence in one type, or say "not personal".

A candidate asks for the nearest cue that ends shortly before it; only that stretch of text is
scanned, with one trie-shaped regex of every cue word. 订单号/快递单号 before a long number means
an order or tracking number, not an ID or a phone; 身份证/卡号/手机 raise confidence in those types.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from guardline.kit.wordsre import words_pattern


class Cue(Enum):
    PHONE = "phone"
    ID_CARD = "id_card"
    BANK_CARD = "bank_card"
    PASSPORT = "passport"
    TRAVEL_PERMIT = "travel_permit"
    SSN = "ssn"
    CREDENTIAL = "credential"
    NOT_PERSONAL = "not_personal"  # order, tracking, invoice, SKU, model, price …
    HOTLINE = "hotline"  # the shop's or a company's service line


_LEXICON: dict[Cue, tuple[str, ...]] = {
    Cue.PHONE: (
        "手机", "电话", "号码", "联系方式", "联系电话", "座机", "打给", "致电", "回电", "来电", "微信同号",
        "手机号", "电话号", "tel", "phone", "mobile", "cell", "call me", "text me", "reach me",
        "number is", "my number", "number", "call", "new one is", "old number", "whatsapp", "fax", "打我",
        "拨打", "短信", "联系我",
    ),
    Cue.ID_CARD: (
        "身份证", "身份号", "证件号", "证件号码", "身份证号", "id number", "id card", "identity card",
        "resident id", "national id", "二代证", "身份信息",
    ),
    Cue.BANK_CARD: (
        "卡号", "银行卡", "信用卡", "储蓄卡", "借记卡", "银联", "开户行", "账号", "收款账户", "退款账户",
        "card number", "card no", "credit card", "debit card", "visa", "mastercard", "amex", "card ending",
        "account number", "卡", "card",
    ),
    Cue.PASSPORT: ("护照", "passport"),
    Cue.TRAVEL_PERMIT: (
        "通行证", "港澳通行证", "往来港澳", "往来台湾", "台湾通行证", "回乡证", "台胞证", "来往内地",
        "入台证", "港澳证", "赴港", "赴台", "签注", "travel permit", "home return permit",
        "mainland travel permit",
        "exit-entry permit",
    ),
    Cue.SSN: ("ssn", "social security", "social", "社会安全号", "社安号"),
    Cue.CREDENTIAL: (
        "密码", "验证码", "校验码", "动态码", "口令", "支付密码", "登录密码", "短信码",
        "password", "passcode", "pin", "verification code", "security code", "one-time code", "otp",
        "the code is", "code is",
    ),
    Cue.NOT_PERSONAL: (
        "订单", "单号", "运单", "快递", "物流", "编号", "型号", "货号", "流水号", "交易号", "交易单号",
        "发票", "工单", "批次", "序列号", "条码", "商品", "sku", "order", "tracking", "invoice",
        "model", "item", "ref", "reference", "serial", "ticket", "case", "shipment", "parcel",
        "package", "waybill", "coupon", "member", "membership", "rewards", "loyalty", "batch", "lot",
        "confirmation", "booking", "reservation", "account id", "customer id", "user id", "version",
        "firmware", "build", "版本", "固件", "优惠券", "券码",
        "兑换码", "价格", "金额", "退款金额",
        "合同号", "会员号", "imei", "sn", "no.", "#", "发票号码", "订单号码", "单号码", "编号码",
        "礼品卡", "购物卡", "充值卡", "储值卡", "会员卡", "gift card", "store card", "卡券", "券号",
    ),
    Cue.HOTLINE: ("客服", "热线", "hotline", "customer service", "400", "800", "服务电话", "官方电话"),
}  # fmt: skip

_CUE_OF: dict[str, Cue] = {}
for _cue, _words in _LEXICON.items():
    for _w in _words:
        _CUE_OF.setdefault(_w, _cue)

_SUFFIX_CUES = frozenset({"号码", "手机", "电话", "number is", "no.", "#", "number"})
# ASCII words must be whole words ("pin" is not in "shipping"); Chinese has no spaces between words.
_CUE_RE = re.compile(
    words_pattern(w for w in _CUE_OF if not w.isascii())
    + r"|(?<![a-z0-9])"
    + words_pattern(w for w in _CUE_OF if w.isascii())
    + r"(?![a-z])"
)


@dataclass(frozen=True, slots=True)
class CueHit:
    start: int
    end: int
    cue: Cue


_MARGIN = 20  # scan this much further back so a long cue ending inside the window is seen whole


def cues_before(lowered: str, pos: int, window: int = 16) -> list[CueHit]:
    """Cues ending within ``window`` characters before ``pos``, nearest first.

    Only the stretch just before ``pos`` is scanned: candidates are few, texts can be long.
    """
    hits: list[CueHit] = []
    for m in _CUE_RE.finditer(lowered, max(0, pos - window - _MARGIN), pos):
        if m.group() in _SUFFIX_CUES and hits and not lowered[hits[-1].end : m.start()].strip():
            continue  # 台胞证号码: 号码 continues the previous cue
        hits.append(CueHit(m.start(), m.end(), _CUE_OF[m.group()]))
    return [h for h in reversed(hits) if h.end >= pos - window]
