"""Shared helpers for the black-box tests of ``hokenmask check``: running the command in a
subprocess, generating small corpora, and checking records against CONTRACT.md.

The contract's vocabulary is restated here from CONTRACT.md on purpose (not imported from
``pipeline.vocab``), so that a change to the product's own tables cannot silently change what
these tests accept.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Final

CLI: Final = (sys.executable, "-m", "pipeline.cli")
CLI_TIMEOUT: Final = 600  # s: a hang (blocking read, symlink loop) fails instead of stalling

DOC_TYPES: Final = frozenset({"oshirase_a4", "oshirase_slip", "mynaportal_pdf",
                              "kakuninsho_card", "hokensho_card", "unknown"})
INSURANCE_KINDS: Final = frozenset({"kyokai", "kumiai", "kyosai", "senin", "kokuho",
                                    "kokuho_kumiai", "koki", "unknown"})
FIELD_NAMES: Final = frozenset({
    "name", "name_kana", "birth_date", "sex", "address", "insurer_name", "employer_name",
    "holder_type", "effective_from", "householder_name", "mynumber_last4", "insurer_number",
    "symbol", "number", "branch", "qr_code", "burden_ratio", "qualified_on", "issued_on",
    "valid_until",
})
STATES: Final = frozenset({"visible", "masked", "absent"})
VERDICTS: Final = frozenset({"accept", "reject", "review"})
RESTRICTED: Final = frozenset({"insurer_number", "symbol", "number", "branch", "qr_code"})
DEFAULT_KEEP: Final = frozenset({"name", "name_kana", "insurer_name", "employer_name",
                                 "holder_type", "qualified_on", "issued_on", "valid_until"})
DATE_FIELDS: Final = frozenset({"birth_date", "effective_from", "qualified_on", "issued_on",
                                "valid_until"})
NAME_FIELDS: Final = frozenset({"name", "name_kana", "householder_name"})
REJECT_CODES: Final = frozenset({"unknown_document", "legacy_card_expired", "expired",
                                 "required_masked", "exposed_restricted"})
REVIEW_CODES: Final = frozenset({"required_unreadable", "exposed_unneeded", "low_confidence"})

PAGE_KEYS: Final = frozenset({"source", "page", "doc_type", "confidence", "fields", "verdict",
                              "reasons"})
PAGE_OPTIONAL_KEYS: Final = frozenset({"insurance_kind"})  # "output" is only for `redact`
JAPANESE: Final = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
CODE: Final = re.compile(r"[a-z][a-z0-9_]*")
ISO_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")


# --- running the command -----------------------------------------------------------------------

@dataclass
class CliResult:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    records: list[dict[str, Any]] = field(default_factory=list)

    def by_source(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for rec in self.records:
            out.setdefault(rec["source"], []).append(rec)
        return out


def cli_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("OMP_THREAD_LIMIT", "1")
    env.pop("PYTHONWARNINGS", None)
    env.update(extra)
    return env


def run_cli(*args: str | os.PathLike[str], env: Mapping[str, str] | None = None,
            cwd: str | os.PathLike[str] | None = None, parse: bool = True,
            timeout: float = CLI_TIMEOUT) -> CliResult:
    """Run ``hokenmask ARGS`` in a subprocess; parse stdout as JSON Lines when ``parse``."""
    argv = [*CLI, *(os.fspath(a) for a in args)]
    proc = subprocess.run(argv, capture_output=True, env=dict(env or cli_env()), cwd=cwd,
                          timeout=timeout, check=False)
    stdout = proc.stdout.decode("utf-8")  # JSON Lines and the table are UTF-8
    stderr = proc.stderr.decode("utf-8", "replace")
    result = CliResult(argv, proc.returncode, stdout, stderr)
    if parse:
        result.records = parse_json_lines(stdout)
    return result


def parse_json_lines(stdout: str) -> list[dict[str, Any]]:
    """Every stdout line must be one JSON object (nothing else may go to stdout)."""
    records = []
    assert stdout == "" or stdout.endswith("\n"), "stdout does not end with a newline"
    for n, line in enumerate(stdout.splitlines(), 1):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise AssertionError(f"stdout line {n} is not JSON: {line[:120]!r}") from exc
        assert isinstance(obj, dict), f"stdout line {n} is not a JSON object"
        records.append(obj)
    return records


def assert_clean_stderr(stderr: str) -> None:
    assert "Traceback (most recent call last)" not in stderr, stderr[-3000:]


# --- generated corpora -------------------------------------------------------------------------

@dataclass(frozen=True)
class GenDoc:
    path: Path
    truth: dict[str, Any]

    @property
    def pages(self) -> list[dict[str, Any]]:
        return self.truth["pages"]


def generate_docs(out: Path, seed: int, items: Sequence[Any], workers: int = 2) -> list[GenDoc]:
    """Generate exactly the given plan items (``fixtures.plan.PlanItem``) into ``out``."""
    from fixtures.generate import generate

    names = generate(seed, 0, out, items=list(items), workers=workers, quiet=True)
    return [GenDoc(out / n, json.loads((out / f"{n}.truth.json").read_text("utf-8")))
            for n in names]


def plan_item(index: int, doc_type: str, capture: str, mask: str, container: str,
              second: tuple[str, str] | None = None) -> Any:
    """A plan item, checked against the generator's own compatibility tables."""
    from fixtures.plan import CAPTURE_CONTAINERS, PIXEL_CONTAINERS, STYLE_CONTAINERS, PlanItem

    allowed = STYLE_CONTAINERS.get(mask, PIXEL_CONTAINERS if mask != "none" else None)
    assert container in CAPTURE_CONTAINERS[capture], (capture, container)
    assert allowed is None or container in allowed, (mask, container)
    vector = container == "pdf" or (container == "pdf_multi" and mask in STYLE_CONTAINERS)
    return PlanItem(index, doc_type, capture, mask, container, None, vector, second)


