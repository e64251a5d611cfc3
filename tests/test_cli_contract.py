"""`hokenmask check` as a black box: the command line, JSON records and exit codes of
CONTRACT.md, run in a subprocess on a handful of generated documents.

One JSON run over the whole small corpus is shared by most tests (Tesseract is the expensive
part); the rest run the command on one or two files, or on inputs that never reach OCR.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.cli_support import (
    CLI,
    DEFAULT_KEEP,
    GenDoc,
    assert_clean_stderr,
    cli_env,
    error_record_problems,
    generate_docs,
    page_record_problems,
    plan_item,
    record_problems,
    run_cli,
    value_problems,
    verdict_problems,
)

SEED = 4242
AS_OF = "2026-12-03"  # the generator's default as-of: truth verdicts are judged on this day
EARLY_AS_OF = "2025-06-01"  # before the old-card cut-off (2025-12-01)
POLICY_KEEP_BIRTH_DATE = """\
title = "test: birth date kept"
[fields]
keep = ["name", "name_kana", "insurer_name", "employer_name", "holder_type",
        "qualified_on", "issued_on", "valid_until", "birth_date"]
must_mask = ["insurer_number", "symbol", "number", "branch", "qr_code"]
should_mask = ["sex", "address", "burden_ratio", "effective_from", "householder_name",
               "mynumber_last4"]
"""
POLICY_KEEP_NUMBER = """\
[fields]
keep = ["name", "name_kana", "insurer_name", "employer_name", "holder_type",
        "qualified_on", "issued_on", "valid_until", "number"]
must_mask = ["insurer_number", "symbol", "branch", "qr_code"]
should_mask = ["birth_date", "sex", "address", "burden_ratio", "effective_from",
               "householder_name", "mynumber_last4"]
