"""Sensitive topics that a human must handle at once.

A message about a lawsuit, an injury, a stolen account, fraud or a complaint
to the consumer association goes to an agent whatever intent it was
classified as. The lexicon covers Simplified and Traditional Chinese and
English; matching is deliberately plain (substrings for Chinese, whole words
for English) so that trainers can read and extend it.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass


class SensitiveTopic(str, enum.Enum):
    """Why a message counts as sensitive."""

    LEGAL = "legal"
    INJURY = "injury"
    ACCOUNT_SECURITY = "account_security"
    FRAUD = "fraud"
    REGULATOR = "regulator"


_CHINESE_TERMS: dict[SensitiveTopic, tuple[str, ...]] = {
    SensitiveTopic.LEGAL: (
        "起诉",
        "告你们",
        "告上法庭",
        "法院",
        "律师",
        "律師",
        "打官司",
        "诉讼",
        "訴訟",
        "法律途径",
        "法律途徑",
        "法律责任",
        "法律責任",
        "仲裁",
    ),
    SensitiveTopic.INJURY: (
        "受伤",
        "受傷",
        "烫伤",
        "燙傷",
        "烧伤",
        "燒傷",
        "划伤",
        "劃傷",
        "割伤",
        "割傷",
        "过敏",
        "過敏",
        "触电",
        "觸電",
        "爆炸",
        "起火",
        "着火",
        "著火",
        "住院",
        "送医",
        "送醫",
        "中毒",
        "流血",
    ),
    SensitiveTopic.ACCOUNT_SECURITY: (
        "账号被盗",
        "帳號被盜",
        "账户被盗",
        "帳戶被盜",
        "被盗号",
        "被盜號",
        "盗号",
        "盜號",
        "盗刷",
        "盜刷",
        "被盗刷",
        "密码被改",
        "密碼被改",
        "异地登录",
        "異地登入",
    ),
    SensitiveTopic.FRAUD: (
        "诈骗",
        "詐騙",
        "骗子",
        "騙子",
        "被骗",
        "被騙",
        "欺诈",
        "欺詐",
        "冒充客服",
        "假冒客服",
        "钓鱼链接",
        "釣魚連結",
    ),
    SensitiveTopic.REGULATOR: (
        "12315",
        "消协",
        "消協",
        "消费者协会",
        "消費者協會",
        "消保",
        "工商局",
        "市场监管",
        "市場監管",
        "曝光你们",
        "曝光你們",
        "媒体曝光",
        "媒體曝光",
    ),
}

_ENGLISH_TERMS: dict[SensitiveTopic, tuple[str, ...]] = {
    SensitiveTopic.LEGAL: (
        "sue",
        "suing",
        "lawsuit",
        "lawyer",
        "lawyers",
        "attorney",
        "legal action",
        "take you to court",
        "see you in court",
        "small claims",
    ),
    SensitiveTopic.INJURY: (
        "injured",
        "injury",
        "burned",
        "burnt",
        "burns",
        "electric shock",
        "exploded",
        "caught fire",
        "hospital",
        "allergic reaction",
        "bleeding",
        "cut myself",
    ),
    SensitiveTopic.ACCOUNT_SECURITY: (
        "hacked",
        "account stolen",
        "stolen account",
        "someone logged into my account",
        "unauthorized charge",
        "unauthorised charge",
        "unauthorized payment",
    ),
    SensitiveTopic.FRAUD: ("fraud", "scam", "scammed", "scammer", "phishing"),
    SensitiveTopic.REGULATOR: (
        "consumer association",
        "consumer protection",
        "trading standards",
        "report you to",
        "better business bureau",
    ),
}


@dataclass(frozen=True)
class _Matcher:
    topic: SensitiveTopic
    pattern: re.Pattern[str]


def _build_matchers() -> tuple[_Matcher, ...]:
    matchers = []
    for topic in SensitiveTopic:
        alternatives = [re.escape(term) for term in _CHINESE_TERMS[topic]]
        alternatives += [rf"\b{re.escape(term)}\b" for term in _ENGLISH_TERMS[topic]]
        matchers.append(_Matcher(topic, re.compile("|".join(alternatives), re.IGNORECASE)))
    return tuple(matchers)


_MATCHERS = _build_matchers()


def detect_sensitive_topic(text: str | None) -> SensitiveTopic | None:
    """Returns the first sensitive topic the text touches, or None.

    Args:
        text: A customer's message.

    Returns:
        The topic, or None when the message is not sensitive.
    """
    if not text:
        return None
    for matcher in _MATCHERS:
        if matcher.pattern.search(text):
            return matcher.topic
    return None
