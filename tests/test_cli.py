"""The command line, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from streams.broker import EmbeddedBroker
from tests.support.stack import settings_env, unique_settings

REPO = Path(__file__).resolve().parents[1]


def _khabar(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "streams.cli", *args], capture_output=True, text=True,
                          cwd=REPO, env={"PATH": "/usr/bin:/bin", **(env or {})}, timeout=120)


def test_replay_of_unreadable_input_exits_nonzero_with_a_clear_message(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "ok", "text": "نص"}\n{"id": 3}\n', encoding="utf-8")
    env = {"KHABAR_BROKER_URL": "kafka://127.0.0.1:9"}
    missing = _khabar("replay", str(tmp_path / "nope.txt"), env=env)
    assert missing.returncode == 1 and "no such file" in missing.stderr
    invalid = _khabar("replay", str(bad), env=env)
    assert invalid.returncode == 1 and "bad.jsonl:2" in invalid.stderr
    unknown = tmp_path / "x.csv"
    unknown.write_text("a,b\n")
    assert "unknown input kind" in _khabar("replay", str(unknown), env=env).stderr


def test_replay_sends_seeds_with_loop_and_limit(broker: EmbeddedBroker, tmp_path: Path) -> None:
    settings = unique_settings(broker.url, tmp_path)
    env = settings_env(settings)
    created = _khabar("topics", "create", env=env)
    assert created.returncode == 0, created.stderr
    assert settings.topics.raw in created.stdout
    out = _khabar("replay", str(REPO / "seeds"), "--loop", "2", "--limit", "7", "--rate", "50", env=env)
    assert out.returncode == 0, out.stderr
    assert "sent 7 records" in out.stderr


def test_enrich_reads_files_too(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "e1", "text": (REPO / "seeds" / "002_448e57885aed3373.txt").read_text()})
                   + "\n", encoding="utf-8")
    out = _khabar("enrich", str(src))
    assert out.returncode == 0, out.stderr
    (record,) = [json.loads(line) for line in out.stdout.splitlines()]
    assert record["kind"] == "enriched" and record["id"] == "e1"


def test_senses_train_writes_models_check_writes_none_and_bad_labels_exit_1(tmp_path: Path) -> None:
    from tests.test_senses import _labeled

    labels = tmp_path / "labels.jsonl"
    labels.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in _labeled()),
                      encoding="utf-8")
    out = tmp_path / "senses.json"
    trained = _khabar("senses", "train", str(labels), "--out", str(out))
    assert trained.returncode == 0, trained.stderr
    assert "talib" in trained.stdout and json.loads(out.read_text(encoding="utf-8"))["families"]["talib"]
    checked = _khabar("senses", "check", str(labels), "--min-precision", "0.9")
    assert checked.returncode == 0 and "talib" in checked.stdout and "written" not in checked.stdout
    labels.write_text('{"family": "talib", "text": "x", "start": 0, "end": 1, "label": "YES"}\n',
                      encoding="utf-8")
    bad = _khabar("senses", "check", str(labels))
    assert bad.returncode == 1 and "labels.jsonl:1" in bad.stderr
