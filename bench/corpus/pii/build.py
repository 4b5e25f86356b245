#!/usr/bin/env python3
"""Build the Guardline PII evaluation corpus.

Reads the hand-written sources in ``bench/corpus/pii/src/*.txt`` (one message
per line, inline markup for personal data), fills generator placeholders with
fake values from a seeded RNG, strips the markup, computes Python ``str``
offsets and writes ``bench/corpus/pii/<file-stem>.jsonl``.

Stdlib only, deterministic.  Usage::

    python bench/corpus/pii/build.py            # build + print stats
    python bench/corpus/pii/build.py --check    # build in memory, compare to disk

Markup (see README.md):
    {{TYPE:literal}}        labeled span, literal value written by hand
    {{TYPE}}                labeled span, generated value (default style for the file kind)
    {{TYPE|tok+tok}}        labeled span, generated with style tokens
    {{NEG|gen}}             UNLABELED look-alike produced by a generator
    {{REF1}}                repeat the value of the 1st labeled span of this line (labeled again)
    @N <line>               render this template N times (different values each time)
    # comment               ignored; blank lines ignored
"""

from __future__ import annotations

import itertools
import json
import random
import re
import sys
import zlib
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
README = HERE / "README.md"

TYPES = [
    "PERSON",
    "PHONE",
    "ID_CARD",
    "BANK_CARD",
    "EMAIL",
    "ADDRESS",
    "PASSPORT",
    "TRAVEL_PERMIT",
    "LICENSE_PLATE",
    "IP_ADDRESS",
    "CREDENTIAL",
    "US_SSN",
]

MARKUP = re.compile(r"\{\{([A-Z_]+[0-9]*)(?:\|([A-Za-z0-9_+]+))?(?::(.*?))?\}\}")

# ---------------------------------------------------------------------------
# checksums
# ---------------------------------------------------------------------------
ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
ID_CHECK = "10X98765432"


def id_check_char(body17: str) -> str:
    return ID_CHECK[sum(int(c) * w for c, w in zip(body17, ID_WEIGHTS, strict=True)) % 11]


def id18_valid(s: str) -> bool:
    if not re.fullmatch(r"\d{17}[\dXx]", s):
        return False
    if s[:6] not in REGION_SET:
        return False
    try:
        d = date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return False
    if not (1900 <= d.year <= 2024):
        return False
    return id_check_char(s[:17]) == s[17].upper()


