"""保険者番号 (insurer number): check digit and the insurance system it implies (DOMAIN.md).

An insurer number is restricted (健康保険法第194条の2). It may be used here transiently, to
confirm a location or derive ``insurance_kind``, and must never be logged, stored or put in an
exception message: every function here returns only a bool, an int or a kind name, and
malformed input gives ``False`` / ``"unknown"`` rather than an error that could echo it.

Layouts:

- 8 digits: 法別番号 (2) + 都道府県 (2) + insurer (3) + check digit.
- 6 digits (国民健康保険: 市町村 and 国保組合): 都道府県 (2) + insurer (3) + check digit.

>>> is_valid_insurer_number("01040013")
True
>>> insurance_kind_from_number("０６１３２５５９")
'kumiai'
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

# Separators tolerated between digits: spaces, hyphens and dashes of every width, dots.
_SEPARATORS: Final = re.compile(r"[\s\-‐‑‒–—―−－ｰー・.．,，]")

# 法別番号 → insurance kind. 07 (自衛官等) is the 防衛省共済組合 scheme: counted as kyosai.
# 63 (特定健康保険組合) is a 健保組合 paying for its retirees: counted as kumiai.
HOUBETSU_KINDS: Final[dict[str, str]] = {
    "01": "kyokai",
    "02": "senin",
    "06": "kumiai",
    "07": "kyosai",
    "31": "kyosai",
    "32": "kyosai",
    "33": "kyosai",
    "34": "kyosai",
    "39": "koki",
    "63": "kumiai",
}

# 6-digit 国保 numbers: 国保組合 are numbered in the 300s of the 3-digit insurer part
# (e.g. 13 303 3), 市町村 below that or in the 800s (政令市の区 etc.). A convention from
# practice, not a published rule: the insurer *name* is the primary source of the kind.
KOKUHO_KUMIAI_RANGE: Final = range(300, 400)


def digits_only(text: str) -> str | None:
    """The digits of ``text`` (full-width folded, separators dropped), or None if anything else."""
    folded = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    if folded and folded.isascii() and folded.isdigit():
        return folded
    return None


def check_digit(body: str) -> int:
    """Check digit over ASCII ``body`` digits: weights 2, 1, 2, … from the right, digit sums."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        product = int(ch) * (2 if i % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def is_valid_insurer_number(text: str) -> bool:
    """True for an 8-digit or 6-digit (国保) insurer number whose check digit matches."""
    digits = digits_only(text)
    if digits is None or len(digits) not in (6, 8):
        return False
    return check_digit(digits[:-1]) == int(digits[-1])


def insurance_kind_from_number(text: str) -> str:
    """The insurance system implied by a valid insurer number, else ``"unknown"``.

    8 digits use the 法別番号 (8x 公費 and unlisted ones are ``unknown``: they do not prove
    enrolment); 6 digits are ``kokuho_kumiai`` when the insurer part is 300–399, else
    ``kokuho``. A number failing its check digit is ``unknown``: it was misread.
    """
    if not is_valid_insurer_number(text):
        return "unknown"
    digits = digits_only(text) or ""
    if len(digits) == 6:
        return "kokuho_kumiai" if int(digits[2:5]) in KOKUHO_KUMIAI_RANGE else "kokuho"
    return HOUBETSU_KINDS.get(digits[:2], "unknown")
