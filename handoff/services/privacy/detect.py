"""Finds personal data in customer text: phone numbers, ID and bank card numbers,
e-mail addresses and delivery addresses.

Patterns, and what keeps ordinary numbers (order ids such as ``20241105001``,
dates, amounts, tracking numbers) from being taken for personal data:

- **mainland mobile**: ``1[3-9]`` and 9 more digits, optionally ``+86``/``86``
  before it and spaces or dashes as ``138 1234 5678``; never inside a longer
  run of digits or letters. An order id starts with its year (``2…``), so it
  is not a mobile number.
- **Hong Kong**: ``+852`` and 8 digits; without the prefix only mobiles
  (``5``, ``6`` or ``9`` first), so dates such as ``20241105`` are left alone.
- **Taiwan**: ``09`` and 8 digits, or ``+886 9`` and 8 digits.
- **mainland ID card**: 18 characters, region, a real birth date, sequence and
  a check character that must match (GB 11643).
- **bank card**: 16 to 19 digits (spaces or dashes between them allowed)
  passing the Luhn check.
- **e-mail**: ``local@domain.tld``.
- **address**: Chinese — a road, street, lane or compound (路, 街, 大道, 巷, 弄,
  小区, 花园, 大厦 …) followed by a number (号, 栋, 号楼, 室 …), with the province,
  city and district before it; English — a house number, one to four
  capitalised words and a street type (Street, Road, Ave, …).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

PHONE = "phone"
ID_CARD = "id_card"
BANK_CARD = "bank_card"
EMAIL = "email"
ADDRESS = "address"
KINDS = (PHONE, ID_CARD, BANK_CARD, EMAIL, ADDRESS)

# Not part of a longer number or word on either side.
_LEFT = r"(?<![0-9A-Za-z+])"
_RIGHT = r"(?![0-9A-Za-z])"
_SEP = r"[ \-]?"

_PHONES = [
    # Mainland mobile, optionally +86 / 86 / 0086.
    rf"{_LEFT}(?:(?:\+|00)?86{_SEP})?1[3-9]\d{_SEP}\d{{4}}{_SEP}\d{{4}}{_RIGHT}",
    # Hong Kong: any 8 digits after +852; mobiles (5/6/9) without it.
    rf"{_LEFT}(?:\+|00)852{_SEP}\d{{4}}{_SEP}\d{{4}}{_RIGHT}",
    rf"{_LEFT}[569]\d{{3}}{_SEP}\d{{4}}{_RIGHT}",
    # Taiwan mobile: 09xx xxx xxx, or +886 9xx xxx xxx.
    rf"{_LEFT}09\d{{2}}{_SEP}\d{{3}}{_SEP}\d{{3}}{_RIGHT}",
    rf"{_LEFT}(?:\+|00)886{_SEP}9\d{{2}}{_SEP}\d{{3}}{_SEP}\d{{3}}{_RIGHT}",
]
_PHONE = re.compile("|".join(f"(?:{p})" for p in _PHONES))
_ID_CARD = re.compile(rf"{_LEFT}[1-9]\d{{5}}(?:18|19|20)\d{{9}}[0-9Xx]{_RIGHT}")
_BANK_CARD = re.compile(rf"{_LEFT}\d(?:[ \-]?\d){{15,18}}{_RIGHT}")
# An e-mail address is read outwards from its "@": the local part backwards,
# the domain forwards (a pattern tried at every letter of a text is slow).
_EMAIL_LOCAL = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-")
_EMAIL_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+[A-Za-z]{2,24}(?![\w-])")

# Chinese addresses. A name is CJK characters, letters and digits, but not the
# words that usually come before an address ("我住在", "寄到", "地址是"), so the
# match starts at the place name, not at the sentence.
_NOT_NAME = "在是的住到寄送址我你他她请给和了吗呢吧就要把发往：:，,。 "
_NAME = rf"[^\W\da-zA-Z_{_NOT_NAME}]"  # CJK (and other scripts' letters), not ASCII
_ADMIN = (
    rf"(?:{_NAME}{{2,8}}?(?:省|自治区))?"
    rf"(?:{_NAME}{{2,8}}?(?:市|州|盟))?"
    rf"(?:{_NAME}{{1,8}}?(?:区|县|旗))?"
    rf"(?:{_NAME}{{1,8}}?(?:镇|乡|街道))?"
)
_NUMBER = r"[0-9０-９一二三四五六七八九十百零〇]+"
_PLACE_KINDS = "路|街|大道|道|巷|弄|胡同|里|村|小区|花园|大厦|公寓|广场|苑|园"
_PLACE = rf"(?:{_NAME}|[A-Za-z]){{1,12}}?(?:{_PLACE_KINDS})"
_UNIT = rf"(?:{_NUMBER}(?:号楼|号院|号|栋|幢|座|单元|层|楼|室|户)|[-－]{_NUMBER})"
_CN_ADDRESS = re.compile(rf"{_ADMIN}{_PLACE}(?:{_NUMBER}弄)?{_UNIT}+")
_STREET_TYPES = (
    "Street|St|Road|Rd|Avenue|Ave|Boulevard|Blvd|Lane|Ln|Drive|Dr|Way|Court|Ct|Place|Pl|"
    "Terrace|Crescent|Highway|Hwy"
)
_EN_ADDRESS = re.compile(
    rf"(?<![\w-])(?:(?:Flat|Apt|Unit|Room|Suite)\.?\s*\w{{1,5}},?\s+)?\d{{1,5}}[A-Za-z]?,?\s+"
    rf"(?:[A-Z][A-Za-z'’.-]*\s+){{1,4}}(?:{_STREET_TYPES})\b\.?"
)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


@dataclass(frozen=True, order=True)
class Found:
    """One piece of personal data: ``text[start:end]`` is of ``kind``."""

    start: int
    end: int
    kind: str


def valid_id_card(number: str) -> bool:
    """An 18-character mainland ID number with a real birth date and the right check."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if born.year < 1880:
        return False
    total = sum(int(digit) * weight for digit, weight in zip(number, _ID_WEIGHTS, strict=False))
    return _ID_CHECK[total % 11] == number[17].upper()


