"""The ``khabar`` command line."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console

from khabar.config import Settings
from khabar.errors import KhabarError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="khabar: streaming ingestion for Arabic news.")
topics_app = typer.Typer(no_args_is_help=True, help="Create and inspect topics.")
eval_app = typer.Typer(no_args_is_help=True, help="Measure quality against labeled sets.")
schemas_app = typer.Typer(no_args_is_help=True, help="JSON Schema of the records.")
senses_app = typer.Typer(no_args_is_help=True,
                         help="Sense models of ambiguous trigger words: sample contexts, train, check.")
app.add_typer(topics_app, name="topics")
app.add_typer(eval_app, name="eval")
app.add_typer(schemas_app, name="schemas")
app.add_typer(senses_app, name="senses")

err = Console(stderr=True)
REPO = Path(__file__).resolve().parents[1]


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with CLI overrides; exits 2 with the reason when invalid."""
    try:
        settings = Settings()
        return settings.model_copy(update=overrides) if overrides else settings
    except ValidationError as exc:
        err.print("[red]invalid settings[/red]")
        for e in exc.errors():
            err.print(f"  KHABAR_{'__'.join(str(p) for p in e['loc']).upper()}: {e['msg']}")
        raise typer.Exit(2) from None


def _configure_logs(settings: Settings) -> None:
    from khabar.logs import configure

    configure(settings.log_level, settings.log_json)


def _fail(exc: Exception) -> typer.Exit:
    err.print(f"[red]error:[/red] {exc}")
    return typer.Exit(1)


@app.command()
def broker(port: Annotated[int, typer.Option(help="Port; 0 picks a free one")] = 0) -> None:
    """Run the embedded Tansu broker in the foreground until Ctrl-C."""
    from streams.broker import EmbeddedBroker

    settings = load_settings()
    try:
        b = EmbeddedBroker(settings.tansu_bin, port=port or None).start()
    except KhabarError as exc:
        raise _fail(exc) from None
    print(f"Tansu listening: KHABAR_BROKER_URL={b.url}", flush=True)
    try:
        while b.running:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        b.stop()


@topics_app.command("create")
def topics_create() -> None:
    """Create every topic with the configured partitions (idempotent)."""
    from streams.topics import create_topics, topic_specs

    settings = load_settings()
    if not settings.broker_url:
        raise _fail(KhabarError("KHABAR_BROKER_URL is not set"))
    try:
        created = asyncio.run(create_topics(settings.broker_url, topic_specs(settings), settings.replication_factor,
                                            security=settings.kafka))
    except KhabarError as exc:
        raise _fail(exc) from None
    for spec in topic_specs(settings):
        print(f"{spec.name}\t{spec.partitions}\t{'created' if spec.name in created else 'exists'}")


@app.command()
def worker() -> None:
    """Run a Faust worker (needs KHABAR_BROKER_URL)."""
    from streams.worker import run_worker

    settings = load_settings()
    if not settings.broker_url:
        raise _fail(KhabarError("KHABAR_BROKER_URL is not set: start `khabar broker` or point it at Kafka"))
    _configure_logs(settings)
    run_worker(settings)