"""


@dataclass(frozen=True)
class SmallCorpus:
    docs: list[GenDoc]
    order: list[GenDoc]  # the order given on the command line (deliberately not sorted)

    def named(self, part: str) -> GenDoc:
        (doc,) = [d for d in self.docs if part in d.path.name]
        return doc


@pytest.fixture(scope="module")
def contract_corpus(tmp_path_factory: pytest.TempPathFactory) -> SmallCorpus:
    items = [
        plan_item(0, "oshirase_a4", "digital", "none", "pdf"),
        plan_item(1, "mynaportal_pdf", "digital", "pdf_box_over_text", "pdf"),
        plan_item(2, "kakuninsho_card", "digital", "black_box", "png"),
        plan_item(3, "hokensho_card", "digital", "none", "pdf"),
        plan_item(4, "oshirase_slip", "scan", "marker", "jpeg"),
        plan_item(5, "unknown", "digital", "none", "pdf"),
        plan_item(6, "kakuninsho_card", "multipage_pdf", "pdf_opaque_annot", "pdf_multi",
                  second=("mynaportal_pdf", "none")),
        plan_item(7, "oshirase_slip", "digital", "pdf_true_redaction", "pdf"),
        plan_item(8, "hokensho_card", "digital", "pdf_true_redaction", "pdf"),
        plan_item(9, "mynaportal_pdf", "digital", "pdf_true_redaction", "pdf"),
        plan_item(10, "kakuninsho_card", "digital", "pdf_true_redaction", "pdf"),
        plan_item(11, "oshirase_a4", "digital", "pdf_true_redaction", "pdf"),
    ]
    docs = generate_docs(tmp_path_factory.mktemp("contract-corpus"), SEED, items)
    order = [docs[i] for i in (5, 0, 6, 2, 3, 1, 8, 4, 7, 11, 10, 9)]
    return SmallCorpus(docs, order)


@pytest.fixture(scope="module")
def json_run(contract_corpus: SmallCorpus):
    """The most verbose JSON run over the whole corpus, in a non-sorted input order."""
    return run_cli("-v", "-v", "check", "--json", "--as-of", AS_OF,
                   *[d.path for d in contract_corpus.order])


def _pages(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if "error" not in r]


# --- JSON Lines -------------------------------------------------------------------------------

def test_json_gives_one_record_per_page_in_input_order(contract_corpus: SmallCorpus,
                                                       json_run) -> None:
    expected = [(str(d.path), p["page"]) for d in contract_corpus.order for p in d.pages]
    got = [(r["source"], r.get("page")) for r in json_run.records]
    assert got == expected


def test_stdout_is_only_json_lines_even_at_most_verbose(json_run) -> None:
    # run_cli already parsed every stdout line as one JSON object; nothing else is there.
    assert json_run.records
    assert all(line.startswith("{") for line in json_run.stdout.splitlines())
    assert_clean_stderr(json_run.stderr)


def test_every_page_record_has_exactly_the_contract_shape(json_run) -> None:
    problems = [p for r in json_run.records for p in record_problems(r)]
    assert problems == []


def test_no_errors_on_well_formed_documents(json_run) -> None:
    assert [r for r in json_run.records if "error" in r] == []


def test_values_only_for_kept_visible_fields_in_contract_formats(json_run) -> None:
    problems = [p for r in _pages(json_run.records) for p in value_problems(r)]
    assert problems == []


def test_verdicts_agree_with_their_reasons(json_run) -> None:
    problems = [p for r in _pages(json_run.records) for p in verdict_problems(r)]
    assert problems == []


def test_unknown_document_is_rejected(contract_corpus: SmallCorpus, json_run) -> None:
    (rec,) = json_run.by_source()[str(contract_corpus.named("_unknown_").path)]
    assert rec["doc_type"] == "unknown"
    assert rec["verdict"] == "reject"
    assert "unknown_document" in {r["code"] for r in rec["reasons"]}


def test_exit_status_1_when_any_page_is_rejected(json_run) -> None:
    assert any(r.get("verdict") == "reject" for r in json_run.records)
    assert json_run.returncode == 1


def test_records_are_flushed_as_each_file_is_done(tmp_path: Path,
                                                  contract_corpus: SmallCorpus) -> None:
    """The first file's record arrives while later (OCR-heavy) files are still being read."""
    empty = tmp_path / "first.png"
    empty.write_bytes(b"")
    slow = [contract_corpus.named(part).path for part in ("_scan_marker", "_digital_black_box")]
    proc = subprocess.Popen([*CLI, "check", "--json", empty, *slow], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=cli_env())
    try:
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())
        still_running = proc.poll() is None
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    assert first["source"] == str(empty)
    assert first["error"]["code"] == "empty_file"
    assert still_running, "the first record was only written when the process ended"


# --- the table ----------------------------------------------------------------------------------

def test_without_json_a_japanese_table_and_nothing_else(tmp_path: Path,
                                                        contract_corpus: SmallCorpus) -> None:
    empty = tmp_path / "空のファイル.png"
    empty.write_bytes(b"")
    doc = contract_corpus.named("_unknown_").path
    res = run_cli("-v", "-v", "check", "--as-of", AS_OF, doc, empty, parse=False)
    assert res.returncode == 2
    assert_clean_stderr(res.stderr)
    lines = res.stdout.splitlines()
    assert lines, "no table on stdout"
    for label in ("ファイル", "書類", "判定", "理由"):
        assert label in lines[0]
    assert str(doc) in res.stdout and str(empty) in res.stdout
    assert "不明な書類" in res.stdout and "差戻し" in res.stdout and "読取不可" in res.stdout
    assert "ファイルが空です" in res.stdout
    assert not any(line.lstrip().startswith("{") for line in lines), "JSON in the table output"


# --- --as-of ----------------------------------------------------------------------------------

def _legacy_card_candidate(contract_corpus: SmallCorpus) -> GenDoc:
    """An old card whose own expiry (per truth) does not make it expired on EARLY_AS_OF."""
    for doc in contract_corpus.docs:
        page = doc.pages[0]
        until = page["fields"].get("valid_until", {})
        if page["doc_type"] != "hokensho_card" or len(doc.pages) != 1:
            continue
        value = until.get("value") if until.get("state") == "visible" else None
        if not value or date.fromisoformat(value) >= date.fromisoformat(EARLY_AS_OF):
            return doc
    raise AssertionError("the corpus has no old card still valid on the early as-of date")