def luhn_ok(num: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(num)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def luhn_digit(payload: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


# ---------------------------------------------------------------------------
# pools (all fake / generic)
# ---------------------------------------------------------------------------
REGIONS = [
    "110101",
    "110102",
    "110105",
    "110108",
    "120101",
    "120104",
    "130102",
    "140105",
    "150102",
    "210102",
    "220102",
    "230102",
    "310101",
    "310104",
    "310115",
    "310110",
    "320102",
    "320106",
    "320505",
    "330102",
    "330106",
    "330110",
    "330212",
    "340104",
    "350203",
    "360102",
    "370102",
    "370202",
    "410105",
    "420102",
    "420106",
    "430104",
    "440106",
    "440304",
    "440305",
    "440306",
    "450103",
    "460106",
    "500103",
    "510104",
    "510107",
    "520102",
    "530102",
    "610113",
    "620102",
]
REGION_SET = set(REGIONS)

CN_MOBILE = [
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "147",
    "150",
    "151",
    "152",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "173",
    "175",
    "176",
    "177",
    "178",
    "180",
    "181",
    "182",
    "183",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "195",
    "198",
    "199",
]
CN_AREA = [
    ("010", 8),
    ("021", 8),
    ("020", 8),
    ("022", 8),
    ("023", 8),
    ("025", 8),
    ("027", 8),
    ("028", 8),
    ("029", 8),
    ("0755", 8),
    ("0571", 8),
    ("0512", 8),
    ("0731", 8),
    ("0592", 7),
    ("0532", 8),
    ("0371", 8),
    ("0898", 8),
    ("0757", 8),
    ("0769", 8),
    ("0311", 7),
]
US_AREA = [
    "212",
    "213",
    "312",
    "415",
    "503",
    "512",
    "617",
    "646",
    "702",
    "713",
    "720",
    "773",
    "206",
    "305",
    "404",
    "469",
    "602",
    "614",
    "919",
    "971",
    "310",
    "347",
]

UP16 = ["622202", "622848", "621700", "622588", "621226", "623668", "622700", "622609", "621483", "625967"]
UP19 = ["622202", "621700", "622848", "621661", "623058", "621799", "622188"]

ZH_SURNAMES_COMMON = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
ZH_NAMES = """
张伟 王芳 李娜 刘洋 陈静 杨磊 黄丽 赵敏 吴强 周杰 徐静怡 孙浩然 马丽娟 朱晓东 胡建华 郭婷婷 何志强 高雅琴 林晓峰 罗文斌
郑雪梅 梁家豪 谢婉清 宋佳琪 唐志远 许文涛 韩雪 冯晓燕 邓子涵 曹雨萱 彭宇航 曾国平 肖雅婷 田野 董明珠 袁梦瑶 潘俊杰 于海洋 蒋欣怡 蔡文静
余振东 杜鹏飞 叶子琪 程浩 苏晓婉 魏建军 吕思远 丁一凡 任嘉欣 沈佳宜 姚明亮 卢晓琳 姜文博 崔雅楠 钟晓霞 谭振宇 陆子昂 汪雨桐 范文静 金晓光
石磊 廖佳敏 贾思雨 夏雨晴 韦丽萍 付强 方晓雯 白云飞 邹凯 孟繁华 熊伟 秦朗 邱晓敏 江涛 尹雪莹 薛凯琪 闫晓东 段誉飞 雷鸣 侯佳佳
龙飞 史文杰 陶然 黎明辉 贺晓军 顾倩 毛晓彤 郝建平 龚雪芳 邵华 万里鹏 钱思琪 严冬 覃小凤 武志刚 戴晓蕾 莫雅婷 孔令辉 向晨曦 汤圆圆
王建国 李秀英 张桂兰 刘德明 陈小红 杨光 黄晓明 赵丽华 吴春燕 周小平 徐志勇 孙丽 马建华 朱丽萍 胡海涛 郭亮 何晓丽 高峰 林静 罗敏
郑浩 梁晨 谢晓峰 宋雨 唐敏 许晴 韩梅梅 冯骥 邓超群 曹磊 彭丽 曾小贤 肖战国 田甜 董卿然 袁泉水 潘晓婷 于敏 蒋雯丽 蔡明亮
王小明 李雷 张晓红 刘思彤 陈一鸣 杨紫涵 黄俊辉 赵子龙 吴佩琪 周思远 徐子轩 孙悦 马晓龙 朱一龙 胡可欣 郭子豪 何雨欣 高文博 林子萱 罗一航
王秀兰 李建军 张丽娟 刘桂芳 陈志明 杨秀珍 黄志刚 赵建新 吴晓梅 周国华 徐凤英 孙建平 马秀云 朱永红 胡玉兰 郭建国 何秀梅 高志华 林秀英 罗建平
欧阳娜娜 欧阳明 欧阳晓雪 司马光明 司马懿芳 诸葛亮亮 诸葛晓云 上官婉儿 慕容雪 东方明月 皇甫嵩杰 令狐晓冲 公孙丽 南宫雪 夏侯俊 端木蓉 尉迟恭明 长孙无忌 宇文泰华 独孤雪
""".split()
ZH_COMPOUND = [
    n
    for n in ZH_NAMES
    if n[:2]
    in {
        "欧阳",
        "司马",
        "诸葛",
        "上官",
        "慕容",
        "东方",
        "皇甫",
        "令狐",
        "公孙",
        "南宫",
        "夏侯",
        "端木",
        "尉迟",
        "长孙",
        "宇文",
        "独孤",
    }
]
ZH_SIMPLE = [n for n in ZH_NAMES if n not in ZH_COMPOUND]

EN_FIRST = """
James Mary John Patricia Robert Jennifer Michael Linda William Elizabeth David Barbara Richard Susan Joseph Jessica
Thomas Sarah Charles Karen Christopher Nancy Daniel Lisa Matthew Betty Anthony Margaret Mark Sandra Donald Ashley
Steven Kimberly Paul Emily Andrew Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Melissa George Deborah
Timothy Stephanie Ronald Rebecca Edward Sharon Jason Laura Jeffrey Cynthia Ryan Kathleen Jacob Amy Gary Angela
Nicholas Shirley Eric Anna Jonathan Brenda Stephen Pamela Larry Emma Justin Nicole Scott Helen Brandon Samantha
Benjamin Katherine Samuel Christine Gregory Debra Alexander Rachel Frank Carolyn Patrick Janet Raymond Catherine
Jack Maria Dennis Heather Jerry Diane Tyler Ruth Aaron Julie Jose Olivia Adam Joyce Nathan Virginia Henry Victoria
Priya Arjun Mei Hiroshi Carlos Sofia Ahmed Fatima Liam Chloe Noah Ava Ethan Mia Lucas Zoe Owen Grace Isaac Hannah
""".split()
EN_LAST = """
Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson Anderson
Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young
Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts
Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers Gutierrez
Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James
Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez OBrien Sullivan
Fitzgerald Kowalski Schmidt Novak Okafor Nakamura Tanaka Chen Wang Singh Khan Ali Murray Fraser Hughes Doyle
""".split()
PINYIN_NAMES = [
    "Zhang Wei",
    "Wang Fang",
    "Li Na",
    "Liu Yang",
    "Chen Jing",
    "Yang Lei",
    "Huang Li",
    "Zhao Min",
    "Wu Qiang",
    "Zhou Jie",
    "Xu Jingyi",
    "Sun Haoran",
    "Lin Xiaofeng",
    "Wei Zhang",
    "Fang Wang",
    "Ouyang Nana",
    "Guo Tingting",
    "He Zhiqiang",
    "Ma Lijuan",
    "Zhu Xiaodong",
]
# Opt-in pools (style tokens `intl`, `hyph`, `zhx`).  Only used by files that ask for them,
# so adding entries here never changes the output of older files.
EN_INTL = [
    "Priya Natarajan",
    "Oluwaseun Adeyemi",
    "Nguyen Van An",
    "Siobhan Kelly",
    "Aoife Brennan",
    "Chinedu Okonkwo",
    "Tran Thi Mai",
    "Rajesh Venkataraman",
    "Ngozi Eze",
    "Mehmet Yilmaz",
    "Katarzyna Wojcik",
    "Dmitri Volkov",
    "Bartholomew Quist",
    "Anjali Raghunathan",
    "Kwame Mensah",
    "Thandiwe Dlamini",
    "Sione Taufa",
    "Haruto Sasaki",
    "Leilani Kahananui",
    "Yusuf Abdirahman",
    "Ines Carvalho",
    "Bjorn Lindqvist",
    "Farah Siddiqui",
    "Ewa Kaczmarek",
]
EN_HYPH = [
    "Mary-Kate O'Neill",
    "Sean O'Brien",
    "Niamh O'Sullivan",
    "Connor McAllister",
    "Fiona MacLeod",
    "Jean-Luc Moreau",
    "Anne-Marie Duval",
    "Ryan McKenzie-Hart",
    "Olivia Smith-Jones",
    "Hannah Lloyd-Webber",
    "Declan O'Rourke",
    "Ewan McGregor-Bain",
    "Zoe Barrett-Lowe",
    "Liam De Souza",
    "Sophie van der Berg",
    "Kyle D'Angelo",
]
ZH_NAMES_X = """
王建军 李明 刘淑芬 陈国栋 杨帆 黄丽蓉 赵磊 周敏 吴桐 徐晨 孙小梅 马骏 朱红 胡斌 郭强 何平 高翔 林峰 罗琳 郑凯
梁红 宋飞 唐静 韩冰 冯涛 邓辉 曹颖 彭博 曾静 田亮 董丽洁 袁媛 潘虹宇 蒋勤 蔡晓琴 余欢 杜娟 叶青 程龙飞 苏敏
魏巍 吕方 丁晓宁 任静 沈浩 姚晓晨 卢平 姜华 崔志健 钟琪 谭晓晶 陆永毅 汪洋 范卫东 金鑫 石慧 廖凡 贾玲玲 夏天宇 韦一
付晓 方舟 白雪 邹敏 孟然 熊小宝 秦晓岚 江一燕 尹力 薛冰 段然 雷佳 侯志勇 龙梅 史进 陶红霞 黎雪姿 贺兰 顾长军 毛秀敏
欧阳振华 司马南风 诸葛文 上官云 慕容晓晓 东方红梅 令狐雪 西门庆丰 澹台明 钟离秋 呼延平 申屠晓
""".split()
ZH_CMP_PREFIX = {
    "欧阳",
    "司马",
    "诸葛",
    "上官",
    "慕容",
    "东方",
    "令狐",
    "西门",
    "澹台",
    "钟离",
    "呼延",
    "申屠",
}
EMAIL_USERS_CN = [
    "zhangwei",
    "wangfang",
    "lina",
    "liuyang",
    "chenjing",
    "yanglei",
    "huangli",
    "zhaomin",
    "wuqiang",
    "zhoujie",
    "xjy",
    "sunhr",
    "mlj",
    "zhuxd",
    "hujh",
    "guott",
    "hezq",
    "gaoyq",
    "linxf",
    "luowb",
    "zxm",
    "liangjh",
    "xiewq",
    "songjq",
    "tangzy",
    "xuwt",
    "hanxue",
    "dengzh",
    "xiaomao",
    "happy_cat",
    "sunny.day",
    "tiantian",
    "mumu",
    "lemon",
    "ouyangnn",
]
CN_MAIL = [
    "qq.com",
    "163.com",
    "126.com",
    "sina.com",
    "foxmail.com",
    "139.com",
    "outlook.com",
    "gmail.com",
    "aliyun.com",
    "yeah.net",
    "hotmail.com",
    "sohu.com",
]
EN_MAIL = [
    "gmail.com",
    "outlook.com",
    "yahoo.com",
    "icloud.com",
    "hotmail.com",
    "protonmail.com",
    "aol.com",
    "comcast.net",
    "mail.com",
    "yahoo.co.uk",
    "btinternet.com",
]
WORK_MAIL = [
    "acme-corp.com",
    "northwind.io",
    "contoso.com",
    "example-tech.cn",
    "hengda-trading.com.cn",
    "brightstar.co.uk",
    "bluefin.dev",
]

ZH_ADMIN = [
    ("广东省", "深圳市", "南山区"),
    ("广东省", "深圳市", "福田区"),
    ("广东省", "深圳市", "宝安区"),
    ("广东省", "广州市", "天河区"),
    ("广东省", "广州市", "海珠区"),
    ("广东省", "佛山市", "顺德区"),
    ("北京市", "", "朝阳区"),
    ("北京市", "", "海淀区"),
    ("北京市", "", "丰台区"),
    ("北京市", "", "昌平区"),
    ("上海市", "", "浦东新区"),
    ("上海市", "", "徐汇区"),
    ("上海市", "", "闵行区"),
    ("上海市", "", "静安区"),
    ("浙江省", "杭州市", "西湖区"),
    ("浙江省", "杭州市", "余杭区"),
    ("浙江省", "宁波市", "鄞州区"),
    ("江苏省", "南京市", "鼓楼区"),
    ("江苏省", "苏州市", "吴中区"),
    ("江苏省", "无锡市", "滨湖区"),
    ("四川省", "成都市", "武侯区"),
    ("四川省", "成都市", "高新区"),
    ("湖北省", "武汉市", "洪山区"),
    ("湖北省", "武汉市", "江汉区"),
    ("湖南省", "长沙市", "岳麓区"),
    ("山东省", "青岛市", "市南区"),
    ("山东省", "济南市", "历下区"),
    ("福建省", "厦门市", "思明区"),
    ("福建省", "福州市", "鼓楼区"),
    ("重庆市", "", "渝北区"),
    ("重庆市", "", "江北区"),
    ("天津市", "", "南开区"),
    ("陕西省", "西安市", "雁塔区"),
    ("河南省", "郑州市", "金水区"),
    ("辽宁省", "沈阳市", "和平区"),
    ("辽宁省", "大连市", "沙河口区"),
    ("安徽省", "合肥市", "蜀山区"),
    ("云南省", "昆明市", "五华区"),
    ("江西省", "南昌市", "红谷滩区"),
    ("广西壮族自治区", "南宁市", "青秀区"),
    ("河北省", "石家庄市", "长安区"),
    ("黑龙江省", "哈尔滨市", "南岗区"),
    ("山西省", "太原市", "小店区"),
    ("贵州省", "贵阳市", "观山湖区"),
    ("海南省", "海口市", "美兰区"),
    ("吉林省", "长春市", "朝阳区"),
    ("内蒙古自治区", "呼和浩特市", "赛罕区"),
]
ZH_ROADS = [
    "科技园南路",
    "深南大道",
    "建国路",
    "中关村大街",
    "学院路",
    "张江路",
    "文三路",
    "天府大道",
    "人民路",
    "解放路",
    "中山路",
    "淮海中路",
    "长江路",
    "黄河路",
    "和平路",
    "建设路",
    "新华路",
    "光明路",
    "东风路",
    "五一路",
    "滨江大道",
    "南京西路",
    "世纪大道",
    "高新大道",
    "望京街",
    "体育西路",
    "珠江路",
    "延安路",
    "青年路",
    "工业大道",
    "创业路",
    "北京路",
    "迎宾大道",
    "金沙江路",
    "枫林路",
    "古墩路",
    "解放大道",
    "沿江东路",
    "翠微路",
    "民主路",
]
ZH_COMPLEX = [
    "阳光花园",
    "锦绣家园",
    "万科城",
    "碧桂园",
    "翠苑小区",
    "幸福里小区",
    "龙湖时代天街",
    "华润城",
    "保利中心",
    "大冲商务中心",
    "金地名津",
    "绿城桂花园",
    "新城国际",
    "世纪花园",
    "恒大名都",
    "中海国际社区",
    "东方明珠苑",
    "天通苑",
    "望京SOHO",
    "国贸大厦",
    "银泰中心",
    "星河湾",
    "紫荆公寓",
    "丽都花园",
    "和谐家园",
    "滨江花园",
    "金色港湾",
    "书香门第小区",
    "时代广场",
    "财富大厦",
]

US_CITIES = [
    ("Springfield", "IL", "627"),
    ("Austin", "TX", "787"),
    ("Seattle", "WA", "981"),
    ("Portland", "OR", "972"),
    ("Denver", "CO", "802"),
    ("Columbus", "OH", "432"),
    ("San Jose", "CA", "951"),
    ("Brooklyn", "NY", "112"),
    ("Boston", "MA", "021"),
    ("Miami", "FL", "331"),
    ("Phoenix", "AZ", "850"),
    ("Atlanta", "GA", "303"),
    ("Chicago", "IL", "606"),
    ("Madison", "WI", "537"),
    ("Raleigh", "NC", "276"),
    ("Nashville", "TN", "372"),
    ("Salt Lake City", "UT", "841"),
    ("Minneapolis", "MN", "554"),
    ("Pittsburgh", "PA", "152"),
    ("Sacramento", "CA", "958"),
    ("Plano", "TX", "750"),
    ("Ann Arbor", "MI", "481"),
    ("Newark", "NJ", "071"),
    ("Tampa", "FL", "336"),
]
US_STATE_NAMES = {
    "IL": "illinois",
    "TX": "texas",
    "WA": "washington",
    "OR": "oregon",
    "CO": "colorado",
    "OH": "ohio",
    "CA": "california",
    "NY": "new york",
    "MA": "massachusetts",
    "FL": "florida",
    "AZ": "arizona",
    "GA": "georgia",
    "WI": "wisconsin",
    "NC": "north carolina",
    "TN": "tennessee",
    "UT": "utah",
    "MN": "minnesota",
    "PA": "pennsylvania",
    "MI": "michigan",
    "NJ": "new jersey",
}
US_STREETS = [
    "Maple",
    "Oak",
    "Pine",
    "Cedar",
    "Elm",
    "Washington",
    "Lake",
    "Hill",
    "Sunset",
    "Park",
    "Main",
    "Market",
    "Mission",
    "Broadway",
    "Willow",
    "Jefferson",
    "Lincoln",
    "Highland",
    "Meadow",
    "Riverside",
    "Chestnut",
    "Walnut",
    "Franklin",
    "Madison",
    "Spruce",
    "Forest",
    "Valley",
    "Church",
]
US_SUFFIX = [
    "Street",
    "St",
    "Avenue",
    "Ave",
    "Road",
    "Rd",
    "Boulevard",
    "Blvd",
    "Lane",
    "Ln",
    "Drive",
    "Dr",
    "Court",
    "Way",
    "Place",
]
UK_PLACES = [
    ("London", "SW", "NW", "E", "SE", "N"),
    (
        "Manchester",
        "M",
    ),
    (
        "Leeds",
        "LS",
    ),
    (
        "Bristol",
        "BS",
    ),
    (
        "Edinburgh",
        "EH",
    ),
    (
        "Birmingham",
        "B",
    ),
    (
        "Glasgow",
        "G",
    ),
    (
        "Cambridge",
        "CB",
    ),
]
UK_STREETS = [
    "Baker Street",
    "High Street",
    "Church Road",
    "Station Road",
    "Victoria Road",
    "Park Lane",
    "Mill Lane",
    "Queen's Road",
    "King Street",
    "Green Lane",
    "Albert Road",
    "Manor Road",
]

PROVINCE_ABBR = list("京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤川宁琼")
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
IP_FIRST = [
    36,
    39,
    42,
    58,
    59,
    60,
    61,
    101,
    106,
    111,
    112,
    113,
    114,
    115,
    116,
    117,
    119,
    120,
    121,
    122,
    123,
    124,
    125,
    171,
    175,
    180,
    182,
    183,
    202,
    203,
    210,
    211,
    218,
    219,
    220,
    221,
    222,
    223,
]

ZH_DIGITS = "零一二三四五六七八九"
EN_DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
FW = str.maketrans(
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-+@.",
    "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ"
    "ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ－＋＠．",
)


# ---------------------------------------------------------------------------
# renderers
# ---------------------------------------------------------------------------
def digits(rng, n):
    return "".join(rng.choice("0123456789") for _ in range(n))


def split_groups(s, sizes):
    out, i = [], 0
    for n in sizes:
        out.append(s[i : i + n])
        i += n
    if i < len(s):
        out.append(s[i:])
    return [g for g in out if g]


class ZhVoice:
    """Per-value choice of colloquial digit readings."""

    def __init__(self, rng):
        self.rng = rng
        self.yao = rng.random() < 0.85
        self.liang = rng.random() < 0.15
        self.dong = rng.random() < 0.2
        self.guai = rng.random() < 0.15
        self.x = rng.choice(["X", "X", "X", "叉"])

    def digit(self, ch):
        if ch == "1":
            return "幺" if self.yao else "一"
        if ch == "2":
            return "两" if self.liang else "二"
        if ch == "0":
            return "洞" if self.dong else "零"
        if ch == "7":
            return "拐" if self.guai else "七"
        if ch in "Xx":
            return self.x
        if ch.isdigit():
            return ZH_DIGITS[int(ch)]
        return ch


def zh_spoken(groups, rng, mode="zh"):
    v = ZhVoice(rng)
    if mode == "zhflat":
        return "".join(v.digit(c) for g in groups for c in g)
    sep = (
        rng.choice([" ", " ", " ", " ", "，", "、", ""]) if mode == "zh" else rng.choice([" ", " ", " ", ""])
    )
    parts = []
    for g in groups:
        if mode == "zhmix" and rng.random() < 0.5:
            parts.append(g)
        else:
            parts.append("".join(v.digit(c) for c in g))
    if mode == "zhmix" and len(groups) > 1:
        if all(p == g for p, g in zip(parts, groups, strict=False)):
            parts[-1] = "".join(v.digit(c) for c in groups[-1])
        elif not any(p == g for p, g in zip(parts, groups, strict=False)):
            parts[0] = groups[0]
        sep = " " if sep == "" and rng.random() < 0.5 else sep
    return sep.join(parts)


def en_spoken(groups, rng, upper_letters=False):
    oh = rng.random() < 0.4
    words = []
    for g in groups:
        for c in g:
            if c.isdigit():
                words.append("oh" if (c == "0" and oh) else EN_DIGITS[int(c)])
            else:
                words.append(c.upper() if upper_letters else c.lower())
    return " ".join(words)


def render_digits(raw, sizes, toks, rng, ctx, plain_sep=None):
    """Render a digit string according to format tokens."""
    groups = split_groups(raw, sizes)
    fmt = None
    for t in ("zh", "zhmix", "zhflat", "en", "endig", "g4", "g6", "space", "dash", "comma", "plain"):
        if t in toks:
            fmt = t
            break
    if fmt is None:
        if ctx["call"] and ctx["lang"] == "zh":
            fmt = rng.choice(["zh", "zh", "zh", "zhmix", "zhflat"])
        elif ctx["call"]:
            fmt = rng.choice(["en", "en", "en", "endig"])
        else:
            fmt = plain_sep or "plain"
    if fmt in ("zh", "zhmix", "zhflat"):
        s = zh_spoken(groups, rng, fmt)
    elif fmt == "en":
        s = en_spoken(groups, rng)
    elif fmt == "endig":
        s = " ".join(groups) if rng.random() < 0.6 else " ".join(raw)
    elif fmt in ("g4", "g6", "space"):
        s = " ".join(groups)
    elif fmt == "dash":
        s = "-".join(groups)
    elif fmt == "comma":
        s = rng.choice([",", "，"]).join(groups)
    else:
        s = raw
    if "fw" in toks:
        s = s.translate(FW)
    return s


# ---------------------------------------------------------------------------
# value generators: each returns the surface string
# ---------------------------------------------------------------------------
def cn_mobile(rng):
    return rng.choice(CN_MOBILE) + digits(rng, 8)


def gen_phone(rng, toks, ctx):
    if ctx["lang"] == "en" and not (toks & {"cn", "p86", "c0086", "land", "hk"}):
        kind = next((t for t in ("us", "p1", "uk", "ukm", "intl") if t in toks), "us")
        if kind == "intl":
            kind = rng.choice(["p1", "uk", "ukm", "p86", "hk"])
    else:
        kind = next(
            (t for t in ("cn", "p86", "c0086", "land", "landnd", "hk", "us", "p1", "uk", "ukm") if t in toks),
            "cn",
        )
    spoken = bool(toks & {"zh", "zhmix", "zhflat", "en", "endig"}) or ctx["call"]
    if kind == "cn":
        raw = cn_mobile(rng)
        if spoken:
            return render_digits(raw, [3, 4, 4], toks, rng, ctx)
        return render_digits(raw, [3, 4, 4], toks, rng, ctx)
    if kind == "p86":
        raw = cn_mobile(rng)
        if spoken:
            pre = ["plus eight six ", "eight six "] if ctx["lang"] == "en" else ["+86 ", "加八六 ", "86 "]
            return rng.choice(pre) + render_digits(raw, [3, 4, 4], toks, rng, ctx)
        f = rng.choice(
            ["+86 {a} {b} {c}", "+86{a}{b}{c}", "+86-{a}-{b}-{c}", "+86 {a}{b}{c}", "(+86) {a} {b} {c}"]
        )
        a, b, c = raw[:3], raw[3:7], raw[7:]
        return f.format(a=a, b=b, c=c).translate(FW) if "fw" in toks else f.format(a=a, b=b, c=c)
    if kind == "c0086":
        raw = cn_mobile(rng)
        return rng.choice(["0086 ", "0086-", "0086"]) + raw
    if kind in ("land", "landnd"):
        area, n = rng.choice(CN_AREA)
        local = str(rng.randint(2, 8)) + digits(rng, n - 1)
        if spoken:
            return render_digits(area + local, [len(area), n], toks, rng, ctx)
        if kind == "landnd":
            return area + local
        if "space" in toks:
            return f"{area} {local}"
        if "paren" in toks:
            return f"({area}){local}"
        if n == 8 and rng.random() < 0.3:
            return f"{area}-{local[:4]}-{local[4:]}"
        return f"{area}-{local}"
    if kind == "hk":
        local = rng.choice("5679") + digits(rng, 7)
        if spoken:
            return render_digits("852" + local, [3, 4, 4], toks, rng, ctx)
        return rng.choice(["+852 {a} {b}", "+852-{a}-{b}", "(852) {a} {b}", "+852 {a}{b}"]).format(
            a=local[:4], b=local[4:]
        )
    if kind in ("us", "p1"):
        area = rng.choice(US_AREA)
        ex = str(rng.randint(2, 9)) + digits(rng, 2)
        if rng.random() < 0.4:
            ex = "555"
            line = "01" + digits(rng, 2)
        else:
            line = digits(rng, 4)
        raw = area + ex + line
        if spoken:
            s = render_digits(raw, [3, 3, 4], toks, rng, ctx)
            if kind == "p1":
                s = (
                    "plus one " if "en" in toks or ("endig" not in toks and ctx["lang"] == "en") else "+1 "
                ) + s
            return s
        if kind == "p1":
            return rng.choice(
                ["+1 {a} {b} {c}", "+1 ({a}) {b}-{c}", "+1-{a}-{b}-{c}", "+1{a}{b}{c}", "1-{a}-{b}-{c}"]
            ).format(a=area, b=ex, c=line)
        return rng.choice(
            ["({a}) {b}-{c}", "{a}-{b}-{c}", "{a}.{b}.{c}", "{a} {b} {c}", "{a}{b}{c}", "({a}){b}-{c}"]
        ).format(a=area, b=ex, c=line)
    if kind == "uk":  # London landline
        local = "7" + digits(rng, 3) + digits(rng, 4)
        if spoken:
            return render_digits("020" + local, [3, 4, 4], toks, rng, ctx)
        return rng.choice(["+44 20 {a} {b}", "020 {a} {b}", "+44 (0)20 {a} {b}", "+442{z}{a}{b}"]).format(
            a=local[:4], b=local[4:], z="0"
        )
    if kind == "ukm":
        local = "7" + rng.choice(["700", "911", "824", "956", "412", "307"]) + digits(rng, 6)
        if spoken:
            return render_digits("0" + local, [5, 6], toks, rng, ctx)
        return rng.choice(["+44 {a} {b}", "0{a} {b}", "+44{a}{b}", "0{a}{b}"]).format(
            a=local[:4], b=local[4:]
        )
    raise ValueError(kind)


def gen_id_raw(rng, want_x=None):
    while True:
        region = rng.choice(REGIONS)
        d = date(1950, 1, 1) + timedelta(days=rng.randint(0, (date(2008, 12, 31) - date(1950, 1, 1)).days))
        body = region + d.strftime("%Y%m%d") + digits(rng, 3)
        c = id_check_char(body)
        if want_x is None or (want_x == (c == "X")):
            return body + c


def gen_id(rng, toks, ctx):
    if "legacy" in toks:
        region = rng.choice(REGIONS)
        d = date(1950, 1, 1) + timedelta(days=rng.randint(0, (date(1999, 12, 31) - date(1950, 1, 1)).days))
        raw = region + d.strftime("%y%m%d") + digits(rng, 3)
        return render_digits(raw, [6, 6, 3], toks, rng, ctx)
    raw = gen_id_raw(rng, True if ("x" in toks or "lowx" in toks) else None)
    if "lowx" in toks:
        raw = raw[:-1] + "x"
    assert id18_valid(raw)
    if "spaced" in toks:
        return render_digits(raw, [6, 8, 4], {"space"} | (toks & {"fw"}), rng, ctx)
    sizes = rng.choice([[6, 8, 4], [3, 3, 4, 4, 4], [6, 4, 4, 4]])
    if ctx["call"] and ctx["lang"] == "zh" and not (toks & {"zh", "zhmix", "zhflat"}):
        toks = toks | {rng.choice(["zh", "zh", "zhflat", "zhmix"])}
    return render_digits(raw, sizes, toks, rng, ctx)


def gen_card_raw(rng, net):
    if net == "up16":
        p, n = rng.choice(UP16), 16
    elif net == "up19":
        p, n = rng.choice(UP19), 19
    elif net == "visa":
        p, n = "4" + digits(rng, 5), 16
    elif net == "mc":
        p, n = str(rng.randint(51, 55)) + digits(rng, 4), 16
    elif net == "amex":
        p, n = rng.choice(["34", "37"]) + digits(rng, 4), 15
    else:
        raise ValueError(net)
    payload = p + digits(rng, n - len(p) - 1)
    return payload + luhn_digit(payload)


def gen_card(rng, toks, ctx):
    net = next((t for t in ("up16", "up19", "visa", "mc", "amex") if t in toks), None)
    if net is None:
        net = (
            rng.choice(["up16", "up16", "up19", "visa", "mc"])
            if ctx["lang"] == "zh"
            else rng.choice(["visa", "visa", "mc", "mc", "amex", "up16"])
        )
    raw = gen_card_raw(rng, net)
    if "bad" in toks:
        raw = raw[:-1] + str((int(raw[-1]) + rng.randint(1, 9)) % 10)
        assert not luhn_ok(raw)
    else:
        assert luhn_ok(raw)
    if "last4" in toks:
        return raw[-4:]
    sizes = [4, 6, 5] if net == "amex" else ([6, 13] if ("g6" in toks and net == "up19") else [4, 4, 4, 4, 3])
    return render_digits(raw, sizes, toks, rng, ctx)


def gen_email(rng, toks, ctx):
    if "qq" in toks:
        addr = str(rng.randint(1, 9)) + digits(rng, rng.randint(6, 9)) + "@qq.com"
    elif "work" in toks:
        addr = (
            rng.choice(
                [
                    "j.smith",
                    "li.na",
                    "wang.fang",
                    "mchen",
                    "a.kowalski",
                    "support-ops",
                    "zhangwei",
                    "p.patel",
                    "finance.ap",
                ]
            )
            + "@"
            + rng.choice(WORK_MAIL)
        )
    elif "en" in toks or (ctx["lang"] == "en" and "cn" not in toks):
        f, last = rng.choice(EN_FIRST).lower(), rng.choice(EN_LAST).lower()
        user = rng.choice(
            [
                f"{f}.{last}",
                f"{f}{last}",
                f"{f[0]}{last}",
                f"{f}_{last}{rng.randint(1, 99)}",
                f"{f}{rng.randint(70, 99)}",
                f"{last}.{f[0]}",
            ]
        )
        addr = user + "@" + rng.choice(EN_MAIL)
    else:
        user = rng.choice(EMAIL_USERS_CN) + rng.choice(
            ["", str(rng.randint(1, 99)), str(rng.randint(1975, 2005)), "_" + digits(rng, 3)]
        )
        addr = user + "@" + rng.choice(CN_MAIL)
    if "upper" in toks:
        addr = addr[0].upper() + addr[1:]
    if ("spoken" in toks) or (ctx["call"] and ctx["lang"] == "en" and "plain" not in toks):
        user, dom = addr.split("@")
        user = user.replace(".", " dot ").replace("_", " underscore ")
        user = re.sub(r"(\d)", lambda m: " " + EN_DIGITS[int(m.group(1))] + " ", user)
        user = re.sub(r"\s+", " ", user).strip()
        return f"{user} at {dom.replace('.', ' dot ')}"
    if "fw" in toks:
        return addr.translate(FW)
    return addr


def zh_num(n):
    D = ZH_DIGITS
    if n < 10:
        return D[n]
    if n < 20:
        return "十" + (D[n % 10] if n % 10 else "")
    if n < 100:
        return D[n // 10] + "十" + (D[n % 10] if n % 10 else "")
    h, r = divmod(n, 100)
    s = D[h] + "百"
    if r == 0:
        return s
    if r < 10:
        return s + "零" + D[r]
    return s + D[r // 10] + "十" + (D[r % 10] if r % 10 else "")


ZH_COUNTY = [
    ("河南省", "周口市", "郸城县", "吴台镇", "李楼村"),
    ("山东省", "菏泽市", "曹县", "青堌集镇", "王庄村"),
    ("四川省", "南充市", "仪陇县", "马鞍镇", "石佛村"),
    ("湖南省", "邵阳市", "隆回县", "桃洪镇", "白马村"),
    ("江西省", "赣州市", "于都县", "禾丰镇", "杨梅村"),
    ("安徽省", "阜阳市", "临泉县", "杨桥镇", "张营村"),
    ("河北省", "保定市", "涞源县", "银坊镇", "东团堡村"),
    ("广西壮族自治区", "玉林市", "博白县", "龙潭镇", "新华村"),
    ("贵州省", "毕节市", "大方县", "羊场镇", "高店村"),
    ("湖北省", "黄冈市", "蕲春县", "漕河镇", "何家湾村"),
    ("浙江省", "温州市", "苍南县", "灵溪镇", "渡龙村"),
    ("福建省", "泉州市", "安溪县", "龙门镇", "桂瑶村"),
]
ZH_LANES = [
    ("上海市", "", "黄浦区", "建国中路", "弄"),
    ("上海市", "", "静安区", "愚园路", "弄"),
    ("上海市", "", "徐汇区", "永嘉路", "弄"),
    ("北京市", "", "东城区", "南锣鼓巷", "号"),
    ("北京市", "", "西城区", "百花深处胡同", "号"),
    ("北京市", "", "东城区", "史家胡同", "号"),
    ("四川省", "成都市", "青羊区", "宽窄巷子", "号"),
    ("福建省", "福州市", "鼓楼区", "三坊七巷衣锦坊", "号"),
    ("江苏省", "苏州市", "姑苏区", "平江路大儒巷", "号"),
    ("广东省", "广州市", "越秀区", "莲花巷", "号"),
]


def gen_address_zh_extra(rng, toks, ctx):
    """`rural`: 县/镇/村/组/号; `lane`: 弄/巷/胡同 addresses (opt-in styles)."""
    spoken = "zh" in toks or ctx["call"]

    def n(k):
        return zh_num(k) if spoken else str(k)

    if "rural" in toks:
        prov, city, county, town, village = rng.choice(ZH_COUNTY)
        head = rng.choice([prov + city + county, city + county, county])
        tail = rng.choice(
            [
                f"{n(rng.randint(1, 12))}组{n(rng.randint(1, 60))}号",
                f"{n(rng.randint(1, 9))}组",
                f"{n(rng.randint(1, 80))}号",
                f"村委会旁{n(rng.randint(1, 40))}号",
            ]
        )
        return head + town + village + tail
    prov, city, dist, road, kind = rng.choice(ZH_LANES)
    head = rng.choice([prov + city + dist, (city or prov) + dist, dist])
    if kind == "弄":
        body = f"{road}{n(rng.randint(10, 900))}弄{n(rng.randint(1, 60))}号{n(rng.randint(101, 602))}室"
    else:
        body = f"{road}{n(rng.randint(1, 120))}号" + rng.choice(["", "院", f"{n(rng.randint(1, 9))}号院"])
    return head + body


def gen_address_zh(rng, toks, ctx):
    if toks & {"rural", "lane"}:
        return gen_address_zh_extra(rng, toks, ctx)
    prov, city, dist = rng.choice(ZH_ADMIN)
    road = rng.choice(ZH_ROADS)
    no = rng.choice([rng.randint(1, 99), rng.randint(1, 99), rng.randint(100, 999)])
    comp = rng.choice(ZH_COMPLEX)
    b, u = rng.randint(1, 28), rng.randint(1, 6)
    floor = rng.randint(1, 32)
    room = f"{floor}{rng.randint(1, 12):02d}"
    spoken = "zh" in toks or ctx["call"]
    V = ZhVoice(rng)
    if spoken:
        nos = zh_num(no) if rng.random() < 0.7 else "".join(V.digit(c) for c in str(no))
        bs, us = zh_num(b), zh_num(u)
        rooms = "".join(V.digit(c) for c in room)
    else:
        nos, bs, us, rooms = str(no), str(b), str(u), room
    unit = rng.choice(
        [
            f"{bs}栋{us}单元{rooms}室",
            f"{bs}号楼{rooms}",
            f"{rng.choice('ABCDE')}座{rooms}室",
            f"{bs}幢{rooms}室",
            f"{bs}栋{rooms}",
            f"{bs}号楼{us}单元{rooms}",
        ]
    )
    style = next((t for t in ("full", "city", "dist", "noroad", "road") if t in toks), None)
    if style is None:
        style = rng.choice(["full", "full", "city", "city", "dist", "noroad"])
    if style == "full":
        head = prov + city + dist
    elif style == "city":
        head = (city or prov) + dist
    else:
        head = dist
    if style == "noroad":
        body = comp + unit
    elif style == "road":
        return head + road + nos + "号"
    else:
        body = road + nos + "号" + (comp if rng.random() < 0.7 else "") + unit
    sep = " " if (ctx["call"] and rng.random() < 0.3) else ""
    return head + sep + body


def gen_address_en(rng, toks, ctx):
    spoken = "spoken" in toks or ctx["call"]
    if "uk" in toks or ("us" not in toks and rng.random() < 0.2):
        city, *areas = rng.choice(UK_PLACES)
        area = rng.choice(areas)
        pc = f"{area}{rng.randint(1, 20)} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
        num = str(rng.randint(1, 240)) + (rng.choice(["", "", "", "A", "B"]))
        street = rng.choice(UK_STREETS)
        flat = rng.random() < 0.25
        if spoken:
            s = f"{en_spoken([num], rng)} {street.lower()} {city.lower()} {en_spoken([pc.replace(' ', '')], rng)}"
            return s
        s = f"{num} {street}, {city} {pc}"
        return (f"Flat {rng.randint(1, 30)}, " + s) if flat else s
    city, st, zp = rng.choice(US_CITIES)
    zipc = zp + digits(rng, 2)
    num = str(rng.choice([rng.randint(1, 99), rng.randint(100, 999), rng.randint(1000, 9999)]))
    street = rng.choice(US_STREETS)
    suf = rng.choice(US_SUFFIX)
    unit = rng.choice(
        [
            "",
            "",
            "",
            f"Apt {rng.randint(1, 20)}{rng.choice('ABCD')}",
            f"Suite {rng.randint(100, 999)}",
            f"Unit {rng.randint(1, 40)}",
        ]
    )
    if spoken:
        full_suf = {
            "St": "street",
            "Ave": "avenue",
            "Rd": "road",
            "Blvd": "boulevard",
            "Ln": "lane",
            "Dr": "drive",
        }.get(suf, suf.lower())
        s = f"{en_spoken([num], rng)} {street.lower()} {full_suf}"
        if unit:
            u = unit.split()[1]
            s += (
                f" {'apartment' if unit.startswith('Apt') else unit.split()[0].lower()} {en_spoken([u], rng)}"
            )
        return s + f" {city.lower()} {US_STATE_NAMES[st]} {en_spoken([zipc], rng)}"
    if "street" in toks:
        return f"{num} {street} {suf}"
    if "nocomma" in toks:
        return f"{num} {street} {suf} {unit + ' ' if unit else ''}{city} {st} {zipc}"
    if "zip4" in toks:
        zipc += "-" + digits(rng, 4)
    if unit and rng.random() < 0.4:
        return f"{unit}, {num} {street} {suf}, {city}, {st} {zipc}"
    if unit:
        return f"{num} {street} {suf} {unit}, {city}, {st} {zipc}"
    if rng.random() < 0.15:
        return f"{num} {street} {suf} {city} {st} {zipc}"
    return f"{num} {street} {suf}, {city}, {st} {zipc}"


def gen_address(rng, toks, ctx):
    if "en" in toks or (ctx["lang"] == "en" and "zh" not in toks and "cn" not in toks):
        return gen_address_en(rng, toks, ctx)
    return gen_address_zh(rng, toks, ctx)


def gen_person(rng, toks, ctx):
    if "intl" in toks or "hyph" in toks:
        s = rng.choice(EN_INTL if "intl" in toks else EN_HYPH)
        return s.lower() if ("lower" in toks or (ctx["call"] and ctx["lang"] == "en")) else s
    if "zhx" in toks:
        pool = ZH_NAMES_X
        if "cmp" in toks:
            pool = [n for n in pool if n[:2] in ZH_CMP_PREFIX]
        elif "zh2" in toks:
            pool = [n for n in pool if len(n) == 2]
        elif "zh3" in toks:
            pool = [n for n in pool if len(n) == 3 and n[:2] not in ZH_CMP_PREFIX]
        return rng.choice(pool)
    if "cmp" in toks:
        s = rng.choice(ZH_COMPOUND)
    elif "zh2" in toks:
        s = rng.choice([n for n in ZH_SIMPLE if len(n) == 2])
    elif "zh3" in toks:
        s = rng.choice([n for n in ZH_SIMPLE if len(n) == 3])
    elif "zh" in toks or (ctx["lang"] == "zh" and not (toks & {"en", "first", "last", "pinyin"})):
        s = rng.choice(ZH_COMPOUND) if rng.random() < 0.08 else rng.choice(ZH_SIMPLE)
    elif "pinyin" in toks:
        s = rng.choice(PINYIN_NAMES)
    elif "first" in toks:
        s = rng.choice(EN_FIRST)
    elif "last" in toks:
        s = rng.choice(EN_LAST)
    else:
        s = rng.choice(EN_FIRST) + " " + rng.choice(EN_LAST)
        if "mid" in toks:
            s = s.replace(" ", f" {rng.choice('ABCDEJKLMRT')}. ")
    if "lower" in toks or (ctx["call"] and ctx["lang"] == "en"):
        s = s.lower()
    return s


def gen_passport(rng, toks, ctx):
    kind = next((t for t in ("cn", "cnl", "g", "us") if t in toks), None)
    if kind is None:
        kind = rng.choice(["cn", "cnl", "g"]) if ctx["lang"] == "zh" else "us"
    if kind == "us":
        raw = str(rng.randint(1, 9)) + digits(rng, 8)
        return render_digits(raw, [9], toks, rng, ctx)
    if kind == "cn":
        pre, raw = "E", digits(rng, 8)
    elif kind == "cnl":
        pre, raw = "E" + rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ"), digits(rng, 7)
    else:
        pre, raw = "G", digits(rng, 8)
    spoken = bool(toks & {"zh", "zhmix", "zhflat", "en", "endig"}) or ctx["call"]
    if spoken:
        letters = " ".join(pre.lower()) if ctx["lang"] == "en" else pre
        return (
            letters
            + rng.choice([" ", ""] if ctx["lang"] == "zh" else [" "])
            + render_digits(raw, [len(raw)], toks, rng, ctx)
        )
    return pre + raw


def gen_permit(rng, toks, ctx):
    kind = next((t for t in ("hk", "tw", "hx", "tbz") if t in toks), "hk")
    if kind == "hk":
        pre, raw = (
            ("C", digits(rng, 8))
            if rng.random() < 0.5
            else ("C" + rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ"), digits(rng, 7))
        )
    elif kind == "tw":
        pre, raw = "L", digits(rng, 8)
    elif kind == "hx":
        pre, raw = rng.choice("HM"), digits(rng, rng.choice([8, 10]))
    else:
        pre, raw = "", digits(rng, 8)
    spoken = bool(toks & {"zh", "zhmix", "zhflat", "en"}) or ctx["call"]
    if spoken:
        return pre + (" " if pre else "") + render_digits(raw, [len(raw)], toks, rng, ctx)
    return pre + raw


def gen_plate(rng, toks, ctx):
    prov = rng.choice(PROVINCE_ABBR)
    city = rng.choice(PLATE_LETTERS[:12])
    if "ne" in toks:
        serial = rng.choice("DF") + (
            digits(rng, 5) if rng.random() < 0.7 else rng.choice(PLATE_LETTERS) + digits(rng, 4)
        )
    elif "mix" in toks or ("std" not in toks and rng.random() < 0.4):
        chars = [rng.choice("0123456789") for _ in range(5)]
        for i in rng.sample(range(5), rng.choice([1, 2])):
            chars[i] = rng.choice(PLATE_LETTERS)
        serial = "".join(chars)
    else:
        serial = digits(rng, 5)
    spoken = bool(toks & {"zh"}) or ctx["call"]
    if spoken:
        v = ZhVoice(rng)
        return prov + city + rng.choice([" ", ""]) + "".join(v.digit(c) for c in serial)
    sep = "·" if "dot" in toks else (" " if "sp" in toks else "")
    if "fw" in toks:
        return prov + (city + sep + serial).translate(FW)
    return prov + city + sep + serial


def gen_ip(rng, toks, ctx):
    if ctx["call"] and "v6" not in toks:
        ip = gen_ip(rng, toks, {**ctx, "call": False})
        if ctx["lang"] == "en":
            return " dot ".join(en_spoken([o], rng) for o in ip.split("."))
        v = ZhVoice(rng)
        return "点".join("".join(v.digit(c) for c in o) for o in ip.split("."))
    if "v6" in toks:

        def hx() -> str:
            return format(rng.randint(0, 0xFFFF), "x")

        pre = rng.choice(
            ["2408:8207", "240e:3b4", "2409:8a28", "2001:da8", "2400:cb00", "2607:f8b0", "2a02:c7f"]
        )
        if rng.random() < 0.5:
            return pre + ":" + ":".join(hx() for _ in range(6 - pre.count(":") + 1))
        return pre + ":" + hx() + "::" + hx()
    if "lan" in toks:
        return f"192.168.{rng.randint(0, 10)}.{rng.randint(2, 254)}"
    return f"{rng.choice(IP_FIRST)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


PWD_BASE = [
    "abc",
    "qwe",
    "zhang",
    "wang",
    "li",
    "love",
    "hello",
    "sunny",
    "tiger",
    "mima",
    "woaini",
    "Qq",
    "Aa",
    "Pass",
    "Summer",
    "dragon",
    "kitty",
    "baobao",
    "xiaoyu",
    "lucky",
    "Admin",
    "haha",
    "yy",
    "ljy",
    "Zxc",
    "monkey",
    "shadow",
    "Maple",
    "blue",
    "Ocean",
    "Panda",
    "Coffee",
]


def gen_cred(rng, toks, ctx):
    kind = next((t for t in ("pwd", "code6", "code4", "pin", "phrase") if t in toks), "code6")
    if kind == "code6" or kind == "pin":
        raw = digits(rng, 6)
    elif kind == "code4":
        raw = digits(rng, 4)
    elif kind == "phrase":
        return (
            rng.choice(["Blue", "Red", "Green", "Silver", "Happy", "Tr0ub4dor", "Correct", "Sunset"])
            + rng.choice(["$", "&", "#", "!", "_", "@"])
            + rng.choice(["Ocean", "Horse", "Battery", "Staple", "Tiger", "River"])
            + str(rng.randint(1, 99))
        )
    else:
        base = rng.choice(PWD_BASE)
        tail = rng.choice(
            [
                digits(rng, rng.randint(3, 6)),
                str(rng.randint(1970, 2010)),
                "520" + digits(rng, 2),
                digits(rng, 4) + rng.choice("!@#."),
            ]
        )
        raw = base + tail if rng.random() < 0.8 else tail + base
        if ctx["call"]:
            raw = raw.lower()
        return raw
    if ctx["call"] or (toks & {"zh", "zhmix", "zhflat", "en", "endig"}):
        return render_digits(raw, [len(raw)] if rng.random() < 0.6 else [3, 3], toks, rng, ctx)
    if "fw" in toks:
        return raw.translate(FW)
    if "space" in toks:
        return " ".join(raw)
    return raw


def ssn_raw(rng):
    while True:
        a = rng.randint(1, 899)
        if a != 666:
            break
    return f"{a:03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"


def gen_ssn(rng, toks, ctx):
    raw = ssn_raw(rng)
    if ctx["call"] or toks & {"en", "endig"}:
        return render_digits(raw, [3, 2, 4], toks, rng, ctx)
    if "plain" in toks:
        return raw
    if "space" in toks:
        return f"{raw[:3]} {raw[3:5]} {raw[5:]}"
    return f"{raw[:3]}-{raw[3:5]}-{raw[5:]}"


GENERATORS = {
    "PERSON": gen_person,
    "PHONE": gen_phone,
    "ID_CARD": gen_id,
    "BANK_CARD": gen_card,
    "EMAIL": gen_email,
    "ADDRESS": gen_address,
    "PASSPORT": gen_passport,
    "TRAVEL_PERMIT": gen_permit,
    "LICENSE_PLATE": gen_plate,
    "IP_ADDRESS": gen_ip,
    "CREDENTIAL": gen_cred,
    "US_SSN": gen_ssn,
}


# ---------------------------------------------------------------------------
# unlabeled look-alike generators
# ---------------------------------------------------------------------------
def not_id_not_luhn(s):
    return not luhn_ok(s) and not (len(s) == 18 and id18_valid(s))


def neg_digits(rng, n, first=None):
    while True:
        s = (first or str(rng.randint(1, 9))) + digits(rng, n - len(first or "x"))
        if not_id_not_luhn(s):
            return s


def neg(rng, gen, ctx):
    toks = gen.split("+")
    gen = toks[0]
    val = neg_base(rng, gen, ctx)
    if set(toks) & {"zh", "zhmix", "zhflat", "en"}:
        mode = next(t for t in toks if t in ("zh", "zhmix", "zhflat", "en"))
        v = ZhVoice(rng)
        if mode == "en":
            val = re.sub(r"\d", lambda m: " " + EN_DIGITS[int(m.group())] + " ", val)
            val = re.sub(r"\s+", " ", val.replace("-", " ")).strip().lower()
        else:
            val = re.sub(r"\d", lambda m: v.digit(m.group()), val).replace("-", " ")
    return val


def neg_base(rng, gen, _ctx):
    if gen == "order":  # Taobao-style 18/19-digit order no.
        return neg_digits(rng, rng.choice([18, 19]))
    if gen == "order11":  # 11 digits starting with 1 (looks like a mobile)
        return "1" + rng.choice("3456789") + digits(rng, 9)
    if gen == "order12":
        return neg_digits(rng, 12)
    if gen == "order16":
        return neg_digits(rng, 16)
    if gen == "jdorder":
        return str(rng.randint(2, 3)) + digits(rng, 11)
    if gen == "badid":  # valid-looking ID with wrong checksum
        good = gen_id_raw(rng)
        bad = good[:17] + rng.choice([c for c in ID_CHECK if c != good[17]])
        assert not id18_valid(bad)
        return bad
    if gen == "baddate":  # 18 digits, valid region, impossible date
        body = (
            rng.choice(REGIONS)
            + rng.choice(["1990", "1985", "2001"])
            + rng.choice(["13", "00", "14"])
            + f"{rng.randint(1, 28):02d}"
            + digits(rng, 3)
        )
        return body + id_check_char(body)
    if gen == "badcard":
        raw = gen_card_raw(rng, rng.choice(["up16", "visa", "mc"]))
        return raw[:-1] + str((int(raw[-1]) + rng.randint(1, 9)) % 10)
    if gen == "badcard19":
        raw = gen_card_raw(rng, "up19")
        return raw[:-1] + str((int(raw[-1]) + rng.randint(1, 9)) % 10)
    if gen == "sf":
        return "SF" + digits(rng, 13)
    if gen == "yt":
        return "YT" + digits(rng, 13)
    if gen == "jdvc":
        return "JDVC" + digits(rng, 11)
    if gen == "jd":
        return "JD" + digits(rng, 13)
    if gen == "zto":
        return "7" + rng.choice("35") + digits(rng, 12)
    if gen == "ems":
        return "E" + rng.choice("ABCMRS") + digits(rng, 9) + "CN"
    if gen == "ups":
        return (
            "1Z" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPRSTUVWXY") for _ in range(6)) + digits(rng, 10)
        )
    if gen == "usps":
        return "9400" + digits(rng, 18)
    if gen == "amz":
        return f"{rng.randint(111, 114)}-{digits(rng, 7)}-{digits(rng, 7)}"
    if gen == "hotline":
        return rng.choice(
            [
                "400-820-8820",
                "400-610-1360",
                "400-888-6666",
                "4008-123-123",
                "400 100 5678",
                "800-820-8820",
                "8008101818",
                "4006695526",
                "400-670-0700",
                "400-911-9100",
            ]
        )
    if gen == "short":
        return rng.choice(
            [
                "95588",
                "95533",
                "95555",
                "95599",
                "95566",
                "95508",
                "96533",
                "10086",
                "10010",
                "10000",
                "12315",
                "12345",
                "95311",
                "95338",
                "95546",
                "95188",
            ]
        )
    if gen == "coupon":
        return (
            rng.choice(["FULL", "NEW", "VIP", "SALE", "DBL", "CNY", "SUMMER", "M"])
            + digits(rng, rng.randint(2, 4))
            + rng.choice(["", "OFF", "X", "A"])
        )
    if gen == "sku":
        return rng.choice(["SKU-", "SKU", "A", "HW-", "MI", "BX-", ""]) + digits(rng, rng.randint(6, 10))
    if gen == "invoice":
        return digits(rng, 8) if rng.random() < 0.5 else "0" + digits(rng, 19)
    if gen == "uscc":  # unified social credit code (company tax id), 18 chars
        return (
            "91"
            + rng.choice(REGIONS)
            + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
            + rng.choice("0123456789X")
        )
    if gen == "price":
        return rng.choice(["¥", "￥", ""]) + str(
            rng.choice(
                [
                    9.9,
                    19.9,
                    29,
                    39,
                    49.5,
                    59,
                    68,
                    88,
                    99,
                    129,
                    199,
                    239,
                    299,
                    359,
                    399,
                    499,
                    599,
                    899,
                    1299,
                    2499,
                    3999,
                    6999,
                ]
            )
        )
    if gen == "usd":
        return "$" + f"{rng.randint(5, 2500):,}" + rng.choice([".00", ".99", ".49", ""])
    if gen == "date":
        return rng.choice(
            [
                "2024-05-06",
                "2024年6月18日",
                "11月11日",
                "2023/12/12",
                "5月20号",
                "3号",
                "2024.08.15",
                "下周三",
                "6·18",
                "2025-01-02",
            ]
        )
    if gen == "model":
        return rng.choice(
            [
                "iPhone 15 Pro",
                "RTX4090",
                "Model A2849",
                "SM-S9180",
                "Mate 60 Pro",
                "XPS 13 9340",
                "G502 HERO",
                "MX Master 3S",
                "WH-1000XM5",
                "KD-65X85L",
                "Redmi K70",
                "FE-2026",
                "BCD-470WDPG",
                "AX3000",
            ]
        )
    if gen == "ver":
        return f"{rng.randint(1, 16)}.{rng.randint(0, 9)}.{rng.randint(0, 20)}"
    if gen == "num":
        return digits(rng, rng.randint(5, 9))
    if gen == "member":
        return rng.choice(["VIP", "M", "HY", ""]) + neg_digits(rng, 10)
    raise ValueError(f"unknown NEG generator {gen!r}")


# ---------------------------------------------------------------------------
# build
# ---------------------------------------------------------------------------
def render_line(tpl, rng, ctx, where):
    out, ents, values = [], [], []
    pos = 0
    cur = 0
    for m in MARKUP.finditer(tpl):
        chunk = tpl[pos : m.start()]
        out.append(chunk)
        cur += len(chunk)
        typ, style, lit = m.group(1), m.group(2), m.group(3)
        toks = set(style.split("+")) if style else set()
        if typ == "NEG":
            val = lit if lit is not None else neg(rng, style, ctx)
            label = None
        elif typ.startswith("REF"):
            label, val = values[int(typ[3:]) - 1]
        elif typ in GENERATORS:
            label = typ
            if lit is not None:
                val = lit
                if typ == "ID_CARD" and len(lit) == 18 and not id18_valid(lit):
                    raise SystemExit(f"{where}: literal ID_CARD fails checksum: {lit}")
            else:
                val = GENERATORS[typ](rng, toks, ctx)
            values.append((label, val))
        else:
            raise SystemExit(f"{where}: unknown markup type {typ!r}")
        if not val or val != val.strip():
            raise SystemExit(f"{where}: empty/space-padded value {val!r}")
        out.append(val)
        if label:
            ents.append({"type": label, "start": cur, "end": cur + len(val), "_val": val})
        cur += len(val)
        pos = m.end()
    out.append(tpl[pos:])
    text = "".join(out)
    if "{{" in text or "}}" in text:
        raise SystemExit(f"{where}: unparsed markup in {tpl!r}")
    for e in ents:
        assert text[e["start"] : e["end"]] == e.pop("_val"), (where, text, e)
    for a, b in itertools.pairwise(ents):
        assert a["end"] <= b["start"], (where, "overlap")
    return text, ents


def template_key(tpl):
    k = MARKUP.sub(lambda m: "{" + m.group(1) + "}", tpl)
    return re.sub(r"[0-9０-９]+", "0", k)


def build():
    files = sorted(SRC.glob("*.txt"))
    results = {}
    templates = set()
    for path in files:
        stem = path.stem
        kind = stem.replace("_holdout", "").removesuffix("_more")
        lang = kind.split("_")[0]
        ctx = {"lang": lang, "call": kind.endswith("_call"), "kind": kind}
        rng = random.Random(zlib.crc32(stem.encode("utf-8")))
        recs = []
        seen = set()
        for lineno, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            line = line.rstrip()
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            n = 1
            mrep = re.match(r"@(\d+)\s+", line)
            if mrep:
                n, line = int(mrep.group(1)), line[mrep.end() :]
            line = line.replace("\\n", "\n")
            templates.add(template_key(line))
            for _ in range(n):
                text, ents = render_line(line, rng, ctx, f"{path.name}:{lineno}")
                if text in seen:
                    continue
                seen.add(text)
                rec = {
                    "id": f"{stem}-{len(recs) + 1:04d}",
                    "kind": kind,
                    "lang": lang,
                    "text": text,
                    "entities": [{"type": e["type"], "start": e["start"], "end": e["end"]} for e in ents],
                }
                if stem.endswith("_holdout"):
                    rec["holdout"] = True
                recs.append(rec)
        results[stem] = recs
    return results, templates


def stats(results, templates):
    lines = []
    tot_msgs = tot_neg = 0
    type_tot = Counter()
    lines.append("| file | messages | no-PII | " + " | ".join(TYPES) + " |")
    lines.append("|---|---:|---:|" + "---:|" * len(TYPES))
    for stem, recs in results.items():
        c = Counter(e["type"] for r in recs for e in r["entities"])
        negs = sum(1 for r in recs if not r["entities"])
        tot_msgs += len(recs)
        tot_neg += negs
        type_tot.update(c)
        lines.append(f"| {stem} | {len(recs)} | {negs} | " + " | ".join(str(c[t]) for t in TYPES) + " |")
    lines.append(
        f"| **total** | **{tot_msgs}** | **{tot_neg}** | "
        + " | ".join(f"**{type_tot[t]}**" for t in TYPES)
        + " |"
    )
    lines.append("")
    lines.append(
        f"Messages: {tot_msgs}; without any personal data: {tot_neg} ({100 * tot_neg / max(tot_msgs, 1):.1f}%); "
        f"entities: {sum(type_tot.values())}; distinct source templates: {len(templates)}."
    )
    return "\n".join(lines)


def main(argv):
    results, templates = build()
    table = stats(results, templates)
    if "--check" in argv:
        ok = True
        for stem, recs in results.items():
            want = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs)
            p = HERE / f"{stem}.jsonl"
            if not p.exists() or p.read_text("utf-8") != want:
                print(f"STALE: {p.name}")
                ok = False
        print(table)
        return 0 if ok else 1
    for stem, recs in results.items():
        with open(HERE / f"{stem}.jsonl", "w", encoding="utf-8", newline="\n") as f:
            for r in recs:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    if README.exists():
        txt = README.read_text("utf-8")
        a, b = "<!-- counts:start -->", "<!-- counts:end -->"
        if a in txt and b in txt:
            head, rest = txt.split(a, 1)
            _, tail = rest.split(b, 1)
            README.write_text(head + a + "\n" + table + "\n" + b + tail, "utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
