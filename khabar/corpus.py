"""Readers for article sources: seed ``.txt`` files, JSON Lines, SaudiNewsNet zips.

All yield :class:`~schemas.models.RawArticle` with deterministic ids, so the
same input always produces the same keys downstream.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from khabar.errors import ReplaySourceError
from schemas.models import RawArticle

#: Where the SaudiNewsNet zips live: ``$SAUDINEWSNET_DIR``, else ``shared/`` beside the checkout.
DEFAULT_CORPUS = Path(
    os.environ.get("SAUDINEWSNET_DIR")
    or Path(__file__).resolve().parents[2] / "shared" / "corpora" / "saudinewsnet"
)


def read_seed(path: Path) -> RawArticle:
    """A seed article: the file name (without extension) is the id, the content the text."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReplaySourceError(f"cannot read seed {path}: {exc}") from exc
    return RawArticle(id=path.stem, text=text, source="seed")


def read_jsonl(path: Path) -> Iterator[RawArticle]:
    """``RawArticle`` objects, one JSON object a line. Blank lines are skipped."""
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise ReplaySourceError(f"cannot open {path}: {exc}") from exc
    with handle:
        for lineno, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                yield RawArticle.model_validate_json(line)
            except ValidationError as exc:
                raise ReplaySourceError(f"{path}:{lineno}: not a RawArticle: {exc.errors()[0]['msg']}") from exc


def read_saudinewsnet_zip(path: Path) -> Iterator[RawArticle]:
    """Articles of one SaudiNewsNet zip (``YYYY-MM-DD.zip`` holding ``YYYY-MM-DD.json``).

    Ids are ``snn-<date>-<position>``: unique and stable even where the corpus
    holds the same page twice.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            name = next(n for n in zf.namelist() if n.endswith(".json"))
            records = json.loads(zf.read(name))
    except (OSError, zipfile.BadZipFile, StopIteration, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ReplaySourceError(f"cannot read SaudiNewsNet zip {path}: {exc}") from exc
    stem = path.stem
    for i, rec in enumerate(records):
        published = None
        if rec.get("date_extracted"):
            try:
                published = datetime.fromisoformat(rec["date_extracted"])
            except ValueError:
                published = None
        yield RawArticle(
            id=f"snn-{stem}-{i:04d}",
            text=rec.get("content") or "",
            title=rec.get("title") or None,
            source=rec.get("source") or None,
            url=rec.get("url") or None,
            published_at=published,
        )


def iter_corpus(directory: Path = DEFAULT_CORPUS, limit: int | None = None) -> Iterator[RawArticle]:
    """Every SaudiNewsNet article in date order (31,030 in the shared copy).

    Raises:
        ReplaySourceError: The directory holds no zips.
    """
    n = 0
    zips = sorted(directory.glob("*.zip"))
    if not zips:
        raise ReplaySourceError(f"no SaudiNewsNet zips in {directory} (set SAUDINEWSNET_DIR)")
    for zpath in zips:
        for article in read_saudinewsnet_zip(zpath):
            if limit is not None and n >= limit:
                return
            n += 1
            yield article


def iter_sources(paths: Iterable[Path]) -> Iterator[RawArticle]:
    """Articles from files or directories: ``*.txt`` seeds, ``*.jsonl``/``*.json`` lines, ``*.zip``.

    Raises:
        ReplaySourceError: A path is missing, unreadable or of an unknown kind.
    """
    for path in paths:
        if path.is_dir():
            children = sorted(p for p in path.iterdir() if p.suffix in {".txt", ".jsonl", ".zip"})
            if not children:
                raise ReplaySourceError(f"{path}: no .txt, .jsonl or .zip files in this directory")
            yield from iter_sources(children)
        elif not path.exists():
            raise ReplaySourceError(f"{path}: no such file")
        elif path.suffix == ".txt":
            yield read_seed(path)
        elif path.suffix in {".jsonl", ".json", ".ndjson"}:
            yield from read_jsonl(path)
        elif path.suffix == ".zip":
            yield from read_saudinewsnet_zip(path)
        else:
            raise ReplaySourceError(f"{path}: unknown input kind (expected .txt, .jsonl or .zip)")