def _codes(rec: dict[str, Any]) -> set[str]:
    return {r["code"] for r in rec["reasons"]}


def test_as_of_decides_whether_an_old_card_is_expired(contract_corpus: SmallCorpus) -> None:
    doc = _legacy_card_candidate(contract_corpus)
    late = run_cli("check", "--json", "--as-of", AS_OF, doc.path)
    early = run_cli("check", "--json", "--as-of", EARLY_AS_OF, doc.path)
    for res in (late, early):
        assert_clean_stderr(res.stderr)
        assert len(res.records) == 1 and res.records[0]["doc_type"] == "hokensho_card"
    assert "legacy_card_expired" in _codes(late.records[0])
    assert late.records[0]["verdict"] == "reject"
    assert "legacy_card_expired" not in _codes(early.records[0])


# --- directories ----------------------------------------------------------------------------

def test_directories_are_walked_recursively_in_sorted_order(tmp_path: Path) -> None:
    """Zero-byte files never reach OCR: the order of their error records is the walk order."""
    root = tmp_path / "in"
    names = ["b.png", "a/y.png", "a/c/z.png", "a/x.png", "c.png", "B.png", "a0.png",
             "sub dir/名前 付き.jpg"]
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"")
    lone = tmp_path / "lone.png"
    lone.write_bytes(b"")
    res = run_cli("check", "--json", lone, root)
    walk = sorted(names, key=lambda n: Path(n).parts)
    assert [r["source"] for r in res.records] == [str(lone), *(str(root / n) for n in walk)]
    assert all(r["error"]["code"] == "empty_file" for r in res.records)
    assert res.returncode == 2


# --- exit status ----------------------------------------------------------------------------

def test_exit_status_2_for_an_unreadable_input_and_the_others_still_reported(
        tmp_path: Path, contract_corpus: SmallCorpus) -> None:
    missing = tmp_path / "does-not-exist.pdf"
    doc = contract_corpus.named("_unknown_").path
    res = run_cli("check", "--json", "--as-of", AS_OF, missing, doc)
    assert res.returncode == 2
    assert_clean_stderr(res.stderr)
    assert [r["source"] for r in res.records] == [str(missing), str(doc)]
    assert error_record_problems(res.records[0]) == []
    assert res.records[0]["error"]["code"] == "not_found"
    assert page_record_problems(res.records[1]) == []


def test_exit_status_0_when_every_page_is_accepted(contract_corpus: SmallCorpus) -> None:
    """A document the truth's own oracle accepts (a born-digital true redaction if any)."""
    accepted = [d for d in contract_corpus.docs
                if [p["expected"]["verdict"] for p in d.pages] == ["accept"]]
    assert accepted, "the corpus has no document the truth accepts"
    doc = min(accepted, key=lambda d: (d.truth["container"] != "pdf", d.path.name))
    res = run_cli("check", "--json", "--as-of", AS_OF, doc.path)
    assert [r.get("verdict") for r in res.records] == ["accept"], res.records
    assert res.returncode == 0


@pytest.mark.parametrize("verdicts, errors, status", [
    (["accept"], 0, 0),
    (["accept", "accept"], 0, 0),
    (["accept", "review"], 0, 1),
    (["reject", "accept"], 0, 1),
    (["accept"], 1, 2),
    (["review", "reject"], 1, 2),
])
def test_exit_status_follows_the_worst_outcome(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path, verdicts: list[str],
                                               errors: int, status: int) -> None:
    """The mapping verdicts → exit status, independent of recognition accuracy."""
    from pipeline import cli
    from pipeline.model import Document, Page, ReadError

    def fake_check(path: Path, ctx: Any) -> Document:
        if path.name.startswith("err"):
            return Document(source=path, error=ReadError("corrupt", "ファイルが壊れています"))
        page = Page(source=path, index=0, image=np.zeros((4, 4, 3), np.uint8),
                    doc_type="kakuninsho_card", confidence=0.9,
                    verdict=verdicts[int(path.stem[-1])])
        return Document(source=path, pages=(page,), kind="png")

    monkeypatch.setattr(cli, "check_document", fake_check)
    paths = [str(tmp_path / f"ok{i}") for i in range(len(verdicts))]
    paths += [str(tmp_path / f"err{i}") for i in range(errors)]
    assert cli.main(["check", "--json", *paths]) == status
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(paths)


