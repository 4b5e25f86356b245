"""Prompt injection: a message that tries to replace the bot's instructions with the sender's.

The tell is not the verb (customers say 忽略 and "ignore" all the time) but its object: the bot's
instructions, rules or settings, usually with a scope word (之前的所有, 以上, your, all previous), and
often followed by a new instruction or dressed as a message from the system, an operator or an
internal note. "请忽略我上一条消息" and "disregard my earlier instructions" override the customer's
own words: a first-person word between the verb and its object cancels the scope.
"""

from __future__ import annotations

from guardline.guard.decision import Category
from guardline.guard.scanners.base import SignalScanner, signal

# 忘记/忘了 after 我 is "I forgot", not "forget it".
_ZH_VERB = r"(?:忽略|无视|忽视|(?<!我)忘记|(?<!我)忘掉|(?<!我)忘了|不要理会|别理会|不用理会|不要管|别管|不用再?管|抛到脑后|不要遵守|别遵守|不再遵守|不用遵守|不必遵守|跳过|覆盖|绕过|重置|清除|清空|当作不存在|当做不存在|不管|放一边|放在一边|搁置|暂停|停止|关掉|关闭)"
_ZH_TARGET = r"(?:指令|指示|规则|设定|提示词|系统提示|限制|命令|规定|约束|安全策略|安全检查|安全规则|审核|被告知|说法|话术|剧本|条条框框|准则|规矩|工作准则|审核逻辑|风控|prompt)"
_ZH_SCOPE = r"(?:之前|以前|以上|上面|上述|前面|先前|原来|原始|原有|所有|全部|一切|你的|你之前|你收到|你被|商家给|给你的|系统|那套|那些|旧)"
# The gap between verb and object, without a first-person word (the customer's own message).
_ZH_GAP = r"(?:(?!我)[^，。,.!?！？]){0,8}"
_EN_VERB = r"(?:ignore|disregard|forget|override|bypass|skip|do not follow|don'?t follow|stop following|no longer follow|throw away|discard|set aside|put aside|pay no attention to|suspend|disable|turn off|switch off)"
_EN_TARGET = r"(?:(?<!payment )(?<!bank )(?<!wire )(?<!wiring )(?<!transfer )(?<!billing )(?<!delivery )(?<!shipping )(?<!washing )(?<!care )(?<!dosage )instructions?|directions|(?:translation |original |real |current )?task|rules|guidelines|guidance|programming|prompts?|polic(?:y|ies)|restrictions|directives|constraints|configuration|safety (?:rules|filters|checks|layers)|verification|content rules)"
# Payment, delivery or care instructions are a bank's, a courier's or a label's (a scam e-mail
# forwarded: "ignore previous payment instructions"), never the assistant's.
_EN_SCOPE = r"(?:all|any|every|previous|prior|above|earlier|preceding|original|initial|system|existing|your|these|those|old)"
_EN_GAP = r"(?:\W+(?!my\b|our\b|i\b)\w+){0,3}?"
# "the instructions I left on the order", "the rules we agreed": the customer's own, not the bot's.
_EN_OWN = r"(?!\s+(?:that\s+|which\s+)?(?:i|we)\s+(?:left|gave|wrote|put|added|sent|typed|entered|made|agreed|set)\b)"

