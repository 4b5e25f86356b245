"""Requests for other customers' data: lists of buyers, a stranger's address, the previous chat.

"其他顾客都收到了" and "other customers say it runs small" mention other people but ask for nothing
personal; "所有用户的收货地址都必须填写手机号吗" names other people's data but asks about a rule. An
attack asks for their contact data, orders or identity, or disowns the order it asks about ("那不是
我的订单", "it's not mine"). Orders placed for family on the customer's own account (我帮我妈下的单)
are the customer's own.
"""

from __future__ import annotations

from guardline.guard.decision import Category
from guardline.guard.scanners.base import SignalScanner, signal

_ZH_OTHERS = r"(?:其他|其它|别的|别人|他人|所有|全部|全体|每个|每一个|每位|上一个|上一位|刚才那个|刚才那位|之前那个|另一个|这些|今天所有)"
_ZH_PEOPLE = r"(?:客户|顾客|用户|会员|买家|人|收件人|收货人|买过的人)"
_ZH_DATA = r"(?:手机号|手机|电话|号码|地址|住址|住哪|姓名|名字|名单|邮箱|联系方式|身份证|个人信息|信息|订单详情|订单信息|订单|资料|数据|叫什么|门牌号|消费记录|购买记录)"
_EN_OTHERS = r"(?:(?:the )?previous|(?:the )?last|other|all|every|another|the other|all the)"
_EN_PEOPLE = r"(?:customers?|users?|buyers?|members?|people|shoppers?|clients?)"
_EN_DATA = r"(?:phone|numbers?|address(?:es)?|emails?|names?|details|orders?|data|contacts?|information|info|accounts?)"