@pytest.mark.parametrize("failure", ["crash", "restricted_value"])
def test_an_internal_failure_is_an_error_record_and_the_run_goes_on(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
        failure: str) -> None:
    """An exception escaping the pipeline, or a page the serializer refuses (a restricted field
    holding a value), is ``internal_error`` for that file — quietly: its text may quote the
    document — and never stops the other files."""
    from pipeline import cli
    from pipeline.model import Document, Field, Page

    secret = "06139984"

    def fake_check(path: Path, ctx: Any) -> Document:
        fields = {}
        if path.name == "bad":
            if failure == "crash":
                raise ValueError(f"invalid literal for int() with base 10: '{secret}'")
            fields = {"number": Field("number", "visible", value=secret)}
        page = Page(source=path, index=0, image=np.zeros((4, 4, 3), np.uint8),
                    doc_type="kakuninsho_card", confidence=0.9, verdict="review",
                    fields=fields)
        return Document(source=path, pages=(page,), kind="png")

    monkeypatch.setattr(cli, "check_document", fake_check)
    paths = [str(tmp_path / n) for n in ("before", "bad", "after")]
    assert cli.main(["check", "--json", *paths]) == 2
    out, err = capsys.readouterr()
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["source"] for r in records] == paths
    assert records[1]["error"]["code"] == "internal_error"
    assert [r.get("verdict") for r in records] == ["review", None, "review"]
    assert secret not in out + err
    assert "Traceback" not in err


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _usage_cases(tmp: Path, doc: Path) -> dict[str, list[str]]:
    bad_toml = _write(tmp / "bad.toml", "[fields\nkeep = [")
    unknown_field = _write(tmp / "unknown.toml",
                           POLICY_KEEP_BIRTH_DATE.replace('"sex",', '"sex", "favourite_food",'))
    missing_field = _write(tmp / "missing.toml", POLICY_KEEP_BIRTH_DATE.replace('"sex", ', ""))
    keeps_number = _write(tmp / "keeps_number.toml", POLICY_KEEP_NUMBER)
    empty_dir = tmp / "empty-dir"
    empty_dir.mkdir()
    d = str(doc)
    return {
        "no_command": [],
        "unknown_command": ["frobnicate", d],
        "no_paths": ["check"],
        "no_paths_json": ["check", "--json"],
        "unknown_option": ["check", "--frobnicate", d],
        "as_of_not_a_date": ["check", "--as-of", "tomorrow", d],
        "as_of_impossible_date": ["check", "--as-of", "2026-02-30", d],
        "as_of_basic_format": ["check", "--as-of", "20261203", d],
        "as_of_week_date": ["check", "--as-of", "2026-W49-3", d],
        "as_of_missing_value": ["check", d, "--as-of"],
        "policy_unknown_name": ["check", "--policy", "no-such-policy", d],
        "policy_not_toml": ["check", "--policy", str(bad_toml), d],
        "policy_unknown_field": ["check", "--policy", str(unknown_field), d],
        "policy_missing_field": ["check", "--policy", str(missing_field), d],
        "policy_keeps_restricted": ["check", "--policy", str(keeps_number), d],
        "policy_is_a_directory": ["check", "--policy", str(tmp), d],
        "empty_directory": ["check", "--json", str(empty_dir)],
    }


