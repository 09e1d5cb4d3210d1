"""Settings: one class, KHABAR_ prefix, fail fast."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from khabar.config import Settings

REPO = Path(__file__).resolve().parents[1]


def test_reads_nested_values_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KHABAR_BROKER_URL", "kafka://k1:9092;kafka://k2:9092")
    monkeypatch.setenv("KHABAR_DEDUP__THRESHOLD", "0.8")
    monkeypatch.setenv("KHABAR_TOPICS__RAW", "feeds.raw")
    monkeypatch.setenv("KHABAR_PIPELINE", '["language"]')
    monkeypatch.setenv("KHABAR_BROKER_PASSWORD", "s3cret")
    s = Settings()
    assert s.dedup.threshold == 0.8 and s.topics.raw == "feeds.raw" and s.pipeline == ["language"]
    assert s.broker_password is not None and s.broker_password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(s) and "s3cret" not in s.model_dump_json()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("KHABAR_PARTITIONS", "0"),
        ("KHABAR_BROKER_URL", "localhost:9092"),
        ("KHABAR_DEDUP__THRESHOLD", "1.5"),
        ("KHABAR_PIPELINE", '["language", "sentiment"]'),
        ("KHABAR_STORE", "redis://x"),
        ("KHABAR_DEDUP__STORY_THRESHOLD", "0.9"),
        ("KHABAR_NOT_A_SETTING", "1"),
    ],
)
def test_bad_values_fail_fast(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()


def test_the_cli_names_the_bad_variable_and_exits_2() -> None:
    env = {"KHABAR_PARTITIONS": "-3", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-m", "streams.cli", "topics", "create"], capture_output=True,
                         text=True, cwd=REPO, env=env)
    assert out.returncode == 2
    assert "KHABAR_PARTITIONS" in out.stderr


def test_fingerprint_changes_with_verdict_settings_only() -> None:
    base = Settings()
    assert base.fingerprint() == Settings(web_port=7000).fingerprint()
    assert base.fingerprint() != Settings(dedup={"threshold": 0.8}).fingerprint()  # type: ignore[arg-type]