SIGNALS = (
    # Other people's data alone may be a question about a rule; with a request it is a request.
    signal(
        "others-data",
        rf"{_ZH_OTHERS}的?[^，。,.!?！？]{{0,6}}{_ZH_PEOPLE}[^，。,.!?！？]{{0,8}}{_ZH_DATA}",
        0.7,
    ),
    signal("others-data", rf"\b{_EN_OTHERS}\s+{_EN_PEOPLE}(?:'s|')?\b(?:\W+\w+){{0,6}}?\W+{_EN_DATA}\b", 0.7),
    signal(
        "others-data", rf"\b{_EN_DATA}\s+(?:of|from|for|belonging to)\s+{_EN_OTHERS}\s+{_EN_PEOPLE}\b", 0.7
    ),
    signal("others-data", rf"(?:别人|他人|其他人|陌生人)的[^，。,.!?！？]{{0,4}}{_ZH_DATA}", 0.7),
    # "I'll send you his name" is the customer handing a detail over, not asking for one.
    signal(
        "request",
        r"给我|发我|我想要|想要|发给我|告诉我|列出|列一下|导出|查一下|查下|查查|帮我查|看看|卖我|我想知道|(?<!\bi'll )(?<!\bi will )(?<!\bi can )(?<!\bi )\b(?:give|show|send|tell|list|export|dump|pull up|look up|find)\b|\bi need\b|\bcan you (?:tell|give|share)\b",
        0.4,
    ),
    signal(
        "not-own",
        r"别人的(?:订单|账号|信息|地址|电话|手机号)|不是我的(?:订单|账号)|那不是我的|\bsomeone else'?s\b|\bsomebody else'?s\b|\banother (?:customer|user|person)'?s\b|\bit'?s not mine\b|\bisn'?t mine\b|\bnot my order\b|\bit'?s my (?:friend|neighbou?r|colleague|ex)'?s\b",
        0.7,
    ),
    signal(
        "bulk-export",
        r"(?:导出|dump|export|下载)[^，。]{0,12}(?:客户|顾客|用户|会员|买家|名单)|\b(?:dump|export|send me|give me|download)\b.{0,20}\b(?:customer|user|member|buyer)s?\b.{0,10}\b(?:table|database|db|list|data|emails?|contacts?)\b",
        0.7,
    ),
    signal(
        "bulk-export",
        r"(?:客户|顾客|用户|会员|买家)的?(?:名单|信息|数据|资料|手机号|联系方式|邮箱)[^，。]{0,6}(?:导出|发给我|给我|发我)",
        0.7,
    ),
    signal(
        "customer-store",
        r"(?:客户|顾客|用户|会员|买家)的?(?:数据库|表|名单|列表)|数据库里|\b(?:customer|user|member) (?:table|database|db|list)\b",
        0.5,
    ),
    signal(
        "who-bought",
        r"(?:顾客|客户|买家|用户)(?:里|中)(?:有没有|谁|哪些)|谁买过|都有谁|哪些人买|是谁买的|谁下的单|下过单的人|买过[^，。]{0,8}的客户|投诉你们的那个|\bwho (?:else )?(?:bought|ordered|purchased)\b|\bpeople who (?:bought|ordered)\b|\bwhich (?:other )?customers\b|\bthe (?:person|customer|user|buyer) (?:who|that|named|called|whose)\b|(?:收货人|收件人|顾客|用户|客户)(?:叫|是谁|名字)|\bthe user named\b",
        0.5,
    ),
    signal(
        "ask-data",
        r"(?:他们|她们)的?(?:电话|手机号|地址|联系方式)|(?:客户|顾客|买家)的?(?:电话|手机号|联系方式|收货地址)|(?:他|她)(?:的)?(?:账号|订单)(?:里|上)?的?(?:收货地址|地址|手机号|电话)|\b(?:customers?|users?|people|buyers?)\b.{0,20}\blive (?:on|in|at|near)\b|联系一下那个(?:买家|顾客|人)|尾号\d+的那个人|(?:的|他的|她的)(?:订单)?(?:手机号|电话|地址|住址|邮箱|姓名)(?:是多少|是什么|告诉我|发给我|给我)|住哪|\b(?:their|his|her) (?:names?|address(?:es)?|emails?|phone(?: numbers?)?|contact (?:details|info))\b|\bpersonal details\b|\bcontact (?:details|info)\b|\bhome address\b|\baddress for the account\b|\bwith (?:their )?phone numbers\b|\bshipping address of\b|\b(?:address|phone|email|contact)(?: number| details)? of (?:the|a|that) (?:user|customer|person|buyer|guy|lady|woman|man)\b",
        0.5,
    ),
    # A stranger pointed at by what they bought ("那个买了五十件…的公司", "有个人订了三吨…"), then their
    # contact asked for: the purchase is how the shop is meant to find them.
    signal(
        "buyer-by-purchase",
        r"(?:那个|那位|那家|有个|有位|有家|某个|某位|一个|一位)[^，。？！?!]{0,4}(?:买了|买过|订了|订过|下单买了|购买了?|拍了)[^，。？！?!]{0,16}(?:的)?(?:人|公司|客户|顾客|买家|老板|店|单位|厂|学校|人家)|"
        r"(?:有个|有位|有一个|有一位|有家|那个|那位)(?:人|客人|客户|顾客|买家|公司|老板|阿姨|大爷|大叔|大哥|大姐|老师|学校)[^，。？！?!]{0,6}(?:买了|买过|订了|订过|下单|购买了?|拍了)|"
        r"\b(?:the|that|a|some) (?:person|guy|lady|company|customer|buyer|shop|school|firm|man|woman) (?:who|that) (?:bought|ordered|purchased|booked)\b",
        0.5,
    ),
    signal(
        "ask-data",
        r"(?:他|她|他们|她们|对方|联系人|那人|那家)的?(?:手机号|手机|电话|地址|住址|联系方式)(?:号码)?(?:是多少|是什么|多少|给我|发我|告诉我)|"
        r"\bwhat(?:'s| is| are) (?:his|her|their) (?:phone|number|address|email|contact)",
        0.5,
    ),
    signal(
        "identify-person",
        r"(?:那个|那位)(?:客户|顾客|买家|用户|人)是谁|收件人(?:是谁|叫什么)|\bwho (?:is|was) (?:the|that) (?:customer|buyer|recipient)\b",
        0.4,
    ),
    signal(
        "third-party-claim",
        r"我是(?:他|她)的?(?:同事|朋友|邻居|亲戚|老婆|老公)|(?:他|她)是我(?:前男友|前女友|前夫|前妻)|我是快递员|\bi'?m (?:his|her) (?:colleague|friend|neighbor)\b",
        0.5,
    ),
    # A role claimed by an organisation ("我是XX局的", "我是宠物医院的"): the opening of a demand for a
    # stranger's data, never needed to ask about one's own order.
    signal(
        "third-party-claim",
        r"我是[^，。,.!?！？]{0,10}(?:局|所|站|办|委|部|科|医院|诊所|公司|银行|法院|物业|学校|报社|电视台|媒体|机构|中心|部门)的(?![^，。,.!?！？]{0,4}(?:订单|账号|会员))|\bi'?m (?:a|an|the|his|her|their) (?:journalist|reporter|nanny|babysitter|carer|caregiver|vet|private investigator|investigator|detective|bailiff|debt collector|process server|courier|landlord|neighbou?r|colleague|boss|employer)\b",
        0.5,
    ),
    # What a named acquaintance (not a relative on one's own account) bought, booked or where they stay.
    signal(
        "others-purchases",
        r"(?:同事|朋友|邻居|室友|同学|前任|前男友|前女友|前夫|前妻|老板|上司|房东|租客)[^，。！？!?]{0,8}(?:买的|买了|买过|下的单|订的|订了|预约的|住的|住在|住哪)|\b(?:colleague|coworker|co-worker|neighbou?r|friend|ex|boss|classmate|tenant|landlord)'?s?\b.{0,25}\b(?:staying|room number|bought|ordered|booked|lives|living)\b",
        0.5,
    ),
    # A phone or ID number handed over to look up its holder: whose it is, what it registered, ordered.
    signal(
        "lookup-holder",
        r"(?:这个|这些|该)(?:手机号码?|电话号码?|号码|身份证号?|邮箱)[^，。！？!?]{0,30}(?:注册|会员|账号|下过|买过|是谁|叫什么|哪些单|什么单|的主人)|\b(?:is|does|was) (?:this|that) (?:phone number|number|email(?: address)?|id number)\b.{0,40}\b(?:member|account|registered|ordered|bought|belong)|\bwho (?:owns|has) (?:this|that) (?:phone number|number|email|account)\b|\bwhich accounts?\b.{0,30}\b(?:this|that) (?:number|email|id)\b",
        0.7,
    ),
    # When a named other person comes and goes (a gym's check-ins, a lock's entry log, a shift's
    # attendance): an employer or a neighbour watching someone, never the customer's own record.
    # "我和同事几点来取" is the customer's own visit.
    signal(
        "whereabouts",
        r"(?<![和跟与])(?:同事|员工|下属|邻居|室友|前任|前夫|前妻|租客|房客)[^，。！？!?]{0,10}(?:几点来|几点走|几点到|几点离开|进出记录|出入记录|打卡记录|签到记录|到店记录|来过几次|开门记录|开锁记录|考勤)|"
        r"\b(?:employee|colleague|co-?worker|staff member|neighbou?r|tenant|ex)'?s?\b.{0,30}\b(?:check-?in|visit|attendance|entry|access) (?:times|records?|logs?|history)\b|"
        r"\b(?:check-?in|attendance|entry|access) (?:times|records?|logs?|history)\b.{0,20}\b(?:of|for) (?:our|my|an?|the) (?:employee|colleague|co-?worker|staff member|neighbou?r|tenant)\b",
        0.7,
    ),
    # A ranking of customers by name ("充值最多的十个会员是谁", "your top 10 customers"): a list of people.
    signal(
        "ranked-customers",
        r"(?:最多|最高|最大|最贵|前[十一二三四五六七八九\d]+名?)的?(?:[十一二三四五六七八九\d]+个|几个|几位)?(?:会员|客户|顾客|用户|买家)(?:是谁|都是谁|有哪些人|名单|叫什么)|"
        r"\b(?:top|biggest|highest)\s+(?:\d+|ten|five|twenty)\s+(?:customers|members|buyers|spenders)\b",
        0.7,
    ),
    signal(
        "previous-chat",
        r"(?:上一个|上一位|之前|刚才)(?:咨询|问)?(?:你的)?(?:顾客|客户|用户|人)(?:说了|问了)|\b(?:previous|last) (?:customer|user|person)\b.{0,30}\b(?:ask|said|talked|spoke)|\bthe previous customer\b",
        0.6,
    ),
)


class OtherCustomerDataScanner(SignalScanner):
    name = "other_customer_data"
    category = Category.OTHER_CUSTOMER_DATA
    signals = SIGNALS
