from __future__ import annotations

import pytest

from actions.order_ids import find_case_id, find_order_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("订单20241105001到哪了", "20241105001"),
        ("单号JD8823412399", "JD8823412399"),
        ("my order is jd8823412399 thanks", "JD8823412399"),
        ("order 12345678", "12345678"),
        ("TB2024110512345", "TB2024110512345"),
        ("1234567", None),  # too short
        ("123456789012345678901", None),  # too long
        ("ABCD12345678", None),  # four letters are not a prefix
        ("售后单AS-000123", None),
        ("hello", None),
    ],
)
def test_order_numbers_in_messages(text: str, expected: str | None) -> None:
    assert find_order_id(text) == expected


def test_case_numbers_in_messages() -> None:
    assert find_case_id("售后单AS-000123到哪一步了") == "AS-000123"
    assert find_case_id("case as000124 please") == "AS-000124"
    assert find_case_id("订单20241105001") is None