@app.command()
def replay(
    paths: Annotated[list[Path], typer.Argument(help=".txt seeds, .jsonl RawArticle lines, SaudiNewsNet .zip, or directories")],
    rate: Annotated[float | None, typer.Option(help="Messages per second at most")] = None,
    loop: Annotated[int, typer.Option(min=1, help="Send the input N times (pass n>1 ids get '#r<n>')")] = 1,
    limit: Annotated[int | None, typer.Option(min=1, help="Stop after N records")] = None,
    raw: Annotated[bool, typer.Option(help="Send each line of the files verbatim (to exercise the dead-letter path)")] = False,
) -> None:
    """Produce articles to the raw topic."""
    from rich.progress import Progress

    from khabar.corpus import iter_sources
    from streams.replay import produce, replay_records

    settings = load_settings()
    if not settings.broker_url:
        raise _fail(KhabarError("KHABAR_BROKER_URL is not set"))
    try:
        if raw:
            records: list[tuple[str | None, bytes]] = []
            for p in paths:
                records.extend((None, line) for line in p.read_bytes().splitlines() if line.strip())
        else:
            articles = list(iter_sources(paths))
            records = list(replay_records(articles, loops=loop, limit=limit))
    except (KhabarError, OSError) as exc:
        raise _fail(exc) from None
    with Progress(console=err, transient=False) as progress:
        task = progress.add_task("replaying", total=len(records))
        try:
            sent = asyncio.run(produce(settings.broker_url, settings.topics.raw, records, rate=rate,
                                       on_sent=lambda: progress.advance(task), security=settings.kafka,
                                       linger_ms=settings.producer_linger_ms))
        except KhabarError as exc:
            raise _fail(exc) from None
    err.print(f"sent {sent} records to {settings.topics.raw}")


@app.command()
def up(
    once: Annotated[bool, typer.Option(help="Exit 0 once every replayed article is accounted for")] = False,
    seeds: Annotated[list[Path] | None, typer.Option(help="What to replay (default: seeds/)")] = None,
    loop: Annotated[int, typer.Option(min=1, help="Replay passes (the second pass is all copies)")] = 2,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the outputs")] = 180.0,
) -> None:
    """Broker, topics, worker, seed replay, summary, metrics: the whole job."""
    from streams.up import run_up

    settings = load_settings()
    try:
        code = run_up(settings, seeds or [REPO / "seeds"], loops=loop, once=once, timeout=timeout)
    except (KhabarError, TimeoutError) as exc:
        raise _fail(exc) from None
    raise typer.Exit(code)


@app.command()
def enrich(
    files: Annotated[list[Path] | None, typer.Argument(help="RawArticle JSON Lines; none or '-' reads stdin")] = None,
) -> None:
    """Offline mode: one JSON line out per line in, in order (kind: enriched | duplicate | deadletter)."""
    from khabar.process import OfflineEnricher

    settings = load_settings()
    enricher = OfflineEnricher(settings)
    sources = files or [Path("-")]
    out = sys.stdout
    for path in sources:
        try:
            handle = sys.stdin.buffer if str(path) == "-" else path.open("rb")
        except OSError as exc:
            raise _fail(exc) from None
        with handle:
            for line in handle:
                if not line.strip():
                    continue
                record = enricher.process(line.rstrip(b"\r\n"))
                out.write(record.model_dump_json() + "\n")
        out.flush()


@app.command()
def top(
    url: Annotated[str, typer.Option(help="A worker's /metrics URL")] = "http://127.0.0.1:6066/metrics",
    interval: float = 2.0,
    once: Annotated[bool, typer.Option(help="One frame, then exit")] = False,
) -> None:
    """Live terminal view of a worker's metrics."""
    from streams.top import run_top

    raise typer.Exit(run_top(url, interval=interval, once=once))


@app.command()
def snapshot(
    prometheus: Annotated[str, typer.Option(help="Prometheus base URL")] = "http://127.0.0.1:9090",
    out: Annotated[Path, typer.Option(help="PNG to write")] = Path("docs/dashboard.png"),
    minutes: Annotated[float, typer.Option(help="Time range to draw")] = 15.0,
) -> None:
    """Draw the dashboard's main figures from Prometheus into a PNG (for places without Grafana)."""
    from streams.snapshot import render_snapshot

    print(render_snapshot(prometheus, out, minutes))