USAGE_CASES = [
    "no_command", "unknown_command", "no_paths", "no_paths_json", "unknown_option",
    "as_of_not_a_date", "as_of_impossible_date", "as_of_basic_format", "as_of_week_date",
    "as_of_missing_value", "policy_unknown_name", "policy_not_toml", "policy_unknown_field",
    "policy_missing_field", "policy_keeps_restricted", "policy_is_a_directory",
    "empty_directory",
]


def _main_status(argv: list[str]) -> int:
    from pipeline import cli

    try:
        return cli.main(argv)
    except SystemExit as exc:  # argparse errors leave through SystemExit
        return int(exc.code or 0)


@pytest.mark.parametrize("case", USAGE_CASES)
def test_bad_usage_exits_64_with_a_japanese_message(tmp_path: Path, contract_corpus: SmallCorpus,
                                                    capsys: pytest.CaptureFixture[str],
                                                    case: str) -> None:
    """In-process (the whole table in a second); a few cases below also as a subprocess."""
    args = _usage_cases(tmp_path, contract_corpus.named("_unknown_").path)[case]
    status = _main_status(args)
    out, err = capsys.readouterr()
    assert status == 64, (case, err[-500:])
    assert out == ""
    assert_clean_stderr(err)
    assert "hokenmask" in err and any("\u3040" <= c <= "\u9fff" for c in err)


@pytest.mark.parametrize("case", ["unknown_option", "as_of_impossible_date", "no_paths",
                                  "policy_not_toml", "empty_directory"])
def test_bad_usage_exits_64_from_the_command(tmp_path: Path, contract_corpus: SmallCorpus,
                                             case: str) -> None:
    args = _usage_cases(tmp_path, contract_corpus.named("_unknown_").path)[case]
    res = run_cli(*args, parse=False)
    assert res.returncode == 64, (case, res.stderr[-500:])
    assert res.stdout == ""
    assert_clean_stderr(res.stderr)
    assert any("\u3040" <= c <= "\u9fff" for c in res.stderr)


def test_a_policy_keeping_a_restricted_field_is_refused_citing_the_law(
        tmp_path: Path, contract_corpus: SmallCorpus) -> None:
    policy = _write(tmp_path / "keeps_number.toml", POLICY_KEEP_NUMBER)
    res = run_cli("check", "--json", "--policy", policy, contract_corpus.named("_unknown_").path,
                  parse=False)
    assert res.returncode == 64
    assert "第194条の2" in res.stderr
    assert res.stdout == ""


# --- --policy ---------------------------------------------------------------------------------

def test_a_policy_keeping_birth_date_reports_its_value(tmp_path: Path, contract_corpus: SmallCorpus,
                                                       json_run) -> None:
    doc = contract_corpus.named("_hokensho_card_digital_none")
    truth = doc.pages[0]["fields"]["birth_date"]
    assert truth["state"] == "visible" and truth["value"]
    # Under the default policy the value is never printed …
    (default,) = json_run.by_source()[str(doc.path)]
    assert "value" not in default["fields"].get("birth_date", {})
    # … under a policy that keeps it, it is.
    policy = _write(tmp_path / "keep_birth_date.toml", POLICY_KEEP_BIRTH_DATE)
    res = run_cli("check", "--json", "--as-of", AS_OF, "--policy", policy, doc.path)
    assert_clean_stderr(res.stderr)
    (rec,) = res.records
    keep = DEFAULT_KEEP | {"birth_date"}
    assert value_problems(rec, keep) == []
    assert rec["fields"]["birth_date"] == {**rec["fields"]["birth_date"], "state": "visible"}
    assert rec["fields"]["birth_date"].get("value") == truth["value"]
    assert not any(r["code"] == "exposed_unneeded" and r.get("field") == "birth_date"
                   for r in rec["reasons"])


# --- robustness of the output channel ------------------------------------------------------

