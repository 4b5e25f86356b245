"""The bot's fixed wording, per language. Kept apart from the flow so a shop can review it in one place."""

from __future__ import annotations

from guardline.bot.text import Lang

# The explicit label the 2025 measures for labeling AI-generated synthetic content (《人工智能生成合成内容
# 标识办法》) require on generated text; on a call it is spoken before the reply.
AI_LABEL: dict[Lang, str] = {"zh": "本回复由AI生成", "en": "AI-generated"}
# Read out by text-to-speech before the reply, so it says the label itself.
AI_SPOKEN_LABEL: dict[Lang, str] = {"zh": "本回复由AI生成。", "en": "AI-generated reply."}

TEMPLATES: dict[str, dict[Lang, str]] = {
    "greeting": {
        "zh": "您好，我是AI客服助手，请问有什么可以帮您？需要人工时随时说“转人工”。",
        "en": 'Hello, I\'m the AI assistant. How can I help? Say "human" any time to reach a person.',
    },
    "thanks": {"zh": "不客气，还有其他问题随时找我。", "en": "You're welcome. Anything else, just ask."},
    "goodbye": {"zh": "感谢您的咨询，祝您生活愉快，再见！", "en": "Thanks for contacting us. Goodbye!"},
    "identity": {
        "zh": "我是AI客服助手，不是真人。需要人工客服时请说“转人工”，我马上为您转接。",
        "en": "I'm an AI assistant, not a person. Say \"human\" and I'll connect you to an agent.",
    },
    "small_talk": {
        "zh": "我是购物方面的AI助手，订单、物流、退换货、发票这些问题都可以问我。",
        "en": "I'm a shopping assistant: ask me about orders, delivery, returns or invoices.",
    },
    "unknown": {
        "zh": "抱歉，这个问题我暂时无法回答。需要为您转接人工客服吗？",
        "en": "Sorry, I don't know the answer to that. Would you like me to connect you to a person?",
    },
    "handoff": {
        "zh": "好的，正在为您转接人工客服，请稍候。刚才的对话记录会一并转给客服，您不用重复说明。",
        "en": "Sure, connecting you to a person now. They'll see this conversation, so no need to repeat.",
    },
    "with_agent": {
        "zh": "您的对话已转给人工客服，客服会在这里回复您，请稍候。",
        "en": "A person from our team has this conversation and will reply here shortly.",
    },
    "declined_handoff": {
        "zh": "好的，那您可以换个说法再问我，或者随时说“转人工”。",
        "en": 'Okay. Feel free to ask another way, or say "human" any time.',
    },
    "handoff_unanswered": {
        "zh": "抱歉没能帮到您，正在为您转接人工客服，请稍候。",
        "en": "Sorry I couldn't help. I'm connecting you to a person now.",
    },
    "complaint": {
        "zh": "非常抱歉给您带来不好的体验。您的问题很重要，正在为您转接人工客服专门处理，请稍候。",
        "en": "I'm very sorry about this. Your concern matters, so I'm passing you to a person who can fix it.",
    },
    "account_compromised": {
        "zh": "账号安全问题需要尽快处理：请先修改登录密码，不要把验证码告诉任何人。正在为您转接人工客服协助核查。",
        "en": "Please change your password now and never share verification codes. "
        "I'm connecting you to a person to check your account.",
    },
    "account_security": {
        "zh": "为了您的账号安全：我们的客服不会索要密码或验证码，也不会要求转账。"
        "修改密码请在登录页点击“忘记密码”。如果怀疑账号被盗，请说“转人工”。",
        "en": "For your safety: we never ask for passwords, codes or transfers. To reset your password use "
        '"Forgot password" on the login page. If you think your account was taken over, say "human".',
    },
    "login_required": {
        "zh": "为保护您的信息安全，查询订单需要先登录（或验证身份）。登录后我就能帮您查看自己的订单。",
        "en": "To protect your information, please sign in (or verify your identity) and I'll look up your orders.",
    },
    "tool_missing": {
        "zh": "订单查询暂时无法自动完成，需要为您转接人工客服吗？",
        "en": "I can't look up orders automatically right now. Shall I connect you to a person?",
    },
    "tool_failed": {
        "zh": "抱歉，订单系统暂时没有响应，正在为您转接人工客服。",
        "en": "Sorry, our order system isn't responding. I'm connecting you to a person.",
    },
    "no_orders": {
        "zh": "没有查到您账号下的订单。如果是用其他账号下的单，请用该账号登录后再问我。",
        "en": "I couldn't find any orders on your account. If you ordered with another account, sign in with it.",
    },
    "order_not_found": {
        "zh": "没有在您的账号下查到订单 {order_no}，请核对订单号。",
        "en": "I couldn't find order {order_no} on your account. Please check the number.",
    },
    "order_status": {
        "zh": "您的订单 {order_no}（{items}）当前状态：{status}。",
        "en": "Your order {order_no} ({items}) is {status}.",
    },
    "order_shipment": {
        "zh": "由{carrier}配送，运单号 {tracking_no}{event}{eta}。",
        "en": "It's with {carrier}, tracking number {tracking_no}{event}{eta}.",
    },
    "shipment_none": {
        "zh": "订单 {order_no} 还没有物流信息：{status}。",
        "en": "Order {order_no} has no tracking yet: it is {status}.",
    },
    "which_order": {
        "zh": "您最近有这几笔订单：{orders}。请问是哪一笔？告诉我订单号就好。",
        "en": "Your recent orders are: {orders}. Which one do you mean? Just tell me the order number.",
    },
    "address_which_order": {
        "zh": "请告诉我要修改哪笔订单（订单号），以及新的收货地址。",
        "en": "Please tell me which order (its number) and the new delivery address.",
    },
    "address_need_new": {
        "zh": "好的，请把订单 {order_no} 的新收货地址发给我。",
        "en": "Sure, please send me the new delivery address for order {order_no}.",
    },
    "address_changed": {
        "zh": "已为订单 {order_no} 修改收货地址，请在订单详情核对。",
        "en": "Done: order {order_no} now goes to the new address. Please check it on the order page.",
    },
    "address_already_shipped": {
        "zh": "订单 {order_no} 已经发货，无法直接改地址，正在为您转接人工客服联系快递改派。",
        "en": "Order {order_no} has already shipped, so I'm passing you to a person to ask the courier to redirect it.",
    },
    "address_not_allowed": {
        "zh": "订单 {order_no} 当前状态不能修改地址。需要为您转接人工客服吗？",
        "en": "Order {order_no} can't have its address changed in its current state. Shall I get you a person?",
    },
    "address_unknown": {
        "zh": "没有识别到新的收货地址，请把完整的新地址再发一次。",
        "en": "I didn't catch the new address. Please send the full new address again.",
    },
}

