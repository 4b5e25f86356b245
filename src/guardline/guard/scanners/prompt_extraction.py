"""System-prompt extraction: a request to see the bot's own instructions or configuration.

The object is the bot's prompt (系统提示词, system prompt, initial instructions, 你的设定), combined
with a disclosure verb or a verbatim demand. "Your payment system" or "活动规则是什么" name the shop's
systems and rules, not the bot's, and meet one signal at most.
"""

from __future__ import annotations

from guardline.guard.decision import Category
from guardline.guard.scanners.base import SignalScanner, signal

SIGNALS = (
    signal(
        "prompt-object",
        r"系统提示词|提示词(?!典|工程)|系统提示(?:语|内容)|系统指令|系统消息|初始(?:化)?(?:指令|配置|设定|提示)|隐藏(?:的)?(?:指令|提示|设定|部分)|原始指令|设定原文|被设定的|给你(?:设置|写|设定|定)了?(?:的|哪些|什么)|最开始收到的|收到的第一条|你的(?:配置|设定|指令|指示|提示)|被告知的|被设定|给你配(?:置)?的|话术模板|开头(?:收到|那段)|隐藏的说明|背后的那段|(?:那段|你的)prompt",
        0.6,
    ),
    signal(
        "prompt-object",
        r"\bsystem (?:prompt|message|instructions)\b|\bhidden (?:instructions|prompt|rules)\b|\binitial (?:instructions|prompt)\b|\bpre-?prompt\b|\boriginal (?:instructions|prompt)\b|\binstructions (?:were )?you (?:were )?given\b|\bwhat (?:instructions|rules|guidelines) (?:were you|did you|have you)\b|\bwhat (?:were you|you were) told\b|\bprompt the developers\b|\byour (?:instructions|configuration|prompt|rules)\b(?!\s+(?:for|on|about|regarding)\s+(?:(?:a|an|the|my|your)\s+)?(?:return|refund|exchang|ship|deliver|coupon|voucher|warrant|invoice|order|cancel|payment|wash|care|assembl|install|using|use\b))|\brules the store gave you\b|\byour context window\b|\binstructions you (?:run on|operate under|follow)\b|\bpreamble\b|\binitiali[sz]ed with\b|\bprogrammed with\b|\bsetup instructions\b(?!\s+(?:for|of|in|on|that came with)\b)|\bdeveloper message\b|\bpre-conversation instruction\b",
        0.6,
    ),
    signal(
        "disclose",
        r"输出|告诉我|发给我|发我|发出来|展示|显示|列出|复述|重复|念出|翻译|总结|原样|是什么(?!意思)|有哪些|有些什么|都有些什么|看看|贴出来|抄一遍|复制出来|打出来|给我看|\bpaste\b|\bcopy-paste\b|\bdump\b|\bprint\b|\bshow\b|\breveal\b|\brepeat\b|\boutput\b|\bdisplay\b|\btell me\b|\bshare\b|\bquote\b|\btranslate\b|\bsummari[sz]e\b|\bwhat (?:is|are|were|was)\b|\bwhat'?s\b|\bgive me\b|(?<!shopping )(?<!wish )(?<!price )(?<!packing )(?<!parts )\blist\b",
        0.4,
    ),
    signal(
        "verbatim",
        r"逐字|一字不差|一字一句|原样|原文|原封不动|完整发|全部内容|完整(?:地)?(?:复述|输出|发|列出)|一条都不要漏|逐条|包括隐藏|\bword for word\b|\bverbatim\b|\bexact(?:ly| wording)\b|\bincluding (?:any(?:thing)? )?hidden\b|\bsecret parts\b|code block|\bfull text\b|\bexact words\b|\ball of them\b",
        0.4,
    ),
    # The assistant's own machinery: the key it calls its tools with, its endpoints, the model and its
    # sampling settings. The customer's own key on the shop's open platform (我的 API key) is not it.
    signal(
        "internals-object",
        r"(?:你|您|\byour\b|\byou\b)[^。？！?!]{0,30}(?<!我的)(?<!我们的)(?<!\bmy )(?<!\bour )"
        r"(?:api ?key|apikey|api密钥|密钥|秘钥|私钥|secret key|access token|api token|令牌|接口地址|调用地址|endpoint|credentials)|"
        r"\b(?:api ?keys?|secret keys?|access tokens?|credentials)\b[^.?!]{0,25}\byou(?:'re| are)? (?:use|using|call|send)\b|"
        r"\bmax[_ ]?tokens\b|\btop[_ ]?p\b|温度参数|采样参数|"
        r"\btemperature\b[^.?!]{0,40}\b(?:tokens?|top[_ ]?p|model|llm|gpt|sampling)\b|"
        r"\b(?:model|llm|gpt)\b[^.?!]{0,40}\btemperature\b|(?:模型|model)[^。？?]{0,20}(?:temperature|温度)",
        0.6,
    ),
    signal(
        "text-above",
        r"(?:上面|以上|之前|前面)的?(?:所有|全部)(?:内容|文字|话)|从\s*[“\"]?你是|[“\"]你是[^”\"]{0,20}[”\"]\s*开头|\b(?:everything|all (?:the )?text|the (?:text|words)) (?:above|before)\b|\bstarting with \"?you are\b|\bbefore \"?user:|\bbefore (?:this|our|the) conversation\b",
        0.6,
    ),
)


class PromptExtractionScanner(SignalScanner):
    name = "system_prompt_extraction"
    category = Category.SYSTEM_PROMPT_EXTRACTION
    signals = SIGNALS
