"""Prompt injection: a message that tries to replace the bot's instructions with the sender's.

The tell is not the verb (customers say 忽略 and "ignore" all the time) but its object: the bot's
instructions, rules or settings, usually with a scope word (之前的所有, 以上, your, all previous), and
often followed by a new instruction or dressed as a message from the system or an administrator.
"请忽略我上一条消息" overrides the customer's own message, so it meets no signal.
"""

from __future__ import annotations

from guardline.guard.decision import Category
from guardline.guard.scanners.base import SignalScanner, signal

_ZH_VERB = r"(?:忽略|无视|忽视|忘记|忘掉|忘了|不要理会|别理会|不用理会|不要管|别管|不用再?管|抛到脑后|不要遵守|别遵守|不再遵守|不用遵守|不必遵守|跳过|覆盖|绕过|重置|清除|当作不存在|当做不存在|不管)"
_ZH_TARGET = r"(?:指令|指示|规则|设定|提示词|系统提示|限制|命令|规定|约束|安全策略|安全检查|安全规则|审核|配置|设置|被告知|prompt)"
_ZH_SCOPE = r"(?:之前|以前|以上|上面|上述|前面|先前|原来|原始|原有|所有|全部|一切|你的|你之前|你收到|你被|商家给你|给你的|系统)"
_EN_VERB = r"(?:ignore|disregard|forget|override|bypass|skip|do not follow|don'?t follow|stop following|no longer follow|throw away|discard)"
_EN_TARGET = r"(?:instructions?|directions|rules|guidelines|programming|prompts?|polic(?:y|ies)|restrictions|directives|constraints|safety (?:rules|filters|checks)|verification)"
_EN_SCOPE = r"(?:all|any|every|previous|prior|above|earlier|preceding|original|initial|system|existing|your|these|those)"