STATUS_WORDS: dict[str, dict[Lang, str]] = {
    "pending_payment": {"zh": "待付款", "en": "awaiting payment"},
    "paid": {"zh": "已付款，等待发货", "en": "paid and waiting to ship"},
    "shipped": {"zh": "已发货", "en": "shipped"},
    "delivered": {"zh": "已签收", "en": "delivered"},
    "completed": {"zh": "已完成", "en": "completed"},
    "cancelled": {"zh": "已取消", "en": "cancelled"},
    "refunding": {"zh": "退款中", "en": "being refunded"},
    "refunded": {"zh": "已退款", "en": "refunded"},
}

INTENT_WORDS: dict[str, dict[Lang, str]] = {
    "order_status": {"zh": "订单状态", "en": "order status"},
    "shipping": {"zh": "物流配送", "en": "shipping"},
    "return_refund": {"zh": "退货退款", "en": "returns and refunds"},
    "invoice": {"zh": "发票", "en": "invoices"},
    "address_change": {"zh": "修改地址", "en": "address change"},
    "complaint": {"zh": "投诉", "en": "complaint"},
    "account_security": {"zh": "账号安全", "en": "account security"},
    "human_handoff": {"zh": "要求人工", "en": "asked for a person"},
    "small_talk": {"zh": "寒暄", "en": "small talk"},
    "faq": {"zh": "商品与政策咨询", "en": "product and policy questions"},
}

HANDOFF_REASONS: dict[str, dict[Lang, str]] = {
    "customer_request": {"zh": "客户要求转人工", "en": "the customer asked for a person"},
    "complaint": {"zh": "客户投诉", "en": "complaint"},
    "account_compromise": {"zh": "疑似账号被盗", "en": "possible account takeover"},
    "unanswered": {"zh": "机器人连续未能回答", "en": "the bot could not answer repeatedly"},
    "tool_failure": {"zh": "订单系统无响应", "en": "the order system did not respond"},
    "needs_agent": {"zh": "需要人工操作", "en": "needs an agent's action"},
}
