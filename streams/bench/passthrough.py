"""The Faust ceiling: a minimal Faust app whose one agent forwards each message unchanged.

Same Faust version and the same tuning as :mod:`streams.app` (batch size, linger,
stream buffer, poll size, commit cadence, rebalance timeout), no khabar code in
the loop: what it forwards per second is the most a Faust agent can do on this
broker and machine. Run as a child process::

    python -m streams.bench.passthrough --broker kafka://127.0.0.1:9092 \\
        --app-id bench-x --source in --sink out --web-port 6067 --data-dir /tmp/x \\
        --event-loop uvloop

The event loop is the worker's (``--event-loop``, default ``KHABAR_EVENT_LOOP`` or uvloop),
made the same way (:func:`streams.worker.install_event_loop`), so the ratio compares agents
on the same loop.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

import faust


def create_passthrough(broker_url: str, app_id: str, source: str, sink: str, partitions: int,
                       web_port: int, data_dir: Path) -> faust.App:
    """The passthrough app (no connection is made until a worker runs it)."""
    app = faust.App(
        app_id, broker=broker_url, datadir=str(data_dir), web_host="127.0.0.1", web_port=web_port,
        web_bind="127.0.0.1", topic_partitions=partitions, topic_allow_declare=False,
        broker_rebalance_timeout=3.0, broker_session_timeout=10.0, broker_heartbeat_interval=3.0,
        # the tuning of streams.app, so the ceiling is the one khabar's agents run under
        producer_max_batch_size=262_144, producer_linger=0.01, stream_buffer_maxsize=16_384,
        broker_max_poll_records=2_000, broker_commit_every=5_000, broker_commit_interval=1.0,
        consumer_auto_offset_reset="earliest",
    )
    src = app.topic(source, partitions=partitions, key_type=bytes, value_type=bytes,
                    key_serializer="raw", value_serializer="raw")
    dst = app.topic(sink, partitions=partitions, key_type=bytes, value_type=bytes,
                    key_serializer="raw", value_serializer="raw")

    @app.agent(src, name="bench.passthrough")
    async def forward(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            await dst.send(key=event.key, value=event.value)

    return app


def main(argv: Sequence[str] | None = None) -> None:
    """Run the passthrough worker until SIGTERM."""
    from faust.worker import Worker

    from streams.worker import install_event_loop, report_running_loop

    ap = argparse.ArgumentParser(description="Faust passthrough worker (the Faust ceiling)")
    ap.add_argument("--broker", required=True)
    ap.add_argument("--app-id", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--sink", required=True)
    ap.add_argument("--partitions", type=int, default=4)
    ap.add_argument("--web-port", type=int, required=True)
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--event-loop", choices=("uvloop", "asyncio"),
                    default=os.environ.get("KHABAR_EVENT_LOOP", "uvloop"),
                    help="the worker's event loop (default: KHABAR_EVENT_LOOP, else uvloop)")
    args = ap.parse_args(argv)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    loop = install_event_loop(args.event_loop)  # before the app binds a loop, as in a khabar worker
    app = create_passthrough(args.broker, args.app_id, args.source, args.sink, args.partitions,
                             args.web_port, args.data_dir)
    report_running_loop(loop, args.event_loop, who="passthrough")
    Worker(app, loglevel="WARN", quiet=True, redirect_stdouts=False, loop=loop).execute_from_commandline()


if __name__ == "__main__":
    main()
