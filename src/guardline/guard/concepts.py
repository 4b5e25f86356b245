"""Concept features for the learned classifier: who a message addresses and what it is about.

Character n-grams learn the words an author used; a new author uses others (ignore / forget / drop
it / 别管 / 作废), and the look-alikes use the same words for the customer's own things (请忽略我上一
条消息, "forget the old address"). What separates the two is what the words are aimed at: an override
aimed at the bot's rules or instructions, or at the customer's own earlier message; a request for
data aimed at other people, or at the customer's own orders. Each concept below is a small lexicon
of one such idea, in Chinese and English; the features are the concepts present in the message and
the pairs of concepts present together, in the message and within one clause ("k:override+rule",
"kc:others+pdata"). The model learns the pairs' weights; nothing here decides on its own.

The lexicons are word classes from the attack taxonomy (bench/corpus/guard/README.md), not phrases of
any corpus message (a few role and relation words, 买家, 收件人, 派出所, were added after reading out-of-fold
misses, ``internals`` and ``directive`` after reading fresh6's misses, and ``inscription``, ``wish``,
``letter`` and ``giving`` after fresh7's false positives on greeting cards, letters and gifts, ``retract``
and the accomplice words of ``fraud`` after fresh8's errors). Measured with
bench/guard_train.py --leave-split-out, they roughly halved the model's false positives on a left-out
author's messages at the same detection. They run on the folded text (guard/normalize.py's ``fold``). An
entry with a Chinese character matches as a substring; an English entry matches a whole word, ``word*``
any word starting with it, and an entry with spaces a run of whole words. One pattern and two
dictionaries: tens of microseconds for a customer message.
"""

from __future__ import annotations

import bisect
import itertools
import re