# --- the contract ------------------------------------------------------------------------------

def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def page_record_problems(rec: Mapping[str, Any]) -> list[str]:
    """Structural problems of a page record (keys, types, enums, boxes)."""
    where = f"{rec.get('source')}#{rec.get('page')}"
    errs: list[str] = []
    keys = set(rec)
    if missing := PAGE_KEYS - keys:
        errs.append(f"{where}: missing keys {sorted(missing)}")
    if extra := keys - PAGE_KEYS - PAGE_OPTIONAL_KEYS:
        errs.append(f"{where}: unexpected keys {sorted(extra)}")
    if not isinstance(rec.get("source"), str) or not rec.get("source"):
        errs.append(f"{where}: source")
    page = rec.get("page")
    if not isinstance(page, int) or isinstance(page, bool) or page < 1:
        errs.append(f"{where}: page {page!r}")
    if rec.get("doc_type") not in DOC_TYPES:
        errs.append(f"{where}: doc_type {rec.get('doc_type')!r}")
    conf = rec.get("confidence")
    if not _is_number(conf) or not 0.0 <= conf <= 1.0:
        errs.append(f"{where}: confidence {conf!r}")
    if "insurance_kind" in rec and rec["insurance_kind"] not in INSURANCE_KINDS:
        errs.append(f"{where}: insurance_kind {rec['insurance_kind']!r}")
    if rec.get("verdict") not in VERDICTS:
        errs.append(f"{where}: verdict {rec.get('verdict')!r}")
    fields = rec.get("fields")
    if not isinstance(fields, dict):
        return [*errs, f"{where}: fields is not an object"]
    for name, f in fields.items():
        errs += [f"{where}.{name}: {e}" for e in _field_problems(name, f)]
    reasons = rec.get("reasons")
    if not isinstance(reasons, list):
        return [*errs, f"{where}: reasons is not a list"]
    for i, r in enumerate(reasons):
        errs += [f"{where}.reasons[{i}]: {e}" for e in _reason_problems(r)]
    return errs


def _field_problems(name: str, f: Any) -> list[str]:
    errs = []
    if name not in FIELD_NAMES:
        errs.append("not a contract field name")
    if not isinstance(f, dict):
        return [*errs, "not an object"]
    if extra := set(f) - {"state", "value", "bbox"}:
        errs.append(f"unexpected keys {sorted(extra)}")
    if f.get("state") not in STATES:
        errs.append(f"state {f.get('state')!r}")
    if "value" in f and (not isinstance(f["value"], str) or not f["value"]):
        errs.append("value is not a non-empty string")
    if "bbox" in f:
        box = f["bbox"]
        if (not isinstance(box, list) or len(box) != 4 or not all(map(_is_number, box))):
            errs.append(f"bbox {box!r} is not 4 numbers")
        elif not all(0.0 <= v <= 1.0 for v in box) or box[0] > box[2] or box[1] > box[3]:
            errs.append(f"bbox {box!r} not ordered within [0, 1]")
    return errs