def luhn(digits: str) -> bool:
    """The Luhn check of a card number (digits only)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _digits(text: str) -> str:
    return "".join(char for char in text if char.isdigit())


# Cheap hints, so the full patterns run only where they can match (the inbox
# masks every row of every list; most texts hold nothing, many hold an order id).
_DIGIT_RUN = re.compile(r"\d(?:[ \-]?\d){7}")
# Runs of digits (spaces and dashes between them allowed, a "+" before): the
# number patterns run only inside runs of 8 digits or more.
_NUMERIC = re.compile(r"\+?\d[\d \-]*\d[Xx]?")
_CN_HINT = re.compile(r"[路街道巷弄同里村区园厦寓场苑楼][0-9０-９一二三四五六七八九十百零〇\-－]")
_EN_HINT = re.compile(r"\d[A-Za-z]?,?\s+[A-Z]")
_CN_WINDOW = 32  # characters before a hint where the address may start


def _cn_addresses(text: str) -> list[Found]:
    found: list[Found] = []
    position = 0
    for hint in _CN_HINT.finditer(text):
        if hint.start() < position:
            continue
        start = max(position, hint.start() - _CN_WINDOW)
        match = _CN_ADDRESS.search(text, start, min(len(text), hint.end() + _CN_WINDOW))
        if match is not None and match.end() > hint.start():
            found.append(Found(match.start(), match.end(), ADDRESS))
            position = match.end()
    return found


def _emails(text: str) -> list[Found]:
    found: list[Found] = []
    at = text.find("@")
    while at != -1:
        start = at
        while start > 0 and at - start < 64 and text[start - 1] in _EMAIL_LOCAL:
            start -= 1
        while start < at and not text[start].isalnum():
            start += 1  # the local part starts with a letter or digit
        domain = _EMAIL_DOMAIN.match(text, at + 1)
        if start < at and domain is not None:
            found.append(Found(start, domain.end(), EMAIL))
            at = text.find("@", domain.end())
        else:
            at = text.find("@", at + 1)
    return found


def find(text: str) -> list[Found]:
    """Every piece of personal data in ``text``, in order, without overlaps.

    When two finds overlap, the earlier kind in ``KINDS`` order after the ID
    card wins (an ID number is never also a bank card or a phone number).
    """
    if not text:
        return []
    runs = [
        (run.start(), run.end())
        for run in _NUMERIC.finditer(text)
        if sum(char.isdigit() for char in run.group()) >= 8
    ]
    candidates: list[Found] = []
    for start, end in runs:
        for match in _ID_CARD.finditer(text, start, end):
            if valid_id_card(match.group()):
                candidates.append(Found(match.start(), match.end(), ID_CARD))
        for match in _BANK_CARD.finditer(text, start, end):
            digits = _digits(match.group())
            if 16 <= len(digits) <= 19 and luhn(digits):
                candidates.append(Found(match.start(), match.end(), BANK_CARD))
    if "@" in text:
        candidates += _emails(text)
    for start, end in runs:
        candidates += [Found(m.start(), m.end(), PHONE) for m in _PHONE.finditer(text, start, end)]
    if _CN_HINT.search(text):
        candidates += _cn_addresses(text)
    if _EN_HINT.search(text):
        candidates += [Found(m.start(), m.end(), ADDRESS) for m in _EN_ADDRESS.finditer(text)]
    kept: list[Found] = []
    # First come, first kept: the list above is in priority order.
    for found in candidates:
        if all(found.end <= other.start or found.start >= other.end for other in kept):
            kept.append(found)
    return sorted(kept)


def may_hold(text: str) -> bool:
    """A cheap first look: ``False`` means :func:`find` would find nothing."""
    return bool(text) and (
        "@" in text
        or _DIGIT_RUN.search(text) is not None
        or _CN_HINT.search(text) is not None
        or _EN_HINT.search(text) is not None
    )