CONCEPTS: dict[str, str] = {
    # The assistant itself as the addressee.
    "you": "你|您|you|your|yours|yourself|u|ur",
    "ai": "人工智能|机器人|智能客服|助手|模型|ai|bot|assistant|model|gpt|llm|chatbot",
    # What an injection or an extraction is aimed at.
    "rule": "规则|指令|提示词|提示|设定|限制|条款|规定|权限|审核|约束|守则|prompt*|instruction*|rule|rules|"
    "guideline*|restriction*|filter|filters|policy|policies|setting|settings|config*|playbook|script|"
    "guardrail*",
    "system": "系统|后台|内部|隐藏|机密|system|hidden|internal|backend|confidential",
    # The machinery behind the assistant: its keys, tools and their schemas.
    "internals": "密钥|秘钥|接口|工具|函数|调用|api|apikey|api key|token|tokens|tool|tools|function*|schema*|"
    "endpoint*|plugin*",
    # An order addressed to a machine inside the data: what "the system" should do by itself, at once.
    "directive": "自动执行|自动补|请自动|自动发放|自动解锁|立即发放|立即执行|应立即|照做|照办|执行|生效|"
    "automatically|execute*|auto|comply|obey",
    # The part of the conversation the customer does not see: what came before them, above the chat.
    "unseen": "看不到|看不见|看不着|最上面|最前面|最开头|开头那段|上线时|初始化|can't see|cannot see|"
    "hidden from me|before i joined|before my first|loaded with|at the start",
    "secret": "秘密|保密|不能说|不能告诉|不许|禁止|不可以|不让|secret|secrets|not allowed|forbidden|"
    "can't say|can't tell|can't share|cannot say|cannot tell|off limits",
    "override": "忽略|无视|忘掉|忘记|别管|不要管|不用管|跳过|绕过|覆盖|作废|不算数|ignor*|disregard*|forget|"
    "bypass*|overrid*|skip|drop|scrap|cancel*",
    "priority": "优先|最高|高于|为准|priority|precedence|supersede*|higher than|instead",
    "now": "现在|从现在|接下来|从此|以后|立刻|马上|now|from now|henceforth|immediately",
    "prev": "之前|上面|以上|前面|上一条|刚才|原来|先前|previous|prior|above|earlier|before|last",
    # The customer taking back their own earlier words: a slip, a change of mind, someone else typing.
    "retract": "打错|发错|写错|填错|选错|点错|手滑|误发|乱按|乱打|改主意|typo|typos|mistake|by accident|"
    "changed my mind|wrong chat|was typing|my bad",
    # The customer's own things, against other people's.
    "msg": "消息|留言|说的|那句|地址|型号|message|address|what i said|that one",
    "own": "我的|我自己|本人|我这个|我家|我们家|我账号|我名下|my|mine|myself",
    "others": "别人|他人|其他|其它|另一个|另外一个|所有|全部|每个|每位|上一个|上一位|那个人|那位|"
    "邻居|隔壁|陌生|"
    "他的|她的|他们|买家|收货人|收件人|有人|是谁|购买者|下单的人|whose|other|others|someone|somebody|another|everyone|all|neighbor|"
    "neighbors|neighbour|neighbours|his|her|their|stranger|strangers",
    "pdata": "手机号|电话|号码|地址|住址|住哪|姓名|名字|身份证|联系方式|个人信息|phone*|number|numbers|"
    "address*|name|names|email|emails|contact*|personal|id",
    "order": "订单|包裹|快递|单号|order|orders|parcel|parcels|package|packages|deliver*",
    # What is asked for or claimed.
    "reveal": "告诉|发给|发我|输出|打印|显示|列出|列个|复述|念一下|念给|说出|原文|逐字|给我看|"
    "tell|show|print*|"
    "output*|reveal*|repeat*|list|read me|read out|verbatim|word for word|literal*",
    "mode": "模式|角色|扮演|开发者|调试|无限制|没有限制|不受限制|越狱|mode|developer|debug*|unrestricted|"
    "unfiltered|jailbr*|persona|pretend*|roleplay*|role play|act as|dan",
    # Another identity for the assistant: "you are not customer service any more, you are my advisor".
    "persona": "你不是|你现在是|你已经不是|不再是|换个身份|换个玩法|当自己|就当你|你就是|you are now|"
    "you're now|u r|not a bot|no longer|from now you",
    # Deceiving the shop or others: what a jailbreak wants help with once the rules are gone.
    "fraud": "伪造|造假|假的|假发票|假证|骗|漏洞|白嫖|钻空子|薅|冒充|盗刷|共犯|同伙|帮凶|逃税|偷税|走私|黑市|"
    "fake|forg*|scam*|fraud*|chargeback|loophole*|exploit*|stolen|trick|accomplice*|partner in crime|"
    "smuggl*|black market|evade|evasion",
    "fiction": "假设|假如|如果|故事|小说|游戏|剧本|想象|hypothetical*|imagine|story|game|fiction*|"
    "novel|suppose|"
    "what if",
    "money": "退款|返现|改价|优惠|补偿|翻倍|免单|余额|积分|refund*|credit*|discount*|compensat*|price|free|"
    "voucher*|coupon*",
    "authority": "警察|民警|派出所|法院|律师|老板|店主|店长|运营|管理员|工程师|技术人员|主管|监管|"
    "gm|监管局|police|officer|journalist|reporter|"
    "court|lawyer|owner|admin*|manager|engineer|supervisor|auditor|ceo",
    "human": "人工|真人|客服人员|human|person|real agent|agent|representative",
    # Text the customer wants on a thing: a card, an engraving, a cake, a banner. What it says to "you"
    # is said to its recipient, not to the assistant.
    "inscription": "贺卡|卡片|留言卡|刻字|刻上|刻的|印上|印在|印字|写上|绣上|蛋糕上|横幅|扉页|锦旗|礼盒|"
    "card|cards|engrav*|inscri*|gift note|gift tag|banner|embroider*|print on|printed on|on the mug|"
    "on the cake|cake writing",
    # Wishes, greetings and feelings: what a card or a poem says.
    "wish": "祝|愿你|愿您|快乐|幸福|生日|新婚|纪念|周年|永远|爱你|想你|平安|健康|辛苦了|谢谢你|"
    "happy|birthday|anniversary|congrat*|wishes|love|forever|merry|wedding|vow*|dearest",
    # The forms of a formal letter: salutation, the letter's own verbs, the closing.
    "letter": "尊敬的|此致|敬礼|特此|函告|兹|贵司|贵方|贵公司|贵店|我司|我方|敬启|为盼|惠予|"
    "dear|sincerely|regards|faithfully|truly|on behalf|kindly|further to|to whom|hereby|revert|"
    "the needful|grateful",
    # The customer handing over a recipient's details for a delivery, not asking for anyone's.
    "giving": "寄给|送给|送到|寄到|地址是|地址我|电话我|我发你|我来填|我填|收件人写|收件人填|"
    "send to|sending|ship to|deliver to|i'll put|i'll type|her address is|his address is|i'll send you|"
    "i will send you|i'll give you|i can give you|i have his|i have her",
}
_CJK_RE = re.compile(r"[\u3400-\u9fff]")
_CLAUSE_END = re.compile(r"[，。,.!?！？；;\n]+")
# An English word of the folded text (the classifier's word features read the same words).
WORD_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def _index() -> tuple[re.Pattern[str], dict[str, set[str]], dict[str, set[str]], tuple[int, ...]]:
    """One pattern for the Chinese entries and the English phrases; dicts for whole words and prefixes."""
    literals: dict[str, set[str]] = {}  # Chinese substrings and English phrases
    words: dict[str, set[str]] = {}
    prefixes: dict[str, set[str]] = {}
    for name, entries in CONCEPTS.items():
        for entry in entries.split("|"):
            if _CJK_RE.search(entry):
                literals.setdefault(entry, set()).add(name)
            elif entry.endswith("*"):
                prefixes.setdefault(entry[:-1], set()).add(name)
            elif " " in entry:
                literals.setdefault(entry, set()).add(name)
            else:
                words.setdefault(entry, set()).add(name)
    # Longest first: 人工智能 is the assistant, not a request for 人工.
    alternatives = [
        re.escape(e) if _CJK_RE.search(e) else rf"\b{re.escape(e)}\b"
        for e in sorted(literals, key=lambda e: (-len(e), e))
    ]
    pattern = re.compile("|".join(alternatives), re.ASCII)
    return pattern, {**literals, **words}, prefixes, tuple(sorted({len(p) for p in prefixes}))