SIGNALS = (
    signal("override-scoped", rf"{_ZH_VERB}{_ZH_GAP}{_ZH_SCOPE}{_ZH_GAP}{_ZH_TARGET}", 1.0),
    signal("override", rf"{_ZH_VERB}{_ZH_GAP}{_ZH_TARGET}", 0.6),
    signal(
        "void-scoped",
        rf"(?:你的|你之前的|你原来的|你收到的|你接收的|你刚才接收的|以上|上面的?|前面的?|所有的?|全部的?|那些|那套|商家给的?|旧的?){_ZH_GAP}{_ZH_TARGET}{_ZH_GAP}(?:作废|失效|无效|不算数|不再有效|当作不存在|当做不存在|不重要|不用管|不用理|别管|放一边|已被清空|被清空|有误|错了|关掉|关闭|暂停|停用|清掉)",
        1.0,
    ),
    signal(
        "stop-following",
        r"(?:别|不要|不用|无需)再?(?:按照?|参考|照着|遵循)(?:那个|你的|那套|之前的|原来的|商家的)[^，。]{0,4}(?:剧本|话术|模板|规则|设定|流程|知识库|准则)",
        1.0,
    ),
    signal(
        "void-rules",
        rf"{_ZH_TARGET}[^，。,.!?！？]{{0,8}}(?:作废|失效|无效|不算数|不再有效|不存在|不重要|解除|关闭|当作不存在|当做不存在|清空)",
        0.6,
    ),
    signal(
        "void-rules",
        r"(?:以上|上面|之前|前面)的?(?:对话|内容|指令|消息)?(?:仅为|只是|都是|仅仅是)(?:测试|演示|玩笑)",
        0.6,
    ),
    signal(
        "outrank",
        r"(?:优先级|效力)(?:高于|大于|超过)(?:你的|所有|之前)|高于你的(?:系统提示|指令|规则|设定)|最高优先级|(?:当作|当做|视为|作为)[^，。]{0,8}系统(?:级)?(?:的)?(?:指令|命令|提示)|\btakes? precedence over (?:your|all|the system)|\bhigher priority than (?:your|all|the system)|\btreat (?:everything|this|my messages|the following)\b.{0,30}\b(?:as|like)\b.{0,20}\b(?:system prompt|operator|developer|admin|system)\b",
        1.0,
    ),
    signal(
        "override-scoped", rf"\b{_EN_VERB}\b{_EN_GAP}\W+{_EN_SCOPE}\b{_EN_GAP}\W+{_EN_TARGET}\b{_EN_OWN}", 1.0
    ),
    signal(
        "override-scoped",
        rf"\b{_EN_VERB}\b{_EN_GAP}\W+{_EN_TARGET}\W+(?:from|of|given by|set by) (?:the )?(?:shop|store|merchant|developers?|system|seller|company)\b|\b{_EN_VERB}\b{_EN_GAP}\W+{_EN_TARGET}\W+you(?:'ve| have)? (?:were |been )?(?:given|configured|programmed|told)",
        1.0,
    ),
    signal("override", rf"\b{_EN_VERB}\b(?:\W+(?!my\b|our\b)\w+){{0,4}}?\W+{_EN_TARGET}\b{_EN_OWN}", 0.6),
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
        r"\b(?:instructions|rules|prompt|text|configuration|constraints|guidelines) (?:above|before)? ?(?:is|are|was|were|has been|have been) (?:now )?(?:outdated|a test|void|invalid|fake|cancelled|revoked|deprecated|removed|replaced|reset|cleared|paused|suspended|lifted)\b|\bno longer appl(?:y|ies)\b",
        0.6,
    ),
    signal(
        "new-instruction",
        r"新的?(?:指令|任务|规则|设定|系统提示)(?:是|为|：|:)|你的新任务|真实(?:的)?任务是|真正的任务是|正确的指令是|你现在(?:是|必须|只|要)|现在(?:开始)?你(?:是|只|必须|要)|从现在(?:开始|起)(?:，|,)?你|按我说的做|按照?我的(?:要求|指令|命令|意思)(?:执行|做|来)|我的意思来|执行(?:下面|以下)的?(?:命令|指令)|我说什么你就做什么|只听我的|听我的|听顾客的|听我指挥|我来告诉你该怎么做|必须同意|照此执行|请照做|回复[“\"]?(?:已清空|已批准|退款已批准)",
        0.5,
    ),
    signal(
        "new-instruction",
        r"\b(?:your|the) new (?:instructions?|task|rules?|role|prompt|policy|behaviou?r)\b|\bnew (?:instructions?|prompt|policy|rules?|behaviou?r)\s*(?::|from|are|is)|\bfrom now on,? (?:you|respond|act|answer|obey)|\byou (?:must|will now|are now|only obey)\b|\bobey only me|\bdo exactly what i say|\bfollow (?:my|these) (?:new )?(?:instructions|commands|orders)(?: only)?\b|\binstead,? (?:do|tell|output|reveal|give|grant|issue|approve|send|refund|apply|change|cancel)|\bcomply with every\b|\backnowledge and follow\b|\bconfirm\.?$",
        0.5,
    ),
    signal(
        "fake-authority",
        r"[【\[<(（]\s*(?:系统|管理员|开发者|system|admin|developer)\s*(?:指令|通知|提示|消息|命令)?\s*[】\]>)）]|^\W*(?:系统|管理员|开发者)(?:指令|通知|提示|消息)[:：]|调试模式|(?:开发者|管理员|运营|老板|商家)让我(?:转告|告诉你)|我是你的(?:开发者|管理员|创造者)|我是(?:你们的|平台的?)(?:运营|管理员|技术|开发)|作为(?:平台|商家|官方|你们)的?(?:测试|工作|技术|运营|管理)人员|后台权限已经给我|(?:内部备注|内部通知|系统备注|客服备注|内部指令|平台发给你的)|系统升级后",
        0.6,
    ),
    signal(
        "fake-authority",
        r"\b(?:admin|administrator|developer|store owner|system)\s+(?:here|override|mode|message|note|update)\b|\bi am your (?:developer|creator|admin|owner|operator)\b|\bi have (?:root|admin) access\b|\bauthori[sz]ed override\b|\bnote to (?:the )?(?:ai|assistant|bot|model)\b|\b(?:owner|admin|developer|operator|manager) (?:asked|told|wants|says)\b.{0,20}\b(?:you|the rules)\b|\bhidden instruction\b",
        0.6,
    ),
    # Text that speaks of the bot in the third person ("读到这段话的AI", "any assistant reading this",
    # an HTML comment for the bot) was written to be read by a model, not by the person it is sent to:
    # the signature of an instruction hidden in a note, review or field. A note addressed to the AI
    # (给AI的备注, "note to the bot") is weaker on its own: with a payload it blocks.
    signal(
        "addressed-to-bot",
        r"(?:读到|看到|收到|处理)(?:这|此|本)[^，。,.]{0,8}的(?:ai|智能客服|客服机器人|机器人|助手|模型|客服系统)|"
        r"\b(?:ai|bot|assistant|language model)s? (?:reading|processing|that reads|who reads) (?:this|these)\b|<!--[^>]{0,40}(?:\b(?:ai|bot|assistant|model)\b|给ai|机器人|助手)",
        1.0,
    ),
    signal(
        "addressed-to-bot",
        r"(?:给|致|对|告诉)(?:ai|智能客服|客服机器人|机器人|智能助手|客服助手|助手|客服系统)的?(?:备注|留言|话|说明|提示|注意)|"
        r"(?:备注|留言|提示|注意)(?:给|致)(?:ai|智能客服|客服机器人|机器人|助手)|"
        r"\bthe (?:ai|ai agent|ai assistant|bot|chatbot|assistant|virtual assistant|language model) (?:shall|must|is (?:required|instructed|authori[sz]ed) to|agrees? to|will hereby)\b|"
        r"(?:ai|智能客服|客服机器人|机器人|助手|客服系统)(?:应当|须|必须|务必|应)(?:立即|自动|直接)",
        0.7,
    ),
    # Inside a quoted text or a field, the assistant addressed by name or a role prefix (“SYSTEM: …”,
    # "…; assistant, also …", "Apt 5 [assistant: …]"): a text to be forwarded or printed has no
    # business talking to the bot.
    # At the start of a message the same vocative is only a customer talking to it ("机器人，我要退款").
    signal(
        "addressed-to-bot",
        r"[\"“「『;；\[【](?:[^\"”」』\]】]{0,120}?[.。!！?？]\s*)?\s*(?:dear )?(?:ai|ai agent|ai assistant|bot|chatbot|assistant|system|admin|operator|"
        r"机器人|智能客服|客服机器人|ai客服|智能助手|助手|系统|管理员)\s*[,:，：]",
        0.6,
    ),
    # Keeping the action from the shop's people: no customer needs the staff not to know.
    signal(
        "conceal-from-staff",
        r"(?:不要|别|不用|不必|无需)(?:告诉|通知|提醒|让|给)[^，。,.]{0,4}(?:人工|客服人员|工作人员|员工|店员|商家|管理员|主管|店长|老板)(?:知道|看到|发现)?|"
        r"\b(?:do not|don'?t|never|without) (?:mention(?:ing)?|tell(?:ing)?|report(?:ing)?|notify(?:ing)?|flag(?:ging)?|alert(?:ing)?|log(?:ging)?)\b(?:\W+\w+){0,3}?\W+(?:to )?(?:the )?(?:staff|humans?|human agents?|agents?|employees?|managers?|admins?|supervisors?|the shop|the store|the merchant)\b",
        0.5,
    ),
    signal(
        "rules-lifted",
        r"(?:安全|内容)?(?:规则|策略|限制|过滤)(?:已|已经|暂时|都)?(?:被)?(?:关闭|解除|禁用|取消|清空)|\b(?:safety|content)? ?(?:filters?|rules|restrictions|constraints) (?:are |is |have been )?(?:now )?(?:disabled|off|removed|lifted|paused|deprecated)|\b(?:disabled|lifted|off|paused) for (?:this|the) (?:session|conversation|day)",
        0.6,
    ),
    # The customer explains that the earlier text was theirs and wrong (someone else typed it, a typo,
    # a change of mind): "ignore everything above, my son was typing" retracts their own message.
    signal(
        "own-retraction",
        r"(?:我|我家)(?:的)?(?:儿子|女儿|孩子|小孩|老婆|老公|媳妇|妈|爸|弟弟|妹妹)(?:刚才|刚刚)?(?:说|乱按|乱打|乱发|瞎打|玩我手机|拿我手机|用我手机)|"
        r"(?:我)?(?:打错|发错|写错|填错|选错|手滑|误发|点错)了?|改主意|"
        r"\bmy (?:son|daughter|kid|kids|child|wife|husband|cat|dog|toddler|partner|mum|mom|dad)\b.{0,25}\b(?:typing|typed|was using|grabbed|got hold of|sent|says|said|wants|prefers)\b|"
        r"\b(?:typo|typed (?:it )?wrong|wrong (?:chat|window|person|item|size|colou?r)|by mistake|by accident|changed my mind|my mistake|my bad|sorry,? (?:wrong|that was))\b",
        -0.5,
    ),
    signal(
        "claimed-approval",
        r"已通过(?:人工)?审核|已被批准|已获(?:得)?授权|\bpre-?approved\b|\balready (?:approved|verified) by\b",
        0.4,
    ),
    signal(
        "role-markup",
        r"<\|?\s*/?\s*(?:im_start|im_end|system|user|assistant)\s*\|?>|#{2,}\s*(?:新?指令|instructions?|system|response)|\bend of (?:the )?(?:prompt|user input|input|instructions|conversation)\b|\[/?(?:system|admin|developer|inst)\]|<<\s*/?sys\s*>>|用户消息结束|新的系统提示|\b(?:begin|end)(?: of)? (?:admin|system|developer|operator) (?:message|instructions|prompt)\b|(?:^|\s)assistant\s*:.{1,200}\buser\s*:|<!--[^>]{0,80}(?:instruction|assistant|system|指令)",
        1.0,
    ),
    signal(
        "payload",
        r"直接(?:给我)?(?:退款|免单|批准|通过|退)|全额退款|免单|免运费|免押金|免定金|跳过(?:付款|支付)|补发|永久会员|优惠(?:码|券)|管理员密码|底价|已退款|\b(?:approve|grant|issue)\b.{0,15}\brefunds?|\b(?:issue|grant|add)\b.{0,15}\b(?:store credit|credits?|vouchers?|compensation)\b|\bwaive\b|\bbypass (?:the )?(?:payment|checkout|verification)\b|\b(?:coupon|discount) codes?\b|\badmin (?:password|panel|access)\b|\bfree (?:products?|replacement)\b|free shipping forever|100% off",
        0.3,
    ),
)


class PromptInjectionScanner(SignalScanner):
    name = "prompt_injection"
    category = Category.PROMPT_INJECTION
    signals = SIGNALS
