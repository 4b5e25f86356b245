"""Customer-service bot without a model: intents, the shop knowledge base, commerce tools, labeled replies.

from guardline.bot import demo_bot, BotContext
reply = demo_bot().reply("退货运费谁出？", context=BotContext())
reply.text        # the FAQ answer + "（本回复由AI生成）"; reply.handoff, reply.sources, reply.intent

Importing is cheap: jieba, scikit-learn and bm25s load on first use (``warm_up()`` at start-up).
"""

from guardline.bot.intents import Intent, IntentClassifier, IntentResult, get_classifier, wants_human
from guardline.bot.knowledge import (
    FaqEntry,
    FaqImportError,
    Hit,
    KnowledgeBase,
    KnowledgeStore,
    demo_knowledge_base,
    parse_faq,
    read_faq_file,
)
from guardline.bot.service import (
    Bot,
    BotContext,
    BotReply,
    HandoffSummary,
    ReplyKind,
    ToolRequest,
    Turn,
    demo_bot,
)
from guardline.bot.text import detect_lang, warm_up
from guardline.bot.tools import (
    AddressChangeOutcome,
    AddressChangeResult,
    CommerceTools,
    Order,
    OrderStatus,
    Shipment,
    ToolUnavailable,
)

__all__ = [
    "AddressChangeOutcome",
    "AddressChangeResult",
    "Bot",
    "BotContext",
    "BotReply",
    "CommerceTools",
    "FaqEntry",
    "FaqImportError",
    "HandoffSummary",
    "Hit",
    "Intent",
    "IntentClassifier",
    "IntentResult",
    "KnowledgeBase",
    "KnowledgeStore",
    "Order",
    "OrderStatus",
    "ReplyKind",
    "Shipment",
    "ToolRequest",
    "ToolUnavailable",
    "Turn",
    "demo_bot",
    "demo_knowledge_base",
    "detect_lang",
    "get_classifier",
    "parse_faq",
    "read_faq_file",
    "wants_human",
    "warm_up",
]
