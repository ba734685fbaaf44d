"""Words that actions put into responses, in each supported language.

Responses themselves live in ``domain.yml``; these are the values filled into
their placeholders (order and case statuses, case types) and the titles of
suggestion buttons.
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
        "机器人连续两次没听懂", "機器人連續兩次沒聽懂", "the bot misunderstood twice in a row"
    ),
    "sensitive_topic": _label("敏感问题，需人工处理", "敏感問題，需人工處理", "a sensitive topic"),
    "complaint": _label("客户投诉", "客戶投訴", "a complaint"),
    "form_failed": _label(
        "订单号多次无法识别", "訂單號多次無法識別", "the order number was not recognised"
    ),
    "shop_unavailable": _label(
        "订单系统暂时不可用", "訂單系統暫時不可用", "the shop was unavailable"
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
