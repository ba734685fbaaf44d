"""Words that actions put into responses, in each supported language.

Responses themselves live in ``domain.yml``; these are the values filled into
their placeholders (order and case statuses, case types, carrier names) and
the titles of suggestion buttons.
"""

from __future__ import annotations

from bot.common.languages import DEFAULT_LANGUAGE, EN, ZH_HANS, ZH_HANT

Label = dict[str, str]


def _label(hans: str, hant: str, en: str) -> Label:
    return {ZH_HANS: hans, ZH_HANT: hant, EN: en}


ORDER_STATUS: dict[str, Label] = {
    "pending_payment": _label("待付款", "待付款", "awaiting payment"),
    "paid": _label("已付款，待发货", "已付款，待發貨", "paid, waiting to ship"),
    "shipped": _label("已发货", "已發貨", "shipped"),
    "delivered": _label("已签收", "已簽收", "delivered"),
    "completed": _label("已完成", "已完成", "completed"),
    "cancelled": _label("已取消", "已取消", "cancelled"),
}

CASE_TYPE: dict[str, Label] = {
    "refund": _label("退款", "退款", "refund"),
    "return": _label("退货", "退貨", "return"),
    "exchange": _label("换货", "換貨", "exchange"),
    "repair": _label("维修", "維修", "repair"),
}

CASE_STATUS: dict[str, Label] = {
    "submitted": _label("已提交，等待审核", "已提交，等待審核", "submitted, awaiting review"),
    "approved": _label("已通过审核", "已通過審核", "approved"),
    "rejected": _label("未通过审核", "未通過審核", "rejected"),
    "item_received": _label("已收到退回商品", "已收到退回商品", "returned item received"),
    "refunded": _label("已退款", "已退款", "refunded"),
    "closed": _label("已关闭", "已關閉", "closed"),
}

SUGGESTION: dict[str, Label] = {
    "check_order_status": _label("查订单状态", "查訂單狀態", "Check an order"),
    "track_shipment": _label("查物流", "查物流", "Track a parcel"),
    "cancel_order": _label("取消订单", "取消訂單", "Cancel an order"),
    "change_address": _label("修改地址", "修改地址", "Change the address"),
    "urge_shipment": _label("催发货", "催發貨", "Hurry my order"),
    "request_refund": _label("申请退款", "申請退款", "Get a refund"),
    "request_return": _label("申请退货", "申請退貨", "Return an item"),
    "request_exchange": _label("申请换货", "申請換貨", "Exchange an item"),
    "report_defect": _label("商品有质量问题", "商品有品質問題", "Item is faulty"),
    "check_refund_progress": _label("查退款进度", "查退款進度", "Refund status"),
    "request_human": _label("转人工客服", "轉人工客服", "Talk to a person"),
}


# The common carriers, keyed by the name the shop gives (Simplified Chinese,
# as Chinese shops write them); a name not listed is shown as it is.
CARRIER: dict[str, Label] = {
    "顺丰速运": _label("顺丰速运", "順豐速運", "SF Express"),
    "顺丰快递": _label("顺丰快递", "順豐快遞", "SF Express"),
    "中通快递": _label("中通快递", "中通快遞", "ZTO Express"),
    "圆通速递": _label("圆通速递", "圓通速遞", "YTO Express"),
    "韵达快递": _label("韵达快递", "韻達快遞", "Yunda Express"),
    "申通快递": _label("申通快递", "申通快遞", "STO Express"),
    "京东物流": _label("京东物流", "京東物流", "JD Logistics"),
    "京东快递": _label("京东快递", "京東快遞", "JD Logistics"),
    "邮政EMS": _label("邮政EMS", "郵政EMS", "China Post EMS"),
    "中国邮政": _label("中国邮政", "中國郵政", "China Post"),
    "邮政快递包裹": _label("邮政快递包裹", "郵政快遞包裹", "China Post"),
    "极兔速递": _label("极兔速递", "極兔速遞", "J&T Express"),
    "德邦快递": _label("德邦快递", "德邦快遞", "Deppon Express"),
    "百世快递": _label("百世快递", "百世快遞", "Best Express"),
    "菜鸟速递": _label("菜鸟速递", "菜鳥速遞", "Cainiao Express"),
    "丹鸟": _label("丹鸟", "丹鳥", "Danniao"),
}


def carrier_name(name: str, language: str | None) -> str:
    """The carrier's name in the customer's language; an unknown name as it is.

    "顺丰速运" is "SF Express" in English and "順豐速運" in Traditional
    Chinese; "EMS" or a carrier not in :data:`CARRIER` stays unchanged.
    """
    return say(CARRIER, name.strip(), language) if name.strip() in CARRIER else name


def say(labels: dict[str, Label], key: str, language: str | None) -> str:
    """Returns the label for ``key`` in ``language``; the key when unknown."""
    label = labels.get(key)
    if label is None:
        return key
    return label.get(language or DEFAULT_LANGUAGE, label[DEFAULT_LANGUAGE])


HANDOFF_REASON: dict[str, Label] = {
    "explicit_request": _label(
        "客户要求转人工", "客戶要求轉人工", "the customer asked for a person"
    ),
    "repeated_misunderstanding": _label(
        "机器人连续多次没听懂",
        "機器人連續多次沒聽懂",
        "the bot misunderstood several times in a row",
    ),
    "sensitive_topic": _label("敏感问题，需人工处理", "敏感問題，需人工處理", "a sensitive topic"),
    "complaint": _label("客户投诉", "客戶投訴", "a complaint"),
    "form_failed": _label(
        "订单号多次无法识别", "訂單號多次無法識別", "the order number was not recognised"
    ),
    "shop_unavailable": _label(
        "订单系统暂时不可用", "訂單系統暫時不可用", "the shop was unavailable"
    ),
    "unresolved": _label(
        "机器人连续多次没能解决问题",
        "機器人連續多次沒能解決問題",
        "the bot could not help, several times in a row",
    ),
}

# What the customer wanted, for the agent's summary: the suggestion titles,
# plus the intents no suggestion button offers.
INTENT: dict[str, Label] = {
    **SUGGESTION,
    "complain": _label("投诉", "投訴", "Complaint"),
    "faq": _label("咨询常见问题", "諮詢常見問題", "FAQ question"),
    "out_of_scope": _label("其他问题", "其他問題", "Something else"),
}