@app.command()
def bench(
    what: Annotated[str, typer.Argument(
        help="all, or one stage (normalize | dedup | language | events | serialize) for its CPU only")] = "all",
    corpus: Annotated[Path | None, typer.Option(
        help="SaudiNewsNet folder of zips, or JSON Lines (default: the shared SaudiNewsNet, else seeds/ replicated)")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Articles to use")] = 3000,
    workers: Annotated[int, typer.Option(min=1, help="Workers of the scaled end-to-end run")] = 2,
    rate: Annotated[float, typer.Option(min=1, help="Offered articles/s of the latency run")] = 200.0,
    only: Annotated[str | None, typer.Option(
        help="Comma-separated parts: stages,ceilings,e2e,latency,memory (default: all)")] = None,
    window_articles: Annotated[int, typer.Option(
        min=1, help="Articles in the simulated dedup window (7 days x 100,000 by default)")] = 700_000,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the report as JSON here")] = None,
) -> None:
    """Throughput, latency, CPU per stage and memory, against the broker's and Faust's ceilings.

    Uses the embedded broker unless KHABAR_BROKER_URL is set.
    """
    if what != "all":
        from khabar.bench import run_bench

        try:
            raise typer.Exit(run_bench(what, limit=limit, corpus=corpus))
        except (KhabarError, ValueError) as exc:
            raise _fail(exc) from None
    import json

    from streams.bench.run import PARTS, BenchOptions, run_all

    parts = frozenset(p.strip() for p in only.split(",") if p.strip()) if only else frozenset(PARTS)
    opts = BenchOptions(corpus=corpus, limit=limit, workers=workers, rate=rate, only=parts,
                        window_articles=window_articles)
    try:
        report = run_all(opts)
    except KhabarError as exc:
        raise _fail(exc) from None
    if json_out is not None:
        json_out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        err.print(f"report written to {json_out}")


@app.command()
def soak(
    paths: Annotated[list[Path] | None, typer.Argument(help="What to replay (default: the whole SaudiNewsNet corpus)")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Replay only the first N articles")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes")] = 2,
    partitions: Annotated[int, typer.Option(min=1, help="Partitions of the keyed topics")] = 4,
    sample_seconds: Annotated[float, typer.Option(min=0.2, help="Seconds between memory samples")] = 2.0,
    max_growth_mb: Annotated[float, typer.Option(help="RSS growth allowed after the dedup window filled")] = 150.0,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for every article")] = 3600.0,
    out: Annotated[Path, typer.Option(help="Directory for soak.csv, soak.png, summary.json and logs")] = Path(
        ".khabar/soak"),
) -> None:
    """Replay at full speed to N workers on an embedded broker; check memory, error logs and ids (exit 1 on failure)."""
    import json
    import logging

    from khabar.corpus import iter_corpus, iter_sources
    from streams.replay import replay_records
    from streams.soak import run_soak

    settings = load_settings()
    _configure_logs(settings)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per metrics sample otherwise
    try:
        articles = list(iter_sources(paths)) if paths else list(iter_corpus(limit=limit))
    except (KhabarError, OSError) as exc:
        raise _fail(exc) from None
    records = list(replay_records(articles, limit=limit))
    result = run_soak(settings, records, out, workers=workers, partitions=partitions,
                      sample_seconds=sample_seconds, timeout=timeout, max_growth_mb=max_growth_mb)
    print(json.dumps(result.__dict__, indent=2))
    err.print(f"[{'green' if result.ok else 'red'}]soak {'passed' if result.ok else 'failed'}[/]: "
              f"{result.accounted}/{result.sent} ids accounted for in {result.seconds:.0f}s; "
              f"plot {out / 'soak.png'}" + ("" if result.ok else f"; {'; '.join(result.reasons)}"))
    raise typer.Exit(0 if result.ok else 1)


