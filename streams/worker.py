"""Run a khabar Faust worker in this process, or as a child process."""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import httpx
import structlog

from khabar.config import Settings
from khabar.memory import cap_mmap_threshold, release_free_heap
from streams.errors import WorkerError

if TYPE_CHECKING:
    from faust.worker import Worker

    from streams.app import KhabarApp

log = structlog.get_logger("khabar.worker")


def install_event_loop(kind: str) -> asyncio.AbstractEventLoop:
    """Make a new event loop of ``kind`` (``uvloop`` or ``asyncio``) this thread's current loop.

    Called before the Faust app is built: Faust and mode bind the loop that is current when
    their objects are made (mode caches it per thread), and the worker must run that same loop. With ``uvloop`` the policy is set too, so any loop made later in this
    process (mode's service threads) is a uvloop loop as well.
    """
    if kind == "uvloop":
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    elif kind != "asyncio":
        raise ValueError(f"unknown event loop {kind!r}: uvloop or asyncio")
    else:
        asyncio.set_event_loop_policy(None)  # the standard library's default policy
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    return loop


def loop_name(loop: asyncio.AbstractEventLoop) -> str:
    """``module.Class`` of ``loop``, e.g. ``uvloop.Loop`` or ``asyncio.unix_events._UnixSelectorEventLoop``."""
    return f"{type(loop).__module__}.{type(loop).__qualname__}"


def report_running_loop(loop: asyncio.AbstractEventLoop, setting: str, who: str = "worker") -> None:
    """Log, once ``loop`` runs, the class of the loop that is actually running (``worker_event_loop``)."""
    def running() -> None:
        log.info(f"{who}_event_loop", loop=loop_name(asyncio.get_running_loop()), setting=setting)

    loop.call_soon(running)


def prepare_worker(settings: Settings) -> tuple[KhabarApp, Worker]:
    """Everything a worker builds before it connects: its event loop, the app, its loaded
    models, the Faust worker.

    No connection is made (``khabar.bench_window --startup`` measures this memory).
    """
    loop = install_event_loop(settings.event_loop)  # before Faust binds a loop

    from faust.worker import Worker
    from mode.utils.loops import get_event_loop

    from streams.app import create_app

    cap_mmap_threshold()  # before the big allocations: see khabar.memory
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    kapp = create_app(settings)
    if get_event_loop() is not loop:  # mode resolved (and cached) another loop before this one
        raise WorkerError(f"the app is bound to {loop_name(get_event_loop())}, not the worker's "
                          f"{loop_name(loop)}: prepare_worker must run before anything else makes a loop")
    kapp.pipeline.warm()  # load models before consuming: the first article must not stall the loop
    # The models, lexicons and the app live as long as the process: move them out of the
    # collector's generations so each full collection does not walk them again.
    gc.collect()
    release_free_heap()  # the lexicons' build temporaries (~10 MB)
    gc.freeze()
    worker = Worker(kapp.app, loglevel="WARN" if settings.log_level == "warn" else settings.log_level.upper(),
                    quiet=True, redirect_stdouts=False, loop=loop)
    report_running_loop(loop, settings.event_loop)
    # At WARN and above, Faust's worker hangs a terminal spinner on the root logger and
    # sets the root to DEBUG so every record turns it: each message in and out then
    # builds debug records in Faust and aiokafka (~4% of the worker's CPU). No spinner.
    worker.spinner = None
    return kapp, worker


def restart_in_place() -> NoReturn:
    """Replace this process with a fresh run of the same command line (same PID, environment
    and inherited stdout/stderr); nothing after the call runs.

    Unacked input is simply read again by the new process (at-least-once, as after SIGKILL).
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, sys.orig_argv)


def run_worker(settings: Settings) -> None:
    """Run a Faust worker until SIGINT/SIGTERM (blocks; exits the process)."""
    _kapp, worker = prepare_worker(settings)
    worker.execute_from_commandline()


def spawn_worker(env: dict[str, str], log_path: Path | None = None) -> subprocess.Popen[bytes]:
    """Start ``khabar worker`` as a child process with ``env`` added to this environment."""
    full_env = {**os.environ, **env}
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    try:
        return subprocess.Popen([sys.executable, "-m", "streams.cli", "worker"], env=full_env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    finally:
        if log_path:
            out.close()  # type: ignore[union-attr]


def wait_for_metrics(url: str, proc: subprocess.Popen[bytes] | None = None, timeout: float = 60.0,
                     must_contain: str = "khabar_worker_info") -> str:
    """Poll a worker's ``/metrics`` until it answers; returns the text.

    Raises:
        WorkerError: The worker died or did not answer in time.
    """
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise WorkerError(f"worker exited with code {proc.returncode} before serving {url}")
        try:
            r = httpx.get(url, timeout=2.0)
            if r.status_code == 200 and must_contain in r.text:
                return r.text
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.25)
    raise WorkerError(f"no metrics at {url} after {timeout:.0f}s ({last!r})")


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> int:
    """SIGTERM, wait, then SIGKILL. Returns the exit code."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)
    return proc.returncode