def test_json_is_utf8_whatever_the_console_encoding(tmp_path: Path) -> None:
    empty = tmp_path / "書類.png"
    empty.write_bytes(b"")
    res = run_cli("check", "--json", empty, env=cli_env(PYTHONIOENCODING="ascii"))
    assert_clean_stderr(res.stderr)
    assert res.returncode == 2
    assert res.records == [{"source": str(empty),
                            "error": {"code": "empty_file", "message": "ファイルが空です"}}]


def test_an_undecodable_file_name_does_not_stop_the_run(tmp_path: Path) -> None:
    """A Shift_JIS name from a Windows archive (田中.png) is reported, escaped, not crashed on."""
    folder = tmp_path / "in"
    folder.mkdir()
    sjis = os.path.join(os.fsencode(folder), "田中.png".encode("shift_jis"))
    with open(sjis, "wb"):
        pass
    (folder / "z.png").write_bytes(b"")
    res = run_cli("check", "--json", folder)
    assert_clean_stderr(res.stderr)
    assert res.returncode == 2
    sources = {r["source"] for r in res.records}
    assert sources == {str(folder / "z.png"), str(folder / "\\x93c\\x92\\x86.png")}
    assert all(r["error"]["code"] == "empty_file" for r in res.records)


def test_a_closed_pipe_ends_the_run_quietly(tmp_path: Path) -> None:
    """``hokenmask check --json … | head -1``: no BrokenPipeError traceback."""
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(1500):  # ~200 KB of records: more than a pipe buffer holds
        (folder / f"{i:05d}-{'x' * 60}.png").write_bytes(b"")
    proc = subprocess.Popen([*CLI, "check", "--json", folder], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=cli_env())
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()
    stderr = proc.stderr.read().decode("utf-8", "replace")
    proc.stderr.close()
    assert proc.wait(timeout=120) != 0
    assert_clean_stderr(stderr)
    assert "BrokenPipeError" not in stderr


# --- verdict rules, checked against the truth oracle written from CONTRACT.md -------------------

def _judged(doc_type: str, states: dict[str, tuple[str, str | None]], as_of: date):
    from pipeline.model import Field, Page
    from pipeline.policy import load_policy
    from pipeline.rules import judge

    fields = {n: Field(n, st, bbox=(0.1, 0.1, 0.2, 0.2) if st != "absent" else None, value=v)
              for n, (st, v) in states.items()}
    page = Page(source=Path("x.png"), index=0, image=np.zeros((4, 4, 3), np.uint8),
                doc_type=doc_type, confidence=0.95, fields=fields)
    return judge(page, load_policy(), as_of)


def _oracle(doc_type: str, states: dict[str, tuple[str, str | None]], as_of: date):
    from fixtures.truth import expected

    return expected(doc_type, {n: {"state": st, "value": v} for n, (st, v) in states.items()},
                    as_of)


CLEAN_CARD = {
    "name": ("visible", "田中 一郎"), "insurer_name": ("visible", "全国健康保険協会 東京支部"),
    "insurer_number": ("masked", None), "symbol": ("masked", None),
    "number": ("masked", None), "branch": ("masked", None), "birth_date": ("masked", None),
}


def test_a_clean_card_without_an_expiry_date_is_accepted() -> None:
    states = {**CLEAN_CARD, "valid_until": ("absent", None)}
    as_of = date(2026, 12, 3)
    assert _oracle("kakuninsho_card", states, as_of)["verdict"] == "accept"
    page = _judged("kakuninsho_card", states, as_of)
    assert [(r.code, r.field) for r in page.reasons] == []
    assert page.verdict == "accept"


def test_an_old_card_past_its_own_expiry_names_valid_until() -> None:
    states = {**CLEAN_CARD, "valid_until": ("visible", "2025-03-31")}
    as_of = date(2025, 6, 1)
    want = [f for f in _oracle("hokensho_card", states, as_of)["findings"]
            if f["code"] == "legacy_card_expired"]
    assert want == [{"code": "legacy_card_expired", "field": "valid_until"}]
    page = _judged("hokensho_card", states, as_of)
    got = [{"code": r.code, "field": r.field} for r in page.reasons
           if r.code == "legacy_card_expired"]
    assert got == want
