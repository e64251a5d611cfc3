"""Layout knowledge as data: per doc type title cues and carried fields; per field label variants.

Loaded once from ``layouts/*.toml`` and validated, so a typo in the data fails at start-up.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pipeline.vocab import DOC_TYPES, FIELD_NAMES

LAYOUT_DIR = Path(__file__).with_name("layouts")
VALUE_KINDS = frozenset({"digits", "date", "name", "kana", "text", "choice", "code"})


@dataclass(frozen=True)
class Cue:
    text: str
    weight: float


@dataclass(frozen=True)
class FieldSpec:
    name: str
    labels: tuple[str, ...]
    kind: str
    suffix_labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class DocLayout:
    doc_type: str
    aspect: tuple[float, float]
    size: str
    fields: tuple[str, ...]
    cues: tuple[Cue, ...]
    form_qr: bool = False
    personal_qr: bool = False


@cache
def field_specs() -> dict[str, FieldSpec]:
    data = tomllib.loads((LAYOUT_DIR / "fields.toml").read_text("utf-8"))
    specs: dict[str, FieldSpec] = {}
    for name, spec in data["fields"].items():
        if name not in FIELD_NAMES:
            raise ValueError(f"fields.toml: unknown field {name!r}")
        if spec["kind"] not in VALUE_KINDS:
            raise ValueError(f"fields.toml: {name}: unknown kind {spec['kind']!r}")
        specs[name] = FieldSpec(name, tuple(spec["labels"]), spec["kind"],
                                tuple(spec.get("suffix_labels", ())))
    return specs


@cache
def doc_layouts() -> dict[str, DocLayout]:
    layouts: dict[str, DocLayout] = {}
    specs = field_specs()
    for doc_type in DOC_TYPES:
        data = tomllib.loads((LAYOUT_DIR / f"{doc_type}.toml").read_text("utf-8"))
        if data["doc_type"] != doc_type:
            raise ValueError(f"{doc_type}.toml names {data['doc_type']!r}")
        fields = tuple(data["fields"])
        unknown = [f for f in fields if f not in specs and f != "qr_code"]
        if unknown:
            raise ValueError(f"{doc_type}.toml: fields without label data: {unknown}")
        lo, hi = data["aspect"]
        layouts[doc_type] = DocLayout(
            doc_type=doc_type, aspect=(float(lo), float(hi)), size=data["size"], fields=fields,
            cues=tuple(Cue(c["text"], float(c["weight"])) for c in data.get("cues", [])),
            form_qr=bool(data.get("form_qr", False)),
            personal_qr=bool(data.get("personal_qr", False)),
        )
    return layouts
