"""Privacy sweep (issue 3, item 8): restricted values never reach a record, a log line or a file.

`hokenmask -v -v check --json` (the most verbose) runs over ~25 documents of the session
corpus (tests/conftest.py) covering every document type and many mask styles, with TMPDIR
pointed at an empty folder. Everything it leaves behind is searched for every restricted truth
value (insurer number, symbol, number, branch and the personal QR payload) in NFKC, full-width
and space-free forms: zero hits. The subprocess carries an audit hook that lists every file
Python opened for writing, so a file written and deleted during the run is caught too; `check`
itself must write no file at all. The whole session corpus is swept under the `slow` marker.
"""

from __future__ import annotations

import json
import re
import subprocess
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.cli_support import CLI, CLI_TIMEOUT, GenDoc, cli_env

AS_OF = "2026-12-03"
MIN_LEN = 3  # shorter values (the 2-digit 枝番 "00") would hit unrelated numbers
_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

# Runs the command with an audit hook recording every write-open and file operation.
RUNNER = r"""
import atexit, json, os, sys
_log, _seen = os.environ.pop("HOKENMASK_TEST_WRITES"), []
_WRITE = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_EVENTS = {"os.rename", "os.replace", "os.remove", "os.rmdir", "os.mkdir", "os.link",
           "os.symlink", "os.truncate", "shutil.copyfile", "shutil.move", "shutil.rmtree",
           "tempfile.mkstemp", "tempfile.mkdtemp"}
def _hook(event, args):
    if event == "open":
        path, mode, flags = args
        if isinstance(path, int) or os.fsdecode(path) == os.devnull:  # nothing is stored
            return
        writing = any(c in mode for c in "wax+") if mode else bool((flags or 0) & _WRITE)
        if writing:
            _seen.append(["open", os.fsdecode(path)])
    elif event in _EVENTS:
        _seen.append([event, [os.fsdecode(a) if isinstance(a, (str, bytes, os.PathLike))
                              else repr(a) for a in args]])
def _dump():
    found = list(_seen)
    with open(_log, "w", encoding="utf-8") as fh:
        json.dump(found, fh)
atexit.register(_dump)
sys.addaudithook(_hook)
from pipeline.cli import main
sys.exit(main(sys.argv[1:]))
"""


# Relative cost of checking a document, by capture (Tesseract time) and container.
CAPTURE_COST: dict[str, int] = {
    "digital": 1, "screenshot": 2, "scanned_pdf": 2, "grayscale": 3, "lowres_150": 3,
    "scan": 3, "multipage_pdf": 3, "multipage_tiff": 5, "rotated_90": 6, "rotated_180": 6,
    "rotated_270": 6, "card_on_flatbed": 7, "phone_photo": 7, "print_out": 8,
}
CONTAINER_COST: dict[str, int] = {"pdf": -1, "heic": 3}
SWEEP_SIZE = 25


def _cost(doc: GenDoc) -> tuple[int, str]:
    t = doc.truth
    cost = CAPTURE_COST.get(t["capture"], 8) + CONTAINER_COST.get(t["container"], 0)
    return cost * len(doc.pages), doc.path.name


def _cheap_cover(docs: list[GenDoc], n: int = SWEEP_SIZE) -> list[GenDoc]:
    """Up to ``n`` documents covering every doc type and as many mask styles and containers as
    possible, cheapest first (the session corpus covers phone photos too; those cost seconds)."""
    def keys(d: GenDoc) -> set[str]:
        out = {f"k:{d.truth['container']}"}
        for p in d.pages:
            out |= {f"t:{p['doc_type']}", *(f"m:{m}" for m in p["mask_styles"]),
                    *(f"tm:{p['doc_type']}:{m}" for m in p["mask_styles"])}
        return out

    rest = sorted(docs, key=_cost)
    chosen: list[GenDoc] = []
    seen: set[str] = set()
    while rest and len(chosen) < n:
        best = max(rest, key=lambda d: (len(keys(d) - seen) / (1 + _cost(d)[0]), -_cost(d)[0]))
        if not keys(best) - seen:
            break
        chosen.append(best)
        seen |= keys(best)
        rest.remove(best)
    chosen += rest[: n - len(chosen)]  # fill up with the cheapest left
    return sorted(chosen, key=lambda d: d.path.name)


