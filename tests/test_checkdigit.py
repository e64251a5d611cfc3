"""保険者番号 check digits and the insurance kind they imply (DOMAIN.md, "Numbers")."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.checkdigit import (
    check_digit,
    digits_only,
    insurance_kind_from_number,
    is_valid_insurer_number,
)


def with_check(body: str) -> str:
    return body + str(check_digit(body))


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("0104001", 3),  # DOMAIN.md worked example: sum 7
        ("0613255", 9),  # sum 21
        ("14302", 4),  # 国保, sum 16
        ("3913104", 0),  # sum 30
        ("3113068", 5),  # 31130683 is invalid: expects 5
        ("0000000", 0),
        ("9", 1),  # 9*2=18 → 1+8=9 → check 1
        ("5", 9),  # 5*2=10 → 1+0=1 → check 9
    ],
)
def test_check_digit_worked_examples(body: str, expected: int) -> None:
    assert check_digit(body) == expected


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("01040013", True),
        ("06132559", True),
        ("143024", True),
        ("39131040", True),
        ("31130683", False),
        ("０１０４００１３", True),  # full-width digits
        ("0104 0013", True),
        ("01-04-0013", True),
        ("０１－０４－００１３", True),
        ("１４３０２４", True),
        (" 143024 ", True),
        ("01040014", False),  # wrong check digit
        ("143025", False),
        ("0104001", False),  # 7 digits
        ("010400130", False),  # 9 digits
        ("1430", False),
        ("", False),
        ("0104OO13", False),  # letters O, not zeros: never guessed
        ("記号01040013", False),
        ("٠١٠٤٠٠١٣", False),  # non-ASCII digits that are not full-width Japanese ones
    ],
)
def test_is_valid_insurer_number(text: str, valid: bool) -> None:
    assert is_valid_insurer_number(text) is valid


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("01040013", "kyokai"),
        ("06132559", "kumiai"),
        ("39131040", "koki"),
        ("143024", "kokuho_kumiai"),  # insurer part 302: the 国保組合 range by convention
        (with_check("0213001"), "senin"),
        (with_check("0713001"), "kyosai"),  # 自衛官等: counted as kyosai
        (with_check("3113001"), "kyosai"),
        (with_check("3213001"), "kyosai"),
        (with_check("3313001"), "kyosai"),
        (with_check("3413001"), "kyosai"),
        (with_check("6313001"), "kumiai"),  # 特定健康保険組合
        (with_check("8113001"), "unknown"),  # 公費: not enrolment
        (with_check("1213001"), "unknown"),  # unassigned 法別番号
        (with_check("13303"), "kokuho_kumiai"),  # 133033: a 国保組合 (insurer part 3xx)
        (with_check("13101"), "kokuho"),
        (with_check("27399"), "kokuho_kumiai"),
        (with_check("27400"), "kokuho"),
        ("31130683", "unknown"),  # invalid check digit: misread, kind not guessed
        ("0104001", "unknown"),
        ("", "unknown"),
    ],
)
def test_insurance_kind_from_number(text: str, kind: str) -> None:
    assert insurance_kind_from_number(text) == kind


def test_example_kokuho_kumiai_number() -> None:
    assert is_valid_insurer_number("133033")
    assert insurance_kind_from_number("133033") == "kokuho_kumiai"


@pytest.mark.parametrize(("text", "digits"), [("０１ ０４", "0104"), ("a1", None), ("", None)])
def test_digits_only(text: str, digits: str | None) -> None:
    assert digits_only(text) == digits


@given(st.sampled_from([5, 7]).flatmap(lambda n: st.text("0123456789", min_size=n, max_size=n)))
def test_appended_check_digit_is_valid(body: str) -> None:
    assert is_valid_insurer_number(with_check(body))


@given(
    st.text("0123456789", min_size=7, max_size=7),
    st.integers(0, 7),
    st.integers(1, 9),
)
def test_single_digit_errors_are_detected(body: str, pos: int, delta: int) -> None:
    number = with_check(body)
    wrong = number[:pos] + str((int(number[pos]) + delta) % 10) + number[pos + 1 :]
    assert not is_valid_insurer_number(wrong)


def test_invalid_input_never_raises_or_echoes() -> None:
    # Values are transient: malformed input gives False/"unknown", not an exception text.
    for text in ["x" * 10_000, "\x00", "０" * 8 + "９"]:
        assert is_valid_insurer_number(text) in (True, False)
        assert insurance_kind_from_number(text) in ("unknown", "kokuho", "kyokai")