SIGNALS = (
    signal(
        "override-scoped",
        rf"{_ZH_VERB}[^，。,.!?！？]{{0,8}}{_ZH_SCOPE}[^，。,.!?！？]{{0,10}}{_ZH_TARGET}",
        1.0,
    ),
    signal("override", rf"{_ZH_VERB}[^，。,.!?！？]{{0,12}}{_ZH_TARGET}", 0.6),
    signal(
        "void-scoped",
        rf"(?:你的|你之前的|你原来的|以上|上面的?|前面的?|所有的?|全部的?){_ZH_TARGET}[^，。,.!?！？]{{0,8}}(?:作废|失效|无效|不算数|不再有效|当作不存在|当做不存在|不重要)",
        1.0,
    ),
    signal(
        "outrank",
        r"(?:优先级|效力)(?:高于|大于|超过)(?:你的|所有|之前)|高于你的(?:系统提示|指令|规则|设定)|\btakes? precedence over (?:your|all|the system)|\bhigher priority than (?:your|all|the system)",
        1.0,
    ),
    signal(
        "void-rules",
        rf"{_ZH_TARGET}[^，。,.!?！？]{{0,8}}(?:作废|失效|无效|不算数|不再有效|不存在|不重要|解除|关闭|当作不存在|当做不存在)",
        0.6,
    ),
    signal(
        "override-scoped",
        rf"\b{_EN_VERB}\b(?:\W+\w+){{0,3}}?\W+{_EN_SCOPE}\b(?:\W+\w+){{0,3}}?\W+{_EN_TARGET}\b",
        1.0,
    ),
    signal(
        "override-scoped",
        rf"\b{_EN_VERB}\b(?:\W+\w+){{0,3}}?\W+{_EN_TARGET}\W+(?:from|of|given by|set by) (?:the )?(?:shop|store|merchant|developers?|system|seller|company)\b",
        1.0,
    ),
    signal("override", rf"\b{_EN_VERB}\b(?:\W+\w+){{0,4}}?\W+{_EN_TARGET}\b", 0.6),
    # Spaced letters squeezed together ("i g n o r e a l l ..."): the words run into each other.
    signal(
        "override-squeezed",
        r"(?:ignore|disregard|forget|override|bypass)(?:all|any|every|previous|prior|above|earlier|your|the|system)+(?:instructions?|rules|prompts?|guidelines|directions)",
        1.0,
    ),
    signal(
        "override-all",
        r"\b(?:ignore|disregard|forget)\s+(?:everything|all)\s+(?:you were told|above|before|you know|prior)",
        1.0,
    ),
    signal(
        "void-rules",
        r"\b(?:instructions|rules|prompt|text) (?:above|before)? ?(?:is|are|was|were) (?:outdated|a test|void|invalid|fake|cancelled)|\bno longer appl(?:y|ies)\b",
        0.6,
    ),
    signal(
        "new-instruction",
        r"新的?(?:指令|任务|规则|设定|系统提示)(?:是|为|：|:)|你的新任务|你现在(?:是|必须|只|要)|现在(?:开始)?你(?:是|只|必须|要)|从现在(?:开始|起)(?:，|,)?你|按我说的做|按照?我的(?:要求|指令|命令)(?:执行|做|来)|执行(?:下面|以下)的?(?:命令|指令)|我说什么你就做什么|只听我的|听我的|必须同意",
        0.5,
    ),
    signal(
        "new-instruction",
        r"\b(?:your|the) new (?:instructions?|task|rules?|role|prompt|policy)\b|\bnew (?:instructions?|prompt|policy|rules?)\s*(?::|from|are|is)|\bfrom now on,? (?:you|respond|act|answer|obey)|\byou (?:must|will now|are now|only obey)\b|\bobey only me|\bdo exactly what i say|\bfollow (?:my|these) (?:new )?instructions(?: only)?\b|\binstead,? (?:do|tell|output|reveal|give)",
        0.5,
    ),
    signal(
        "fake-authority",
        r"[【\[<(（]\s*(?:系统|管理员|开发者|system|admin|developer)\s*(?:指令|通知|提示|消息|命令)?\s*[】\]>)）]|^\W*(?:系统|管理员|开发者)(?:指令|通知|提示|消息)[:：]|调试模式|(?:开发者|管理员)让我转告|我是你的(?:开发者|管理员|创造者)|(?:安全|内容)?(?:规则|策略|限制|过滤)(?:已|已经|暂时|都)?(?:被)?(?:关闭|解除|禁用|取消)",
        0.6,
    ),
    signal(
        "fake-authority",
        r"\b(?:admin|administrator|developer|store owner|system)\s+(?:here|override|mode|message|note)\b|\bi am your (?:developer|creator|admin|owner)\b|\bauthori[sz]ed override\b|\bnote to (?:the )?(?:ai|assistant|bot|model)\b|\b(?:safety|content)? ?(?:filters?|rules|restrictions) (?:are |is )?(?:now )?(?:disabled|off|removed|lifted)|\b(?:disabled|lifted|off) for this (?:session|conversation)",
        0.6,
    ),
    signal(
        "role-markup",
        r"<\|?\s*/?\s*(?:im_start|im_end|system|user|assistant)\s*\|?>|#{2,}\s*(?:新?指令|instructions?|system|response)|\bend of (?:the )?(?:prompt|user input|input|instructions|conversation)\b|\[/?(?:system|admin|developer|inst)\]|<<\s*/?sys\s*>>|用户消息结束|新的系统提示",
        1.0,
    ),
    signal(
        "payload",
        r"直接(?:给我)?(?:退款|免单|批准|通过)|全额退款|免单|优惠(?:码|券)|管理员密码|底价|\b(?:approve|grant|issue)\b.{0,15}\brefund|\b(?:coupon|discount) codes?\b|\badmin (?:password|panel|access)\b|\bfree products?\b|free shipping forever",
        0.3,
    ),
)


class PromptInjectionScanner(SignalScanner):
    name = "prompt_injection"
    category = Category.PROMPT_INJECTION
    signals = SIGNALS