@eval_app.command("events")
def eval_events(gold: Path, split: Annotated[str | None, typer.Option(help="dev | test")] = None,
                errors: Annotated[bool, typer.Option(
                    help="Also list every missed and spurious event and actor mismatch")] = False,
                against: Annotated[Path | None, typer.Option(
                    help="A second annotation of the same texts, scored instead of the extractor "
                         "(inter-annotator agreement)")] = None,
                causes: Annotated[bool, typer.Option(
                    help="Also count the missed gold events by cause (no trigger word, filtered, "
                         "other type): counts only, safe on held-out sets")] = False,
                confidence: Annotated[bool, typer.Option(
                    help="Also print the precision of the predicted events by confidence, and the "
                         "expected calibration error: counts only, safe on held-out sets")] = False) -> None:
    """Precision, recall and F1 of event extraction against a gold set."""
    from khabar.eval.events import main

    raise typer.Exit(main(gold, split=split, errors=errors, against=against, causes=causes,
                          confidence=confidence))


@eval_app.command("language")
def eval_language(labeled: Path) -> None:
    """Accuracy of language and variety identification against a labeled set."""
    from khabar.eval.language import main

    raise typer.Exit(main(labeled))


@eval_app.command("dedup")
def eval_dedup(
    corpus: Annotated[Path | None, typer.Option(help="SaudiNewsNet directory")] = None,
    threshold: float | None = None,
    limit: int | None = None,
) -> None:
    """Dedup recall and precision against exact Jaccard on the corpus."""
    from khabar.eval.dedup import main

    raise typer.Exit(main(corpus, threshold=threshold, limit=limit))


SENSES_JSON = REPO / "khabar" / "events" / "data" / "senses.json"


@senses_app.command("sample")
def senses_sample(
    out: Path,
    corpus: Annotated[Path | None, typer.Option(help="SaudiNewsNet directory")] = None,
    per_family: Annotated[int, typer.Option(help="contexts per family")] = 220,
    seed: int = 13,
) -> None:
    """Draw unlabeled contexts of the sense-classified words from the corpus (gold articles excluded)."""
    from khabar.eval.senses import main_sample

    try:
        raise typer.Exit(main_sample(out, corpus, per_family, seed, REPO / "eval" / "events"))
    except KhabarError as exc:
        raise _fail(exc) from None


#: Options ``senses train`` and ``senses check`` share.
_SenseC = Annotated[float, typer.Option("--c", help="inverse L2 regularization strength")]
_MinPrecision = Annotated[float, typer.Option(help="cross-validated precision a threshold must reach")]
_SenseGold = Annotated[list[Path] | None, typer.Option(
    help="a development gold set whose contexts the models are also scored on (repeatable)")]


def _train_senses(labels: list[Path], out: Path | None, c: float, min_precision: float,
                  gold: list[Path] | None) -> None:
    from khabar.eval.senses import main_train

    try:
        raise typer.Exit(main_train(labels, out, c, min_precision, gold or ()))
    except KhabarError as exc:
        raise _fail(exc) from None


@senses_app.command("train")
def senses_train(
    labels: list[Path],
    out: Annotated[Path, typer.Option(help="where to write the models")] = SENSES_JSON,
    c: _SenseC = 1.0, min_precision: _MinPrecision = 0.7, gold: _SenseGold = None,
) -> None:
    """Fit one model per family on labeled contexts; print cross-validated figures; write the models."""
    _train_senses(labels, out, c, min_precision, gold)


@senses_app.command("check")
def senses_check(labels: list[Path], c: _SenseC = 1.0, min_precision: _MinPrecision = 0.7,
                 gold: _SenseGold = None) -> None:
    """Cross-validated precision, recall and F1 per family, without writing anything."""
    _train_senses(labels, None, c, min_precision, gold)


@schemas_app.command("export")
def schemas_export() -> None:
    """Write the JSON Schema files under schemas/json/."""
    from schemas.export import export

    for p in export():
        print(p)


@schemas_app.command("check")
def schemas_check() -> None:
    """Exit 1 when the exported JSON Schema files are stale."""
    from schemas.export import stale

    names = stale()
    if names:
        err.print(f"stale: {', '.join(names)} (run `khabar schemas export`)")
        raise typer.Exit(1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
