"""Jailbreak: role-play and "mode" tricks that ask the bot to act as if it had no rules.

Role words alone are ordinary ("你能扮演一下导购吗", "act as my personal shopper"); the attack pairs a
persona with the absence of limits (没有任何限制, no restrictions), a named jailbreak persona (DAN,
developer mode, 越狱), a refusal ban, or a harmful goal.
"""

from __future__ import annotations

from guardline.guard.decision import Category
from guardline.guard.scanners.base import SignalScanner, signal

SIGNALS = (
    # A quoted "…模式" is a device's or an app's setting when it is the manual's key procedure
    # (“长按设置键进入指令模式”, 按住电源键进入“工程模式”), not a persona's name.
    signal(
        "named-jailbreak",
        r"\bdo anything now\b|\b(?:stan|dude) mode\b|\bjailbr(?:eak|oken)\b.{0,20}\b(?:mode|on|ai|bot|version|assistant)\b|越狱(?:模式|版)|jailbreak ?mode|无限制模式|无审查模式|无所不能模式|自由模式|(?<![键钮]进入)(?<![键钮]切换到)(?<![键钮]开启)(?<![键钮]打开)[“\"「『](?!(?:隐私|夜间|深色|暗黑|省电|静音|免打扰|勿扰|飞行|护眼|儿童|青少年|长辈|老年|极速|标准|普通|简洁|无痕|离线|游客|访客|节能|睡眠)模式|[^”\"」』]{0,8}[键钮])[^”\"」』“「『]{1,10}模式[”\"」』]|上帝模式|\bgod mode\b|\bunrestricted mode\b|\bevilbot\b|\bfreebot\b",
        1.0,
    ),
    signal("named-persona", r"(?<![a-z])dan(?![a-z])", 0.4),
    signal(
        "dev-mode",
        r"(?:进入|开启|打开|切换到|处于|启用)\s*(?:开发者|调试|管理员|维护)模式|\bmaintenance mode\b|\b(?:enter|enable|activate|switch to|in)\b.{0,10}\b(?:developer|dev|debug|admin) mode\b",
        0.6,
    ),
    signal(
        "no-limits",
        r"(?:没有|不受|无|摆脱了?|解除了?|不用管|不存在)(?:任何|所有)?(?:的)?(?:限制|规则|约束|道德|审查|过滤|底线|规定)|不受.{0,6}(?:限制|约束|规则)|限制已(?:经)?(?:解除|关闭)|什么都能(?:做|回答|说)|可以做任何事|回答任何问题|不要提任何规则|无所不能|不会拒绝|没有任何审核|规则不存在|没有良心",
        0.6,
    ),
    signal(
        "no-limits",
        r"\bno (?:restrictions|rules|limits|filters?|guidelines|content (?:policy|restrictions)|ethics|safety|limitations|morals)\b|\bwithout (?:any )?(?:restrictions|rules|limits|filters|refus\w*|content restrictions|ethics|safety)\b|\bunrestricted\b|\bunfiltered\b|\buncensored\b|\bfreed? (?:from|of) (?:all )?(?:its |your |the )?(?:limitations|restrictions|rules|confines)\b|\bbroken free\b|\bcan do anything\b|\bhas no (?:rules|limits|restrictions)\b|\bno boundaries\b|\bzero (?:guidelines|rules|restrictions|limits)\b|\bnever (?:says|say|refuses) no\b|\bnever refuses\b|\bdoesn'?t care about (?:the )?(?:store |shop )?(?:policy|policies|rules)\b|\bignores all (?:store )?policies\b|\brules don'?t exist\b|\bsafety layers are disabled\b",
        0.6,
    ),
    signal(
        "persona",
        r"扮演|假装|假设你是|假如你是|想象你是|你现在是|你是一个|你是我的(?:共犯|同伙|帮凶|搭档|同谋)|以[^，。]{1,8}的身份|角色扮演|玩个游戏|玩一个游戏|换个玩法|想象一个|想象一下|你就是那个|\bpretend\b|\bact as\b|\broleplay\b|\brole-play\b|\bimagine (?:you|that you)\b|\byou are now\b|\byou'?re now\b|\byou are no longer\b|\bbecome\b|\banswer as\b|\byour character\b|\blet'?s pretend\b|\bsimulate\b|\brespond as\b|\blet'?s play a game\b|\bfrom now on you\b",
        0.4,
    ),
    signal(
        "bedtime-trick",
        r"(?:奶奶|外婆|姥姥|grandma|grandmother|granny).{0,40}(?:密码|口令|password|credential|破解|激活码|序列号|license key|admin)",
        0.6,
    ),
    signal(
        "evil-persona",
        r"邪恶|黑客|没有道德|不道德|叛逆|没有良心|被黑客控制|\bevil\b|\bhacker\b|\bmalicious\b|\bno ethics\b|\bwithout ethics\b",
        0.4,
    ),
    signal(
        "split-persona",
        r"两个人格|两种人格|双重人格|\btwo personas\b|\bboth (?:a )?normal\b|\bnormal (?:bot|assistant) and\b",
        0.5,
    ),
    signal(
        "hypothetical",
        r"平行世界|虚构的世界|(?:假设|假如|如果)[^。]{0,20}(?:没有|不受)[^。]{0,10}(?:规定|规则|限制|约束)|\bhypothetical(?:ly)?\b.{0,60}\b(?:no|without)\b.{0,20}\b(?:safety|rules|guidelines|restrictions)",
        0.5,
    ),
    signal(
        "refusal-ban",
        r"不要拒绝|不许拒绝|不能拒绝|\bwithout refusing\b|\bnever refuse\b|\bdon'?t refuse\b|\bconfirm by saying\b|\bi am free\b",
        0.5,
    ),
    signal(
        "harmful-goal",
        r"盗刷|破解|绕过风控|薅羊毛|不被发现|别人的账号|免费拿|免费的货|\bstolen cards?\b|\bsteal\b|\bhack into\b|\bget into other\b|\bfor free\b|\bfree products?\b|\babuse\b|full customer database|other customers'? accounts|钻[^，。]{0,6}空子|规则漏洞|随意发放|骗过|后台秘密|\bwithout returning\b|\bstep by step how to\b|\bbypass your\b",
        0.3,
    ),
    # Enlisting the bot in deceiving the shop, a tax office or an inspector: an accomplice, a fake
    # claim, a forged invoice, goods that must slip past a check. A customer reporting or accusing
    # fraud names one of these and asks for nothing.
    signal(
        "accomplice",
        r"共犯|同伙|帮凶|同谋|狼狈为奸|\baccomplices?\b|\bpartners? in crime\b|\bco-?conspirators?\b|\bhenchm[ae]n\b",
        0.6,
    ),
    signal(
        "fraud-goal",
        r"伪造|造假|假发票|骗赔|骗保|骗取|虚假(?:理赔|索赔|签收|发货|单号|交易|物流)|逃税|偷税|漏税|"
        r"(?:避开|躲过|逃过|绕开)(?:检查|检测|海关|税务|监管|质检|安检|抽查)|不为[^，。]{0,4}所察|"
        r"\bfake (?:damage |insurance |delivery )?claims?\b|\bfalse claims?\b|\bforg(?:e|ed|ing) (?:an? |the )?(?:invoice|receipt|signature|document)s?\b|"
        r"\bfake (?:invoices?|receipts?|tracking)\b|\b(?:evade|dodge|slip past|get past|avoid) (?:customs|inspection|inspectors|tax|the checks)\b|\btax evasion\b",
        0.4,
    ),
    signal(
        "illicit-trade",
        r"黑市|地下市场|走私|无批号|没有批号|没批号|三无产品|\bblack market\b|\bsmuggl\w*|\bcounterfeits?\b|\bno batch number\b",
        0.3,
    ),
    # "It doesn't count if…": a frame that claims the rules do not apply to this way of asking.
    signal(
        "loophole-frame",
        r"(?:就|便|那就|也就)不算(?:违规|违反|犯规|违法|破戒)|不算违反(?:规则|规定)|"
        r"\b(?:doesn'?t|does not|won'?t|wouldn'?t) count as (?:breaking|violating|against)\b|\bnot against (?:the|your) rules if\b",
        0.6,
    ),
    signal(
        "disclosure-plot",
        r"(?:念|读|说|泄露|公开|透露)[^。]{0,6}(?:其他用户|别的用户|所有用户|客户|订单信息|数据库)|\b(?:reveals?|leaks?|reads? out|dumps?)\b.{0,30}\b(?:customers?|users?|database|orders|passwords?)\b",
        0.5,
    ),
    signal(
        "story-frame",
        r"(?:写|编)(?:一个|一段|一篇)?(?:故事|小说)|\bwrite a (?:story|novel|poem|script)\b|\bmovie script\b|\bscreenplay\b|\bsimulate a conversation\b",
        0.3,
    ),
)


class JailbreakScanner(SignalScanner):
    name = "jailbreak"
    category = Category.JAILBREAK
    signals = SIGNALS
