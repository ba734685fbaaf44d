"""Finding personal data in customer text, masking it for agents, placeholders for training."""

from __future__ import annotations

import pytest

from handoff.services.privacy.detect import find, luhn, valid_id_card
from handoff.services.privacy.mask import mask_slots, mask_text, with_placeholders


def _luhn_number(prefix: str, length: int) -> str:
    body = prefix + "1" * (length - len(prefix) - 1)
    return next(body + digit for digit in "0123456789" if luhn(body + digit))


def _id_card(first17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(first17, weights, strict=True))
    return first17 + "10X98765432"[total % 11]


ID_NUMBER = _id_card("11010519491231002")
UNIONPAY = _luhn_number("622202", 19)
VISA = _luhn_number("411111", 16)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("我的手机是13812345678，谢谢", "我的手机是138****5678，谢谢"),
        ("call +86 138 1234 5678", "call +86 138 **** 5678"),
        ("+8613812345678", "+86138****5678"),
        ("138-1234-5678", "138-****-5678"),
        ("HK +852 2345 6789", "HK +852 **** 6789"),
        ("whatsapp 91234567", "whatsapp ****4567"),
        ("台灣 0912345678", "台灣 091***5678"),
        ("+886 912 345 678", "+886 912 **5 678"),
        (f"身份证{ID_NUMBER}", f"身份证110***********{ID_NUMBER[-4:]}"),
        (f"card {VISA}", f"card ************{VISA[-4:]}"),
        ("mail zhang.san@example.com now", "mail z***@example.com now"),
        ("我住在上海市浦东新区张江路88号3栋501室，谢谢", "我住在上海市浦东新区****，谢谢"),
        ("寄到北京市朝阳区建国路1号", "寄到北京市朝阳区****"),
        ("阳光花园3栋2单元501室", "****"),
        ("I live at 221B Baker Street, London", "I live at **** Baker Street, London"),
    ],
)
def test_personal_data_is_masked(text: str, masked: str) -> None:
    assert mask_text(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "订单 20241105001 还没到",  # an order id: 11 digits, but no mobile prefix
        "order 20241105001 please",
        "20241105001",
        "日期 20241105",  # a date is not a Hong Kong number
        "金额 129.00 元，数量 3",
        "物流单号 SF1234567890123",
        "订单号13812345678901",  # 14 digits: not a phone inside a longer number
        "1234567890123456",  # 16 digits failing Luhn
        f"{ID_NUMBER[:-1]}{'0' if ID_NUMBER[-1] != '0' else '1'}",  # wrong check digit
        "我要退货，东西坏了",
        "where is my parcel?",
    ],
)
def test_ordinary_numbers_and_words_are_left_alone(text: str) -> None:
    assert find(text) == []
    assert mask_text(text) == text


def test_the_kinds_found() -> None:
    text = f"{ID_NUMBER} {UNIONPAY} a@b.cn 13812345678 上海市黄浦区南京东路100号"
    assert [found.kind for found in find(text)] == [
        "id_card",
        "bank_card",
        "email",
        "phone",
        "address",
    ]


def test_checks() -> None:
    assert valid_id_card(ID_NUMBER)
    assert not valid_id_card("110105194913310020")  # month 13
    assert luhn(VISA) and not luhn(VISA[:-1] + str((int(VISA[-1]) + 1) % 10))


def test_a_same_length_mask_keeps_offsets() -> None:
    text = "我的邮箱 zhang@example.com 订单20241105001"
    masked = mask_text(text, same_length=True)
    assert masked is not None and len(masked) == len(text)
    assert "zhang" not in masked
    assert masked.index("20241105001") == text.index("20241105001")


def test_placeholders_move_the_spans() -> None:
    text = "手机13812345678，订单20241105001"
    start = text.index("2024")
    spans = [{"start": start, "end": start + 11, "entity": "order_id", "value": "20241105001"}]
    new_text, moved = with_placeholders(text, spans)
    assert new_text == "手机<phone>，订单20241105001"
    assert new_text[moved[0]["start"] : moved[0]["end"]] == "20241105001"
    assert moved[0]["value"] == "20241105001"
    # A span over personal data labelled what is gone: dropped.
    _, dropped = with_placeholders(text, [{"start": 2, "end": 13, "entity": "order_id"}])
    assert dropped == []


def test_slots_personal_by_name_or_by_value() -> None:
    slots = {
        "new_address": "Room 5, somewhere",
        "order_id": "20241105001",
        "note": "call 13812345678",
        "language": "zh",
        "phone": None,
    }
    assert mask_slots(slots) == {
        "new_address": "****",
        "order_id": "20241105001",
        "note": "call 138****5678",
        "language": "zh",
        "phone": None,
    }