def _session_docs(corpus: Any) -> list[GenDoc]:
    """The session corpus of tests/conftest.py as GenDocs (file + its truth)."""
    return [GenDoc(corpus.path(name), truth) for name, truth in sorted(corpus.truths.items())]


@dataclass(frozen=True)
class Sweep:
    docs: list[GenDoc]
    outputs: list[tuple[str, str]]  # (where, text) of everything the runs left behind
    writes: list[list[Any]]  # files Python opened for writing, other file operations
    tmp_left: list[str]  # what is left in TMPDIR after the runs
    returncodes: list[int]


def _run_sweep(docs: list[GenDoc], work: Path) -> Sweep:
    tmpdir = work / "tmpdir"
    tmpdir.mkdir()
    env = cli_env(TMPDIR=str(tmpdir), TEMP=str(tmpdir), TMP=str(tmpdir),
                  PYTHONDONTWRITEBYTECODE="1")
    halves = [docs[0::2], docs[1::2]]  # two processes: the machine has two cores
    procs = []
    for n, half in enumerate(halves):
        log = work / f"writes-{n}.json"
        args = ["-v", "-v", "check", "--json", "--as-of", AS_OF, *(str(d.path) for d in half)]
        procs.append((log, subprocess.Popen(
            [CLI[0], "-c", RUNNER, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={**env, "HOKENMASK_TEST_WRITES": str(log)})))
    outputs, writes, codes = [], [], []
    for n, (log, proc) in enumerate(procs):
        out, err = proc.communicate(timeout=CLI_TIMEOUT)
        codes.append(proc.returncode)
        outputs += [(f"stdout[{n}]", out.decode("utf-8", "replace")),
                    (f"stderr[{n}]", err.decode("utf-8", "replace"))]
        writes += json.loads(log.read_text("utf-8")) if log.exists() else [["no log", str(log)]]
    left = sorted(str(p.relative_to(tmpdir)) for p in tmpdir.rglob("*"))
    for p in [*tmpdir.rglob("*"), *(Path(w[1]) for w in writes if w[0] == "open")]:
        if p.is_file():
            outputs.append((str(p), p.read_bytes().decode("utf-8", "replace")))
    return Sweep(docs, outputs, writes, left, codes)


@pytest.fixture(scope="module")
def sweep(corpus: Any, tmp_path_factory: pytest.TempPathFactory) -> Sweep:
    """``corpus``: the session corpus (tests/conftest.py), shared with other tests."""
    return _run_sweep(_cheap_cover(_session_docs(corpus)), tmp_path_factory.mktemp("privacy"))


# --- searching ---------------------------------------------------------------------------------

def _forms(raw: str) -> set[str]:
    base = unicodedata.normalize("NFKC", raw).strip()
    forms = {base, base.replace(" ", ""), base.translate(_FULLWIDTH),
             base.replace(" ", "").translate(_FULLWIDTH)}
    forms |= {json.dumps(f)[1:-1] for f in list(forms)}  # as an ASCII-escaped JSON string
    return {f for f in forms if len(f) >= MIN_LEN}


def _needles(docs: Iterable[GenDoc], select: Any) -> dict[str, str]:
    """needle → a description of where it comes from (never the value itself)."""
    out: dict[str, str] = {}
    for doc in docs:
        for page in doc.pages:
            for name, f in page["fields"].items():
                if not select(name, f):
                    continue
                for raw in (f.get("value"), f.get("printed")):
                    for form in _forms(raw or ""):
                        out.setdefault(form, f"{doc.path.name} p{page['page']} {name}")
    return out


def _pattern(needle: str) -> re.Pattern[str]:
    """Digit-bounded: a 3-digit value inside 0.5034 or 12345 is not a hit."""
    head = r"(?<![0-9０-９.])" if needle[0].isdigit() else ""
    tail = r"(?![0-9０-９])" if needle[-1].isdigit() else ""
    return re.compile(head + re.escape(needle) + tail)


def _hits(sweep: Sweep, needles: dict[str, str]) -> list[str]:
    hits = []
    masks = sorted({str(d.path) for d in sweep.docs} | {str(d.path.parent) for d in sweep.docs},
                   key=len, reverse=True)
    for where, text in sweep.outputs:
        for m in masks:  # our own file names are not leaks
            text = text.replace(m, "<input>")
        dates = [m.span() for m in _ISO_DATE.finditer(text)]
        for needle, origin in needles.items():
            for m in _pattern(needle).finditer(text):
                in_date = any(a <= m.start() and m.end() <= b for a, b in dates)
                if not (in_date and len(needle) <= 4):
                    hits.append(f"{origin} found in {where} at {m.start()}")
                    break
    return hits


# --- the tests -----------------------------------------------------------------------------

def test_the_sweep_covers_every_type_and_restricted_values(sweep: Sweep) -> None:
    types = {p["doc_type"] for d in sweep.docs for p in d.pages}
    assert types == {"oshirase_a4", "oshirase_slip", "mynaportal_pdf", "kakuninsho_card",
                     "hokensho_card", "unknown"}
    styles = {s for d in sweep.docs for p in d.pages for s in p["mask_styles"]}
    assert len(styles) >= 12
    needles = _needles(sweep.docs, lambda n, f: f.get("restricted"))
    assert len(needles) >= 50
    assert any("," in n for n in needles) or not any(
        "qr_code" in origin for origin in needles.values())
    records = [json.loads(line) for where, text in sweep.outputs if where.startswith("stdout")
               for line in text.splitlines()]
    assert len(records) == sum(len(d.pages) for d in sweep.docs)
    assert all(code in (1, 2) for code in sweep.returncodes), sweep.returncodes


def test_no_restricted_value_anywhere_in_the_output(sweep: Sweep) -> None:
    needles = _needles(sweep.docs, lambda n, f: f.get("restricted"))
    assert _hits(sweep, needles) == []


def test_no_masked_personal_detail_anywhere_in_the_output(sweep: Sweep) -> None:
    """The contract goes further: no value of any field the policy masks is ever printed.
    Searched for the long, unambiguous ones (addresses, birth dates)."""
    needles = _needles(sweep.docs, lambda n, f: n in ("address", "birth_date"))
    assert _hits(sweep, needles) == []


def test_check_writes_no_file_and_leaves_tmpdir_empty(sweep: Sweep) -> None:
    assert sweep.tmp_left == []
    assert sweep.writes == []


def test_the_search_finds_what_it_looks_for() -> None:
    """The sweep's own matcher: hits through forms, misses inside other numbers and dates."""
    doc = GenDoc(Path("/in/x.png"), {"pages": [{"page": 1, "fields": {
        "number": {"value": "503", "printed": "５０３", "restricted": True},
        "symbol": {"value": "2019", "printed": "2019", "restricted": True},
        "qr_code": {"value": "06139984,1845,421524,02", "printed": None, "restricted": True},
        "branch": {"value": "00", "printed": "00", "restricted": True},
    }}]})
    needles = _needles([doc], lambda n, f: f["restricted"])
    assert "00" not in needles

    def hits(text: str) -> list[str]:
        return _hits(Sweep([doc], [("out", text)], [], [], []), needles)

    assert hits('{"confidence": 0.503, "bbox": [0.5031, 0.2019]} /in/x.png 2019-04-01') == []
    assert hits("number 503 here")
    assert hits("番号：５０３")
    assert hits('"qr": "06139984,1845,421524,02"')
    assert hits("symbol=2019;")


@pytest.mark.slow
def test_the_whole_session_corpus_leaks_nothing(corpus: Any, tmp_path: Path) -> None:
    """Every document of the session corpus (phone photos, rotations, HEIC, multi-page …)."""
    docs = _session_docs(corpus)
    result = _run_sweep(docs, tmp_path)
    needles = _needles(docs, lambda n, f: f.get("restricted"))
    needles |= _needles(docs, lambda n, f: n in ("address", "birth_date"))
    assert _hits(result, needles) == []
    assert result.tmp_left == [] and result.writes == []
    assert all(code in (1, 2) for code in result.returncodes)
