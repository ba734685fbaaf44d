"""Answers that are identifiers: an order number given where a reason was asked for.

Any free text is a reason or an address, except an identifier with little
else around it: an order number (the customer means another order), or a
tracking number, a phone number or a case number (not a reason at all).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from actions.order_ids import CASE_ID, ORDER_ID, find_case_id, find_order_ids

# Words that go with a number and say nothing else ("订单号是…", "it's order …").
_FILLER_WORDS = re.compile(
    r"订单号|訂單號|订单|訂單|单号|單號|编号|編號|号码|號碼|运单|運單|快递|快遞|"
    r"不是|这个|這個|那个|那個|换成|換成|改成|应该|應該|是|和|跟|还有|還有|"
    r"\b(?:the|my|order|orders|number|no|is|it|it's|its|not|this|that|one|please|"
    r"sorry|actually|oh|instead|and|for|or)\b",
    re.IGNORECASE,
)
_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN_WORD = re.compile(r"[A-Za-z]+")
# "Little else": at most this many Chinese characters or Latin words besides
# the identifiers and the filler words above.
_MAX_CJK_LEFT = 3
_MAX_WORDS_LEFT = 1


@dataclass(frozen=True)
class IdentifierAnswer:
    """A message that is one or more identifiers and little else.

    Attributes:
        order_ids: The order-number-shaped identifiers (a tracking or phone
            number has the same shape: only the shop can tell).
        first: The first identifier as written, for the reply.
    """

    order_ids: list[str]
    first: str


def identifier_answer(text: str | None) -> IdentifierAnswer | None:
    """The identifiers ``text`` consists of, or None when it says more than that."""
    if not text or text.startswith("/"):
        return None
    identifiers = [m.group(0) for m in ORDER_ID.finditer(text)]
    identifiers += [m.group(0) for m in CASE_ID.finditer(text)]
    if not identifiers:
        return None
    rest = CASE_ID.sub(" ", ORDER_ID.sub(" ", text))
    rest = _FILLER_WORDS.sub(" ", rest)
    if len(_CJK.findall(rest)) > _MAX_CJK_LEFT or len(_LATIN_WORD.findall(rest)) > _MAX_WORDS_LEFT:
        return None
    order_ids = find_order_ids(text)
    first = order_ids[0] if order_ids else (find_case_id(text) or identifiers[0])
    return IdentifierAnswer(order_ids=order_ids, first=first)


# The "another order" button typed back (channels without buttons show the
# titles as text), and what customers say instead.
_ANOTHER_ORDER = re.compile(
    r"^(?:(?:不是|不对|不對)[，,\s]*)?(?:是)?(?:其他|其它|别的|別的|另一个|另一個|另外一个|另外一個)(?:的)?(?:订单|訂單)[。.!！]*$"
    r"|^(?:no[,\s]*)?(?:an?other|a different|the other|different) order[.!]*$",
    re.IGNORECASE,
)


def wants_another_order(text: str | None) -> bool:
    """Whether ``text`` answers "is it this order?" with "another order"."""
    return bool(text) and bool(_ANOTHER_ORDER.match(str(text).strip()))


# ``stop_requested``: "算了" was said at the reason question and the bot asked
# once whether to drop the request; "confirmed" ends the form with nothing opened.
STOP_ASKED = "asked"
STOP_CONFIRMED = "confirmed"

# An explicit "stop": the customer backs out of the request itself. Reasons
# that sound negative ("不想要了", "不喜欢", "don't need it anymore") are not
# stops: they say why, and are the most common reasons there are.
_EXPLICIT_STOP = re.compile(
    r"^(?:(?:那|那就|还是|還是|好吧|哎|唉)[，,\s]*)?"
    r"(?:算了|不用了|不办了|不辦了|不申请了|不申請了|不退了|不换了|不換了|不修了|不弄了|"
    r"先不(?:退|换|換|修|办|辦|申请|申請|弄)了?|取消申请|取消申請|撤销申请|撤銷申請|别弄了|別弄了|停)"
    r"(?:吧|啦|了)?[。.!！~～]*$"
    r"|^(?:oh[,\s]*|ok[,\s]*|okay[,\s]*)?"
    r"(?:never ?mind|forget it|stop|cancel(?: (?:it|that|the request))?|"
    r"don'?t bother|no,? (?:stop|cancel)(?: it)?)[.!]*$",
    re.IGNORECASE,
)


def is_explicit_stop(text: str | None) -> bool:
    """Whether ``text`` backs out of the request ("算了", "never mind"), not a reason."""
    return bool(text) and bool(_EXPLICIT_STOP.match(str(text).strip()))


# "No" to "drop this request?": the customer goes on (the button's title
# typed back included). Anything longer is read as the reason itself.
_KEEP_GOING = re.compile(
    r"^(?:不|不是|不要|不用|没有|沒有|别|別|不放弃|不放棄|继续|繼續|继续申请|繼續申請|要继续|要繼續)"
    r"[的啊呀哦吧]?[。.!！~～]*$"
    r"|^(?:no|nope|no thanks|keep going|go on|continue)[.!]*$",
    re.IGNORECASE,
)


def keeps_going(text: str | None) -> bool:
    """Whether ``text`` answers "drop this request?" with no."""
    return bool(text) and bool(_KEEP_GOING.match(str(text).strip()))