def _reason_problems(r: Any) -> list[str]:
    if not isinstance(r, dict):
        return ["not an object"]
    errs = []
    if extra := set(r) - {"code", "message", "field"}:
        errs.append(f"unexpected keys {sorted(extra)}")
    if not isinstance(r.get("code"), str) or not CODE.fullmatch(r["code"]):
        errs.append(f"code {r.get('code')!r}")
    if not isinstance(r.get("message"), str) or not JAPANESE.search(r["message"]):
        errs.append("message is not Japanese")
    if "field" in r and r["field"] not in FIELD_NAMES:
        errs.append(f"field {r['field']!r}")
    return errs


def value_problems(rec: Mapping[str, Any], keep: Iterable[str] = DEFAULT_KEEP) -> list[str]:
    """Values only for kept, visible fields, never restricted ones, in the contract's formats."""
    keep = frozenset(keep)
    where = f"{rec.get('source')}#{rec.get('page')}"
    errs = []
    for name, f in rec.get("fields", {}).items():
        if "value" not in f:
            continue
        v = f["value"]
        if name in RESTRICTED:
            errs.append(f"{where}.{name}: a restricted field carries a value")
        elif name not in keep:
            errs.append(f"{where}.{name}: value printed for a field the policy masks")
        if f.get("state") != "visible":
            errs.append(f"{where}.{name}: value on a {f.get('state')} field")
        if not isinstance(v, str):
            continue
        if name in DATE_FIELDS:
            try:
                ok = bool(ISO_DATE.fullmatch(v)) and date.fromisoformat(v) is not None
            except ValueError:
                ok = False
            if not ok:
                errs.append(f"{where}.{name}: date value is not ISO YYYY-MM-DD")
        if name in NAME_FIELDS and (v != v.strip() or "  " in v or "\u3000" in v):
            errs.append(f"{where}.{name}: name spacing not normalised to single ASCII spaces")
        if name == "holder_type" and v not in ("本人", "家族"):
            errs.append(f"{where}.holder_type: value not 本人/家族")
    return errs


def verdict_problems(rec: Mapping[str, Any]) -> list[str]:
    """The verdict agrees with the reasons; reasons name fields the record carries."""
    where = f"{rec.get('source')}#{rec.get('page')}"
    codes = {r.get("code") for r in rec.get("reasons", [])}
    errs = []
    verdict = rec.get("verdict")
    if codes & REJECT_CODES and verdict != "reject":
        errs.append(f"{where}: reasons {sorted(codes & REJECT_CODES)} but verdict {verdict}")
    if verdict == "accept" and codes & REVIEW_CODES:
        errs.append(f"{where}: accepted with {sorted(codes & REVIEW_CODES)}")
    if verdict != "accept" and not codes:
        errs.append(f"{where}: {verdict} without a reason")
    if rec.get("doc_type") == "unknown" and "unknown_document" not in codes:
        errs.append(f"{where}: unknown document without unknown_document")
    fields = rec.get("fields", {})
    for r in rec.get("reasons", []):
        name = r.get("field")
        if name is not None and r.get("code") not in ("unknown_document",) and name not in fields:
            errs.append(f"{where}: reason {r.get('code')} names {name}, not among its fields")
        if r.get("code") == "exposed_restricted" and name is not None and name not in RESTRICTED:
            errs.append(f"{where}: exposed_restricted for {name}")
        if r.get("code") == "exposed_restricted" and fields.get(name, {}).get("state") not in (
                None, "visible"):
            errs.append(f"{where}: exposed_restricted for a {fields[name]['state']} field")
    return errs


def error_record_problems(rec: Mapping[str, Any]) -> list[str]:
    errs = []
    if set(rec) != {"source", "error"}:
        errs.append(f"{rec.get('source')}: keys {sorted(rec)} (want source, error)")
    err = rec.get("error")
    if not isinstance(err, dict) or set(err) != {"code", "message"}:
        return [*errs, f"{rec.get('source')}: error is not {{code, message}}"]
    if not isinstance(err["code"], str) or not CODE.fullmatch(err["code"]):
        errs.append(f"{rec.get('source')}: error code {err['code']!r}")
    if not isinstance(err["message"], str) or not JAPANESE.search(err["message"]):
        errs.append(f"{rec.get('source')}: error message is not Japanese")
    return errs


def record_problems(rec: Mapping[str, Any]) -> list[str]:
    return error_record_problems(rec) if "error" in rec else page_record_problems(rec)
