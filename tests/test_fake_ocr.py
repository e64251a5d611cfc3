"""The fake OCR engines (tests/fakeocr.py), and the error path they open: an OCR crash on one
file is an ``internal_error`` record for that file, and the run goes on with the others."""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path

import numpy as np
import pymupdf
import pytest
from PIL import Image

from pipeline import cli
from pipeline import ocr as ocr_module
from pipeline.policy import load_policy
from pipeline.run import Context, check_document
from tests.cli_support import JAPANESE, error_record_problems, generate_docs, plan_item
from tests.fakeocr import CRASH_MARKER, CrashingOcrEngine, FakeOcrEngine, engines_satisfy_protocol

AS_OF = date(2026, 12, 3)


def _ctx(engine: object) -> Context:
    return Context(policy=load_policy(), as_of=AS_OF, engine=engine)  # type: ignore[arg-type]


def _picture(path: Path, size: tuple[int, int] = (480, 300)) -> Path:
    img = Image.new("RGB", size, "white")
    img.paste((30, 30, 30), (40, 40, 200, 90))
    img.save(path)
    return path


def _text_pdf(path: Path) -> Path:
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "Minutes of the site safety meeting")
    doc.save(path)
    doc.close()
    return path


# --- the fakes themselves ---------------------------------------------------------------------

def test_both_engines_have_the_protocol_shape() -> None:
    assert engines_satisfy_protocol([FakeOcrEngine(), CrashingOcrEngine()])


def test_fake_lines_are_scaled_to_the_image_they_read() -> None:
    engine = FakeOcrEngine([("氏名 田中 一郎", (0.1, 0.2, 0.5, 0.3)), ("  ", (0, 0, 1, 1))])
    (line,) = engine.lines(np.zeros((200, 400), np.uint8), psm=6)
    assert line.text == "氏名 田中 一郎"
    assert len(line.boxes) == len(line.text) == len(line.confs)
    assert line.bbox == (40, 40, 200, 60)
    xs = [b[0] for b in line.boxes]
    assert xs == sorted(xs)
    assert engine.calls == [((200, 400), 6)]
    (again,) = engine.lines(np.zeros((100, 200), np.uint8))
    assert again.bbox == (20, 20, 100, 30)


def test_fake_lines_from_truth_are_the_readable_copies_only() -> None:
    truth_page = {"fields": {
        "name": {"printed": "田中 一郎", "value": "田中 一郎", "copies": [
            {"bbox": [0.1, 0.1, 0.4, 0.15], "state": "visible", "mask": None}]},
        "number": {"printed": "12345", "value": "12345", "copies": [
            {"bbox": [0.1, 0.2, 0.3, 0.25], "state": "masked", "mask": "black_box"}]},
        "address": {"printed": "", "value": "", "copies": []},
    }}
    lines = FakeOcrEngine.from_truth(truth_page).lines(np.zeros((100, 100), np.uint8))
    assert [ln.text for ln in lines] == ["田中 一郎"]


def test_the_crashing_engine_crashes_then_hands_over() -> None:
    gray = np.zeros((10, 10), np.uint8)
    engine = CrashingOcrEngine(crashes=1, then=FakeOcrEngine([("x", (0, 0, 1, 1))]))
    with pytest.raises(RuntimeError):
        engine.lines(gray)
    assert [ln.text for ln in engine.lines(gray)] == ["x"]
    assert engine.orientation(gray) == (0, 15.0)
    with pytest.raises(RuntimeError):
        CrashingOcrEngine().orientation(gray)


# --- an OCR crash is an internal_error for that file, and only that file ----------------------

def test_an_ocr_crash_gives_an_internal_error_document(tmp_path: Path) -> None:
    engine = CrashingOcrEngine()
    doc = check_document(_picture(tmp_path / "scan.png"), _ctx(engine))
    assert engine.crashed >= 1
    assert doc.pages == ()
    assert doc.error is not None
    assert doc.error.code == "internal_error"
    assert JAPANESE.search(doc.error.message)
    assert CRASH_MARKER not in doc.error.message


def test_a_born_digital_pdf_needs_no_ocr(tmp_path: Path) -> None:
    """The crash really is the engine's: a page with a text layer never calls it."""
    engine = CrashingOcrEngine()
    doc = check_document(_text_pdf(tmp_path / "minutes.pdf"), _ctx(engine))
    assert doc.error is None and len(doc.pages) == 1
    assert engine.crashed == 0


def test_a_crash_on_one_file_does_not_stop_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    engine = CrashingOcrEngine(crashes=1, then=FakeOcrEngine())
    monkeypatch.setattr(ocr_module, "_ENGINE", engine)  # what Context.ocr falls back to
    first = _picture(tmp_path / "a_scan.png")
    empty = tmp_path / "b_empty.png"
    empty.write_bytes(b"")
    pdf = _text_pdf(tmp_path / "c_minutes.pdf")
    last = _picture(tmp_path / "d_scan.png", (500, 320))
    status = cli.main(["check", "--json", "--as-of", AS_OF.isoformat(),
                       str(first), str(empty), str(pdf), str(last)])
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert status == 2
    assert engine.crashed == 1
    assert [r["source"] for r in records] == [str(first), str(empty), str(pdf), str(last)]
    assert records[0]["error"]["code"] == "internal_error"
    assert error_record_problems(records[0]) == []
    assert records[1]["error"]["code"] == "empty_file"
    assert "error" not in records[2] and "error" not in records[3]
    assert records[3]["verdict"] == "reject"  # nothing readable: unknown, never clean


def test_a_crash_leaves_no_trace_of_what_it_read(tmp_path: Path,
                                                 caplog: pytest.LogCaptureFixture,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    check_document(_picture(tmp_path / "scan.png"), _ctx(CrashingOcrEngine()))
    out, err = capsys.readouterr()
    logged = caplog.text + "".join(
        r.getMessage() + (logging.Formatter().formatException(r.exc_info) if r.exc_info else "")
        for r in caplog.records)
    assert CRASH_MARKER not in out + err + logged
    assert "Traceback" not in err + logged


# --- the fake engine drives the real pipeline ---------------------------------------------------

@pytest.fixture(scope="module")
def rendered_docs(tmp_path_factory: pytest.TempPathFactory,
                  ) -> list[tuple[Path, str, FakeOcrEngine]]:
    """Born-digital documents rendered to PNG, each with a fake engine reading its text layer."""
    out = tmp_path_factory.mktemp("fake-ocr")
    items = [plan_item(0, "kakuninsho_card", "digital", "none", "pdf"),
             plan_item(1, "oshirase_slip", "digital", "none", "pdf"),
             plan_item(2, "mynaportal_pdf", "digital", "none", "pdf")]
    result = []
    for doc in generate_docs(out, 31, items, workers=1):
        with pymupdf.open(doc.path) as pdf:
            page = pdf[0]
            png = doc.path.with_suffix(".png")
            page.get_pixmap(dpi=150).save(png)
            result.append((png, doc.pages[0]["doc_type"], FakeOcrEngine.from_pdf_page(page)))
    return result


def test_the_fake_engine_lets_the_pipeline_classify_without_tesseract(rendered_docs) -> None:
    got = []
    for png, _, engine in rendered_docs:
        doc = check_document(png, _ctx(engine))
        assert doc.error is None, doc.error
        got.append(doc.pages[0].doc_type)
        assert engine.calls, "the fake engine was never asked"
    assert got == [want for _, want, _ in rendered_docs]
