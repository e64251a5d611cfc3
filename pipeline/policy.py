"""Masking policy: which fields are kept, must be masked (告知要求制限) or should be masked.

Policies are TOML (``pipeline/policies/<name>.toml`` for built-ins, or any file the user
names). Loading validates them: every contract field in exactly one group, no unknown names,
and no restricted field in ``keep`` — the law forbids collecting those values at all.
Optional settings a user file leaves out take the default policy's values.

>>> p = load_policy()
>>> p.id, p.action("number"), p.action("name")
('mlit-2024', 'must_mask', 'keep')
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final, Literal

from pipeline.errors import UsageError
from pipeline.vocab import FIELD_NAMES, RESTRICTED_FIELDS

Action = Literal["keep", "must_mask", "should_mask"]
GROUPS: Final[tuple[Action, ...]] = ("keep", "must_mask", "should_mask")

DEFAULT_POLICY: Final = "mlit-2024"
POLICY_DIR: Final = Path(__file__).parent / "policies"
_BUILTIN_NAME: Final = re.compile(r"[a-z0-9][a-z0-9._-]*")
_TOP_KEYS: Final = frozenset({"title", "confidence_threshold", "legacy_card_last_day", "fields"})
_FIELD_KEYS: Final = frozenset({*GROUPS, "required"})


@dataclass(frozen=True)
class Policy:
    """A validated policy. ``id`` is a stable cache key: the built-in name or ``file:<sha256>``."""

    id: str
    title: str
    keep: frozenset[str]
    must_mask: frozenset[str]
    should_mask: frozenset[str]
    required: frozenset[str]  # kept fields that must be readable (masked → reject)
    confidence_threshold: float
    legacy_card_last_day: date  # old cards are rejected on any as-of date after this

    def action(self, field: str) -> Action:
        """The action for a field; a name outside the contract ("any other personal entry",
        e.g. handwritten notes) is ``should_mask``."""
        if field in self.keep:
            return "keep"
        if field in self.must_mask:
            return "must_mask"
        return "should_mask"

    def masks(self, field: str) -> bool:
        """True when ``redact`` must cover the field (either mask group)."""
        return self.action(field) != "keep"


def load_policy(name_or_path: str | Path | None = None) -> Policy:
    """Load a built-in policy by name, or a TOML file by path; raise UsageError if invalid."""
    spec = str(name_or_path) if name_or_path is not None else DEFAULT_POLICY
    builtin = POLICY_DIR / f"{spec}.toml"
    if isinstance(name_or_path, str | None) and _BUILTIN_NAME.fullmatch(spec) and builtin.is_file():
        return _parse(builtin.read_bytes(), spec)
    path = Path(spec)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UsageError("policy_not_found") from None
    except OSError:
        raise UsageError("policy_invalid") from None
    return _parse(raw, "file:" + hashlib.sha256(raw).hexdigest()[:16])


def _parse(raw: bytes, policy_id: str) -> Policy:
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        raise UsageError("policy_invalid") from None
    unknown_top = sorted(set(data) - _TOP_KEYS)
    if unknown_top:
        raise UsageError("policy_invalid", fields=tuple(unknown_top))
    table = data.get("fields")
    if not isinstance(table, dict):
        raise UsageError("policy_invalid", fields=("fields",))
    unknown_keys = sorted(set(table) - _FIELD_KEYS)
    if unknown_keys:
        raise UsageError("policy_invalid", fields=tuple(unknown_keys))
    groups = {g: _names(table, g) for g in GROUPS}
    _check_groups(groups)
    defaults = None if policy_id == DEFAULT_POLICY else load_policy(DEFAULT_POLICY)
    required = (
        frozenset(_names(table, "required"))
        if "required" in table
        else _default(defaults, "required")
    )
    if not required <= set(groups["keep"]):
        raise UsageError("policy_required_not_kept", fields=tuple(sorted(required)))
    return Policy(
        id=policy_id,
        title=str(data.get("title", "")),
        keep=frozenset(groups["keep"]),
        must_mask=frozenset(groups["must_mask"]),
        should_mask=frozenset(groups["should_mask"]),
        required=required,
        confidence_threshold=_threshold(data, defaults),
        legacy_card_last_day=_last_day(data, defaults),
    )


def _names(table: dict[str, Any], key: str) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsageError("policy_invalid", fields=(key,))
    return value


def _check_groups(groups: dict[Action, list[str]]) -> None:
    named = [f for g in GROUPS for f in groups[g]]
    unknown = sorted({f for f in named if f not in FIELD_NAMES})
    if unknown:
        raise UsageError("policy_unknown_field", fields=tuple(unknown))
    duplicate = sorted({f for f in named if named.count(f) > 1})
    if duplicate:
        raise UsageError("policy_duplicate_field", fields=tuple(duplicate))
    missing = [f for f in FIELD_NAMES if f not in named]
    if missing:
        raise UsageError("policy_missing_field", fields=tuple(missing))
    kept_restricted = sorted(RESTRICTED_FIELDS & set(groups["keep"]))
    if kept_restricted:
        raise UsageError("policy_restricted_keep", fields=tuple(kept_restricted))


def _default(defaults: Policy | None, attr: str) -> Any:
    if defaults is None:  # the default policy itself must spell everything out
        raise UsageError("policy_invalid", fields=(attr,))
    return getattr(defaults, attr)


def _threshold(data: dict[str, Any], defaults: Policy | None) -> float:
    if "confidence_threshold" not in data:
        return _default(defaults, "confidence_threshold")
    value = data["confidence_threshold"]
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise UsageError("policy_bad_threshold")
    return float(value)


def _last_day(data: dict[str, Any], defaults: Policy | None) -> date:
    if "legacy_card_last_day" not in data:
        return _default(defaults, "legacy_card_last_day")
    value = data["legacy_card_last_day"]
    if not isinstance(value, date) or isinstance(value, datetime):
        raise UsageError("policy_invalid", fields=("legacy_card_last_day",))
    return value
