from __future__ import annotations

import pytest

from bot.components.sensitive_topics import SensitiveTopic, detect_sensitive_topic


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("再不退款我就去法院起诉你们", SensitiveTopic.LEGAL),
        ("我已經請了律師", SensitiveTopic.LEGAL),
        ("I'm going to sue you", SensitiveTopic.LEGAL),
        ("用你们的电热水壶烫伤了手", SensitiveTopic.INJURY),
        ("孩子被燙傷了", SensitiveTopic.INJURY),
        ("the charger exploded and I got burned", SensitiveTopic.INJURY),
        ("我的账号被盗了", SensitiveTopic.ACCOUNT_SECURITY),
        ("信用卡被盜刷", SensitiveTopic.ACCOUNT_SECURITY),
        ("my account was hacked", SensitiveTopic.ACCOUNT_SECURITY),
        ("你们这是诈骗", SensitiveTopic.FRAUD),
        ("this is a scam", SensitiveTopic.FRAUD),
        ("我要打12315投诉", SensitiveTopic.REGULATOR),
        ("我去消協投訴你們", SensitiveTopic.REGULATOR),
        ("I will contact the consumer association", SensitiveTopic.REGULATOR),
    ],
)
def test_sensitive_messages_in_all_three_scripts(text: str, topic: SensitiveTopic) -> None:
    assert detect_sensitive_topic(text) == topic


@pytest.mark.parametrize(
    "text",
    [
        "我的快递到哪了",
        "where is my parcel",
        "退款到了吗",
        "国庆放假客服有人值班吗",  # 放假 + 客服 is not 假客服 (a fake agent)
        "sunset",
        "courtesy",
        "",
        None,
    ],
)
def test_ordinary_messages_are_not_sensitive(text: str | None) -> None:
    # "sunset"/"courtesy" contain "sue"/"court" inside words: whole words only.
    assert detect_sensitive_topic(text) is None
