"""The weekly report as an HTML page (self-contained, every value escaped) and as CSV."""

from __future__ import annotations

import csv
import io
from html import escape
from typing import Any

from handoff.services.metrics.targets import TARGETS

# Hand-off reasons by name (the inbox's words, i18n.js ``reason_*``).
REASONS = {
    "explicit_request": "Asked for a human · 客户要求人工",
    "repeated_misunderstanding": "Bot misunderstood · 机器人多次未理解",
    "sensitive_topic": "Sensitive topic · 敏感话题",
    "complaint": "Complaint · 投诉",
    "form_failed": "Form failed · 信息收集失败",
    "shop_unavailable": "Shop unavailable · 商城系统不可用",
    "unknown": "Not given · 未注明",
}
TARGET_ZH = {
    "bot_first_response_s": "机器人首次响应",
    "human_first_response_s": "人工首次响应",
    "resolution_rate": "解决率",
    "first_contact_resolution_rate": "一次解决率",
    "csat_satisfied_rate": "满意度",
    "complaint_rate": "投诉率",
}
STYLE = (
    "body{font:14px/1.5 system-ui,sans-serif;color:#1d2330;background:#f4f5f8;margin:0;"
    "padding:24px}"
    "main{max-width:960px;margin:auto}table{border-collapse:collapse;width:100%;background:#fff;"
    "margin:8px 0 24px}th,td{border-bottom:1px solid #e3e6ee;padding:4px 8px;text-align:left}"
    ".met{color:#2b8a3e;font-weight:600}.missed{color:#c92a5b;font-weight:600}"
)


def figure(value: Any, unit: str) -> str:
    """A rate as ``92.5%``, seconds as ``1 min 05 s``; ``–`` for none."""
    if value is None:
        return "–"
    if unit == "rate":
        return f"{float(value) * 100:.1f}%"
    seconds = float(value)
    if seconds < 60:
        return (
            f"{seconds:.1f} s" if seconds < 10 and seconds != int(seconds) else f"{seconds:.0f} s"
        )
    whole = round(seconds)
    return f"{whole // 60} min {whole % 60:02d} s"


def _verdict(card: dict[str, Any]) -> tuple[str, str]:
    if card["met"] is None:
        return "", "No figure · 暂无数据"
    return ("met", "✓ Met · 达标") if card["met"] else ("missed", "✗ Missed · 未达标")


def _change(card: dict[str, Any]) -> str:
    if card["change"] is None:
        return "–"
    if card["unit"] == "rate":
        return f"{card['change'] * 100:+.1f} pp"
    return f"{card['change']:+.1f} s"


def _table(headers: list[str], rows: list[list[str]], empty: str) -> str:
    if not rows:
        return f"<p>{escape(empty)}</p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def target_rows(found: dict[str, Any]) -> list[list[str]]:
    """Target, figure, goal, verdict, previous week, change (for HTML and CSV)."""
    rows = []
    for card in found["targets"]:
        target = TARGETS[card["target"]]
        sign = "≤" if card["direction"] == "max" else "≥"
        rows.append(
            [
                f"{target.title} · {TARGET_ZH[card['target']]}",
                figure(card["value"], card["unit"]),
                f"{sign} {figure(card['goal'], card['unit'])}",
                _verdict(card)[1],
                figure(card["previous"], card["unit"]),
                _change(card),
            ]
        )
    return rows


def render_html(found: dict[str, Any]) -> str:
    """The report page."""
    summary = found["summary"]
    cards = target_rows(found)
    marks = [_verdict(card)[0] for card in found["targets"]]
    head = [
        "Target · 指标",
        "Week · 本周",
        "Target · 目标",
        "",
        "Week before · 上周",
        "Change · 变化",
    ]
    target_html = "<table><tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr>"
    for row, mark in zip(cards, marks, strict=True):
        cells = [f"<td>{escape(c)}</td>" for c in row]
        cells[3] = f'<td class="{mark}">{escape(row[3])}</td>'
        target_html += "<tr>" + "".join(cells) + "</tr>"
    target_html += "</table>"
    words = _table(
        ["Wording · 客户原话", "Messages · 次数"],
        [[r["text"], str(r["messages"])] for r in found["misunderstood"]],
        "The bot understood every message. · 机器人理解了所有消息。",
    )
    reasons = _table(
        ["Reason · 原因", "Hand-offs · 次数"],
        [
            [REASONS.get(r["reason"], r["reason"]), str(r["handoffs"])]
            for r in found["handoff_reasons"]
        ],
        "Nothing was handed off. · 没有转人工。",
    )
    comments = _table(
        ["When · 时间", "Conversation · 会话", "Rating · 评分", "Comment · 评价"],
        [
            [c["created_at"], c["conversation_id"], f"{c['rating']} ★", c["comment"]]
            for c in found["negative_comments"]
        ],
        "No negative comment. · 没有差评。",
    )
    people = _table(
        [
            "Agent · 客服",
            "Handled · 接待",
            "Resolved · 解决",
            "First response · 首次响应",
            "Rating · 评分",
        ],
        [
            [
                a["agent"],
                str(a["handled"]),
                str(a["resolved"]),
                figure(a["first_response_s_p50"], "s"),
                "–" if a["csat_average"] is None else f"{a['csat_average']:.2f} ★",
            ]
            for a in found["agents"]
        ],
        "No agent handled a conversation. · 没有客服接待。",
    )
    title = f"Weekly report {found['week']} · 周报"
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body><main>"
        f"<h1>{escape(title)}</h1>"
        f"<p>{escape(found['from'])} – {escape(found['to'])} ({escape(found['timezone'])}) · "
        f"{summary['conversations']} conversations · 会话</p>"
        f"<h2>Targets · 目标</h2>{target_html}"
        f"<h2>Top misunderstood wordings · 机器人未理解的前五条</h2>{words}"
        f"<h2>Top hand-off reasons · 转人工原因</h2>{reasons}"
        f"<h2>Negative comments · 差评</h2>{comments}"
        f"<h2>Agents · 客服</h2>{people}"
        "</main></body></html>"
    )


def slack_text(found: dict[str, Any], link: str) -> str:
    """The report as a Slack message (mrkdwn; Slack's control characters escaped)."""
    lines = [f"*Weekly report {found['week']}* ({found['from']} – {found['to']}): <{link}|open>"]
    for row, card in zip(target_rows(found), found["targets"], strict=True):
        mark = ":white_check_mark:" if card["met"] else ":x:" if card["met"] is False else "•"
        lines.append(f"{mark} {row[0]}: {row[1]} (target {row[2]}, week before {row[4]})")
    text = "\n".join(lines)
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace(f"&lt;{link}|open&gt;", f"<{link}|open>")
    )


def render_csv(found: dict[str, Any]) -> str:
    """The report's target table and headline counts as CSV (with a BOM for Excel)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["week", "target", "value", "goal", "met", "previous", "change"])
    for card in found["targets"]:
        met = "" if card["met"] is None else ("yes" if card["met"] else "no")
        writer.writerow(
            [
                found["week"],
                card["target"],
                "" if card["value"] is None else card["value"],
                card["goal"],
                met,
                "" if card["previous"] is None else card["previous"],
                "" if card["change"] is None else card["change"],
            ]
        )
    return "\ufeff" + out.getvalue()
