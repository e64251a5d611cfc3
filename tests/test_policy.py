"""Policy loading and validation (CONTRACT.md, "Default policy")."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from pipeline.errors import UsageError
from pipeline.policy import DEFAULT_POLICY, POLICY_DIR, load_policy
from pipeline.vocab import FIELD_NAMES, RESTRICTED_FIELDS

KEEP = [
    "name", "name_kana", "insurer_name", "employer_name", "holder_type",
    "qualified_on", "issued_on", "valid_until",
]  # fmt: skip
MUST = ["insurer_number", "symbol", "number", "branch", "qr_code"]
SHOULD = [
    "birth_date", "sex", "address", "burden_ratio", "effective_from",
    "householder_name", "mynumber_last4",
]  # fmt: skip


def toml_list(names: list[str]) -> str:
    return "[" + ", ".join(f'"{n}"' for n in names) + "]"


def write_policy(
    tmp_path: Path,
    keep: list[str] = KEEP,
    must: list[str] = MUST,
    should: list[str] = SHOULD,
    extra: str = "",
    fields_extra: str = "",
) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(
        f"{extra}\n[fields]\nkeep = {toml_list(keep)}\nmust_mask = {toml_list(must)}\n"
        f"should_mask = {toml_list(should)}\n{fields_extra}\n",
        encoding="utf-8",
    )
    return path


def test_default_policy_matches_contract() -> None:
    p = load_policy()
    assert p.id == DEFAULT_POLICY == "mlit-2024"
    assert p.keep == set(KEEP) and p.must_mask == set(MUST) and p.should_mask == set(SHOULD)
    assert p.required == {"name", "insurer_name"}
    assert p.confidence_threshold == 0.6
    assert p.legacy_card_last_day == date(2025, 12, 1)
    assert load_policy("mlit-2024") == p


@pytest.mark.parametrize(
    ("field", "action"),
    [(f, "keep") for f in KEEP]
    + [(f, "must_mask") for f in MUST]
    + [(f, "should_mask") for f in SHOULD]
    + [("handwritten_note", "should_mask")],  # any other personal entry
)
def test_default_actions(field: str, action: str) -> None:
    p = load_policy()
    assert p.action(field) == action
    assert p.masks(field) is (action != "keep")


def test_every_field_named_once_in_default() -> None:
    p = load_policy()
    assert sorted([*p.keep, *p.must_mask, *p.should_mask]) == sorted(FIELD_NAMES)


def test_user_file_moves_a_field_and_gets_a_content_id(tmp_path: Path) -> None:
    keep = [*KEEP, "birth_date"]
    should = [f for f in SHOULD if f != "birth_date"]
    path = write_policy(tmp_path, keep=keep, should=should)
    p = load_policy(path)
    assert p.action("birth_date") == "keep"
    assert p.id.startswith("file:") and len(p.id) > len("file:") + 8
    assert load_policy(str(path)).id == p.id
    # Optional settings default to the default policy's values.
    assert p.confidence_threshold == 0.6 and p.legacy_card_last_day == date(2025, 12, 1)
    assert p.required == {"name", "insurer_name"}


def test_same_content_same_id_different_content_different_id(tmp_path: Path) -> None:
    a = load_policy(write_policy(tmp_path))
    b = load_policy(write_policy(tmp_path, extra="confidence_threshold = 0.8"))
    assert a.id != b.id and b.confidence_threshold == 0.8
    assert load_policy(POLICY_DIR / "mlit-2024.toml").id.startswith("file:")


def test_settings_can_be_overridden(tmp_path: Path) -> None:
    p = load_policy(
        write_policy(
            tmp_path,
            extra='title = "x"\nconfidence_threshold = 1\nlegacy_card_last_day = 2025-06-30',
            fields_extra='required = ["name"]',
        )
    )
    assert (p.title, p.confidence_threshold) == ("x", 1.0)
    assert p.legacy_card_last_day == date(2025, 6, 30) and p.required == {"name"}


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"keep": [*KEEP, "favourite_colour"]}, "policy_unknown_field"),
        ({"keep": [*KEEP, "sex"]}, "policy_duplicate_field"),
        ({"should": SHOULD[1:]}, "policy_missing_field"),
        (
            {"keep": [*KEEP, "number"], "must": [f for f in MUST if f != "number"]},
            "policy_restricted_keep",
        ),
        ({"keep": [*KEEP, *MUST], "must": []}, "policy_restricted_keep"),
        ({"extra": "confidence_threshold = 1.5"}, "policy_bad_threshold"),
        ({"extra": "confidence_threshold = -0.1"}, "policy_bad_threshold"),
        ({"extra": 'confidence_threshold = "high"'}, "policy_bad_threshold"),
        ({"extra": "confidence_threshold = true"}, "policy_bad_threshold"),
        ({"extra": 'legacy_card_last_day = "2025-12-01"'}, "policy_invalid"),
        ({"extra": "legacy_card_last_day = 2025-12-01T00:00:00"}, "policy_invalid"),
        ({"extra": "unexpected = 1"}, "policy_invalid"),
        ({"fields_extra": "hide = []"}, "policy_invalid"),
        ({"fields_extra": 'required = ["birth_date"]'}, "policy_required_not_kept"),
        ({"fields_extra": "required = 3"}, "policy_invalid"),
    ],
)
def test_invalid_policies_are_usage_errors(tmp_path: Path, kwargs: dict, code: str) -> None:
    with pytest.raises(UsageError) as info:
        load_policy(write_policy(tmp_path, **kwargs))
    assert info.value.code == code
    assert info.value.exit_status == 64


@pytest.mark.parametrize("field", sorted(RESTRICTED_FIELDS))
def test_restricted_field_cannot_be_kept(tmp_path: Path, field: str) -> None:
    path = write_policy(tmp_path, keep=[*KEEP, field], must=[f for f in MUST if f != field])
    with pytest.raises(UsageError) as info:
        load_policy(path)
    assert info.value.code == "policy_restricted_keep"
    assert "法律で収集が禁止" in info.value.message


def test_restricted_field_may_move_to_should_mask(tmp_path: Path) -> None:
    p = load_policy(write_policy(tmp_path, must=MUST[1:], should=[*SHOULD, MUST[0]]))
    assert p.action(MUST[0]) == "should_mask" and p.masks(MUST[0])


@pytest.mark.parametrize(
    "content",
    [b"not = [valid toml", b"\xff\xfe", b"keep = []", b"fields = 1", b""],
)
def test_malformed_files(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.toml"
    path.write_bytes(content)
    with pytest.raises(UsageError) as info:
        load_policy(path)
    assert info.value.code == "policy_invalid"


def test_missing_policy(tmp_path: Path) -> None:
    for spec in ["no-such-policy", str(tmp_path / "missing.toml"), tmp_path / "missing.toml"]:
        with pytest.raises(UsageError) as info:
            load_policy(spec)
        assert info.value.code == "policy_not_found"


def test_directory_is_not_a_policy(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as info:
        load_policy(tmp_path)
    assert info.value.code == "policy_invalid"


def test_policy_is_frozen() -> None:
    p = load_policy()
    with pytest.raises(AttributeError):
        p.confidence_threshold = 0.1  # type: ignore[misc]
