"""The hostile-input corpus: records a feed might carry, each with the outcome it must get.

Small records live in ``manifest.jsonl`` (one JSON object a line; readable, with invisible
characters written as ``\\uXXXX``). Records too big to commit (10 MB of text, a million
lines, deep nesting) are generated here at test time by :func:`generated`. Every record
has a unique name, and a unique article id where it has a readable one; records without
one (not JSON, undecodable, too large) are matched by topic/partition/offset.

Outcomes: ``enriched``, ``duplicate``, or a dead-letter reason (README: dead-letter reasons).
The expectations hold under the default :class:`~khabar.config.LimitSettings`.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path

MANIFEST = Path(__file__).with_name("manifest.jsonl")

#: An Arabic news sentence, for the generated records.
_AR_SENTENCE = "قصفت القوات الروسية مدينة كييف يوم السبت."


@dataclass(frozen=True)
class HostileRecord:
    """One raw record and what khabar must make of it.

    Attributes:
        name: Unique name (test ids, messages).
        value: The record value exactly as produced to the raw topic.
        expect: ``enriched``, ``duplicate`` or the dead-letter reason.
        article_id: The id a dead letter or output names; ``None`` when the record has no
            readable id (then it is matched by topic/partition/offset).
        language: For enriched records, the language code the article must get.
    """

    name: str
    value: bytes
    expect: str
    article_id: str | None = None
    language: str | None = None

    @property
    def key(self) -> str:
        """A unique Kafka key: the article id, else the record's name."""
        return self.article_id or f"hostile/{self.name}"


def _value(row: dict[str, object]) -> bytes:
    if "json" in row:
        return json.dumps(row["json"], ensure_ascii=False).encode()
    if "text" in row:
        return str(row["text"]).encode("utf-8", "surrogatepass")
    return base64.b64decode(str(row["b64"]))


def from_manifest(path: Path = MANIFEST) -> list[HostileRecord]:
    """The small records, in file order."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [HostileRecord(name=r["name"], value=_value(r), expect=r["expect"], article_id=r.get("id"),
                          language=r.get("language")) for r in rows]


def generated() -> list[HostileRecord]:
    """The big or repetitive records, built in memory (about 13 MB in all, well under a second)."""
    ten_mb = _AR_SENTENCE + " "
    ten_mb = ten_mb * (10 * 1024 * 1024 // len(ten_mb.encode()) + 1)
    million_lines = "\n".join("سطر" for _ in range(1_000_000))
    planes = "".join(chr(plane * 0x10000 + offset) for plane in range(17)
                     for offset in (0x41, 0x3A9, 0x627, 0x4E2D, 0xE000, 0xFFFD, 0xFFFE))
    return [
        HostileRecord("ten_megabytes", json.dumps({"id": "h-10mb", "text": ten_mb}, ensure_ascii=False).encode(),
                      "too_large", None),
        HostileRecord("million_lines", json.dumps({"id": "h-million-lines", "text": million_lines},
                                                  ensure_ascii=False).encode(), "too_large", None),
        HostileRecord("too_many_chars", json.dumps({"id": "h-long-text", "text": "ب " * 60_000},
                                                   ensure_ascii=False).encode(), "too_large", "h-long-text"),
        HostileRecord("too_many_sentences", json.dumps({"id": "h-sentences", "text": "نعم.\n" * 6_000},
                                                       ensure_ascii=False).encode(),
                      "too_many_sentences", "h-sentences"),
        HostileRecord("deep_array", b"[" * 100_000 + b"]" * 100_000, "too_deep", None),
        HostileRecord("deep_object", b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "too_deep", None),
        HostileRecord("huge_numeric_string", json.dumps({"id": "h-digits", "text": "9" * 90_000}).encode(),
                      "enriched", "h-digits", language="und"),
        HostileRecord("every_plane", json.dumps({"id": "h-planes", "text": planes + " " + _AR_SENTENCE},
                                                ensure_ascii=False).encode(), "enriched", "h-planes"),
        HostileRecord("dot_run", json.dumps({"id": "h-dots", "text": "." * 50_000 + "كلمة"},
                                            ensure_ascii=False).encode(), "enriched", "h-dots"),
        HostileRecord("share_line_spaces", json.dumps({"id": "h-share-spaces", "text": "شارك" + " " * 50_000 + "س"},
                                                      ensure_ascii=False).encode(), "enriched", "h-share-spaces"),
        HostileRecord("space_run", json.dumps({"id": "h-spaces", "text": " " * 50_000 + "خبر"},
                                              ensure_ascii=False).encode(), "enriched", "h-spaces"),
        HostileRecord("open_quotation", json.dumps({"id": "h-quote", "text": "«" + "قال! " * 10_000},
                                                   ensure_ascii=False).encode(), "enriched", "h-quote"),
        # thousands of triggers in one sentence: event extraction is quadratic in them, far
        # beyond the 1 s stage budget, while the shared pass takes milliseconds
        HostileRecord("slow_events", json.dumps({"id": "h-slow-events", "text": "قصفت روسيا كييف " * 2_000},
                                                ensure_ascii=False).encode(),
                      "stage_timeout:events", "h-slow-events"),
    ]


def corpus() -> list[HostileRecord]:
    """Every hostile record: the manifest, then the generated ones. Names and keys are unique."""
    records = from_manifest() + generated()
    assert len({r.name for r in records}) == len(records)
    assert len({r.key for r in records}) == len(records)
    return records