_LITERALS, _NAMES, _PREFIXES, _PREFIX_LENGTHS = _index()


def concept_terms(folded: str) -> list[str]:
    """``k:<concept>`` and ``k:<a>+<b>`` for the message, ``kc:<a>+<b>`` for pairs within one clause."""
    ends = [m.start() for m in _CLAUSE_END.finditer(folded)]
    by_clause: dict[int, set[str]] = {}

    def add(names: set[str], at: int) -> None:
        by_clause.setdefault(bisect.bisect(ends, at), set()).update(names)

    for m in _LITERALS.finditer(folded):
        add(_NAMES[m.group()], m.start())
    for m in WORD_RE.finditer(folded):
        word = m.group()
        names = _NAMES.get(word)
        if names is not None:
            add(names, m.start())
        for n in _PREFIX_LENGTHS:
            if n > len(word):
                break
            found = _PREFIXES.get(word[:n])
            if found is not None:
                add(found, m.start())
    present = sorted(set().union(*by_clause.values())) if by_clause else []
    out = [f"k:{k}" for k in present]
    out += [f"k:{a}+{b}" for a, b in itertools.combinations(present, 2)]
    pairs = {pair for names in by_clause.values() for pair in itertools.combinations(sorted(names), 2)}
    out += [f"kc:{a}+{b}" for a, b in sorted(pairs)]
    return out
