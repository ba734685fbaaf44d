"""Personal data masked for agents (``138****5678``) or replaced by placeholders for
training data (``<phone>``).

Masking rules (what an agent still sees):

- phone: the last 4 digits, and the first 3 of a national number of 9 digits or more
  (``+86 138****5678``, ``****4567``, ``091***5678``);
- ID card: the first 3 and the last 4 characters (``110***********123X``);
- bank card: the last 4 digits, separators kept (``**** **** **** 1234``);
- e-mail: the first character and the domain (``z***@example.com``);
- address: the province, city and district, the rest ``****``
  (``上海市浦东新区****``); English: the street name, the number ``****``.
"""

from __future__ import annotations

import re
from typing import Any

from handoff.services.privacy.detect import (
    ADDRESS,
    BANK_CARD,
    EMAIL,
    ID_CARD,
    PHONE,
    Found,
    find,
    may_hold,
)

STARS = "****"
# Slots that hold personal data whatever their value looks like.
PERSONAL_SLOTS = re.compile(r"address|phone|mobile|email|e_mail|id_card|name|card", re.I)
_CN_ADMIN = re.compile(
    r"^(?:.{2,8}?(?:省|自治区))?(?:.{2,8}?(?:市|州|盟))?(?:.{1,8}?(?:区|县|旗))?"
)
_EN_NUMBER = re.compile(r"^(?:(?:Flat|Apt|Unit|Room|Suite)\.?\s*\w{1,5},?\s+)?\d{1,5}[A-Za-z]?,?")


def _keep_digits(piece: str, head: int, tail: int) -> str:
    """``piece`` with its digits starred except ``head`` first and ``tail`` last ones.

    Separators and a leading country code are kept as they are.
    """
    prefix = ""
    for code in ("+86", "0086", "86", "+852", "00852", "+886", "00886"):
        if piece.startswith(code) and len(re.sub(r"\D", "", piece)) > 10:
            prefix, piece = piece[: len(code)], piece[len(code) :]
            break
    total = sum(char.isdigit() for char in piece)
    seen, out = 0, []
    for char in piece:
        if char.isdigit() or char in "Xx":
            seen += 1
            out.append(char if seen <= head or seen > total - tail else "*")
        else:
            out.append(char)
    return prefix + "".join(out)


def mask_piece(piece: str, kind: str) -> str:
    """One found piece of ``kind``, masked for an agent's eyes."""
    if kind == PHONE:
        digits = sum(char.isdigit() for char in piece)
        national = re.sub(r"^(\+|00)?(86|852|886)[ \-]?", "", piece) if digits > 10 else piece
        national_digits = sum(char.isdigit() for char in national)
        return _keep_digits(piece, 3 if national_digits >= 9 else 0, 4)
    if kind == ID_CARD:
        return piece[:3] + "*" * (len(piece) - 7) + piece[-4:]
    if kind == BANK_CARD:
        return _keep_digits(piece, 0, 4)
    if kind == EMAIL:
        local, _, domain = piece.partition("@")
        return f"{local[:1]}***@{domain}"
    if kind == ADDRESS:
        if piece[:1].isascii():
            number = _EN_NUMBER.match(piece)
            return STARS + piece[number.end() :] if number else STARS
        admin = _CN_ADMIN.match(piece)
        return (admin.group() if admin else "") + STARS
    return STARS


def _replace(text: str, found: list[Found], replacement: Any) -> str:
    pieces, position = [], 0
    for item in found:
        pieces += [text[position : item.start], replacement(text[item.start : item.end], item)]
        position = item.end
    return "".join([*pieces, text[position:]])


def _same_length(piece: str, kind: str) -> str:
    masked = mask_piece(piece, kind)
    return masked if len(masked) == len(piece) else "*" * len(piece)


def mask_text(text: str | None, *, same_length: bool = False) -> str | None:
    """``text`` with every piece of personal data masked (``None`` stays ``None``).

    ``same_length``: every piece keeps its length (the trainers label spans by
    offsets on the text), starred whole when its usual mask is shorter or longer.
    """
    if not text or not may_hold(text):
        return text
    found = find(text)
    if not found:
        return text
    masker = _same_length if same_length else mask_piece
    return _replace(text, found, lambda piece, item: masker(piece, item.kind))


def placeholder(kind: str) -> str:
    """The training-data stand-in of ``kind``: ``<phone>``, ``<address>`` ..."""
    return f"<{kind}>"


def with_placeholders(
    text: str, spans: list[dict[str, Any]] | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """``text`` with personal data replaced by placeholders, and ``spans``
    (``{"start", "end", ...}`` on ``text``) moved to the new text.

    A span that overlaps personal data is dropped: it labelled what is no longer there.
    """
    spans = list(spans or [])
    found = find(text) if may_hold(text) else []
    if not found:
        return text, spans
    new_text = _replace(text, found, lambda _piece, item: placeholder(item.kind))

    def shift(position: int) -> int:
        return position + sum(
            len(placeholder(item.kind)) - (item.end - item.start)
            for item in found
            if item.end <= position
        )

    moved = []
    for span in spans:
        start, end = int(span["start"]), int(span["end"])
        if any(start < item.end and end > item.start for item in found):
            continue
        new_start, new_end = shift(start), shift(end)
        moved.append({**span, "start": new_start, "end": new_end})
        if "value" in span:
            moved[-1]["value"] = new_text[new_start:new_end]
    return new_text, moved


def mask_value(value: Any) -> Any:
    """Every string inside ``value`` (dicts, lists) masked; other values as they are."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {key: mask_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [mask_value(item) for item in value]
    return value


def mask_slots(slots: dict[str, Any]) -> dict[str, Any]:
    """Slots for an agent: personal slots (address, phone, …) starred whole, others masked."""
    return {
        name: (STARS if value and PERSONAL_SLOTS.search(name) else mask_value(value))
        for name, value in slots.items()
    }
