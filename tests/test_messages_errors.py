"""The Japanese message catalogue and the exception hierarchy built on it."""

from __future__ import annotations

import re

import pytest

from pipeline.errors import HokenmaskError, InputError, InternalError, UsageError
from pipeline.messages import ERRORS, REASONS, error_message, reason_message
from pipeline.vocab import FIELD_LABELS_JA, FIELD_NAMES

REQUIRED_REASONS = [
    "required_masked", "required_unreadable", "exposed_restricted", "exposed_unneeded",
    "unknown_document", "legacy_card_expired", "expired", "low_confidence", "masked_by_fallback",
    "not_on_roster", "insurance_kind_mismatch", "dependant_document", "normalization_failed",
    "file_leak", "hidden_text", "orientation_uncertain",
]  # fmt: skip
INPUT_ERRORS = [
    "empty_file", "truncated", "corrupt", "encrypted", "unsupported_type", "too_large",
    "too_many_pages", "decompression_bomb", "not_found", "permission_denied", "timeout",
]  # fmt: skip
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@pytest.mark.parametrize("code", REQUIRED_REASONS)
def test_required_reason_codes_exist(code: str) -> None:
    assert code in REASONS


@pytest.mark.parametrize("code", sorted(REASONS))
def test_every_reason_renders_in_japanese(code: str) -> None:
    for field in [None, *FIELD_NAMES, "handwritten_note"]:
        text = reason_message(code, field)
        assert JAPANESE.search(text)
        assert "{" not in text and "}" not in text


def test_contract_example_message() -> None:
    assert (
        reason_message("exposed_restricted", "number")
        == "被保険者等記号・番号が黒塗りされていません（健康保険法第194条の2）"
    )
    assert reason_message("exposed_restricted", "insurer_number").startswith("保険者番号が")


@pytest.mark.parametrize("field", ["name", "insurer_name", "valid_until"])
def test_field_messages_name_the_label(field: str) -> None:
    assert FIELD_LABELS_JA[field] in reason_message("required_masked", field)


def test_file_leak_message() -> None:
    assert reason_message("file_leak") == "PDF の履歴に黒塗り前の情報が残っています"


def test_unknown_reason_code_still_has_a_message() -> None:
    assert JAPANESE.search(reason_message("some_future_code", "name"))


@pytest.mark.parametrize("code", sorted(ERRORS))
def test_every_error_has_a_japanese_message(code: str) -> None:
    assert JAPANESE.search(error_message(code))


@pytest.mark.parametrize("code", INPUT_ERRORS)
def test_input_errors_exit_2(code: str) -> None:
    err = InputError(code)
    assert (err.code, err.exit_status) == (code, 2)
    assert err.message == ERRORS[code] == str(err)
    assert isinstance(err, HokenmaskError)


@pytest.mark.parametrize(
    ("cls", "code", "status"),
    [
        (InputError, "corrupt", 2),
        (UsageError, "bad_arguments", 64),
        (InternalError, "internal_error", 2),
    ],
)
def test_defaults_and_exit_statuses(cls: type[HokenmaskError], code: str, status: int) -> None:
    err = cls()
    assert (err.code, err.exit_status) == (code, status)


def test_unknown_error_code_becomes_internal_and_is_not_echoed() -> None:
    err = InputError("0104001312345678")
    assert err.code == "internal_error"
    assert "0104001312345678" not in str(err) and "0104001312345678" not in repr(err)


def test_fields_are_named_by_label_and_odd_names_not_echoed() -> None:
    err = UsageError("policy_unknown_field", fields=("name", "bogus_field", "01040013 田中"))
    assert "氏名（name）" in err.message
    assert "bogus_field" in err.message
    assert "01040013" not in err.message and "田中" not in err.message
    assert err.exit_status == 64


def test_errors_can_be_raised_and_caught_by_base() -> None:
    with pytest.raises(HokenmaskError) as info:
        raise UsageError("policy_restricted_keep", fields=("number",))
    assert "法律" in info.value.message and info.value.exit_status == 64
