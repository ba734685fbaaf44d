"""Order and after-sales case numbers as customers type them."""

from __future__ import annotations

import re

# 8-20 characters: digits, optionally led by up to 3 letters (docs/intents.md).
# The same pattern feeds the NLU regex in data/nlu/orders.yml.
ORDER_ID = re.compile(r"(?:(?<![A-Za-z0-9])[A-Za-z]{1,3}|(?<![0-9A-Za-z]))[0-9]{8,20}(?![0-9])")
CASE_ID = re.compile(r"(?<![A-Za-z0-9])AS-?[0-9]{4,10}(?![0-9])", re.IGNORECASE)


def find_order_id(text: str | None) -> str | None:
    """Returns the first order number in ``text``, upper-cased, or None."""
    if not text:
        return None
    match = ORDER_ID.search(text)
    return match.group(0).upper() if match else None


def find_case_id(text: str | None) -> str | None:
    """Returns the first after-sales case number (``AS-000123``), or None."""
    if not text:
        return None
    match = CASE_ID.search(text)
    if match is None:
        return None
    digits = match.group(0)[2:].lstrip("-")
    return f"AS-{digits}"


def find_order_ids(text: str | None) -> list[str]:
    """Every distinct order number in ``text``, upper-cased, in order of appearance."""
    if not text:
        return []
    found: list[str] = []
    for match in ORDER_ID.finditer(text):
        order_id = match.group(0).upper()
        if order_id not in found:
            found.append(order_id)
    return found
