"""Export the JSON Schema of every record model to ``schemas/json/``."""

from __future__ import annotations

import json
from pathlib import Path

from schemas.models import EXPORTED_MODELS

JSON_DIR = Path(__file__).parent / "json"


def render() -> dict[str, str]:
    """The JSON Schema documents, by file name, as the exporter would write them."""
    return {
        f"{stem}.schema.json": json.dumps(model.model_json_schema(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        for stem, model in EXPORTED_MODELS.items()
    }


def export(directory: Path = JSON_DIR) -> list[Path]:
    """Write the schemas; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def stale(directory: Path = JSON_DIR) -> list[str]:
    """Names of exported files that differ from the models (empty when up to date)."""
    out = []
    for name, text in render().items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            out.append(name)
    return out


if __name__ == "__main__":
    for p in export():
        print(p)
