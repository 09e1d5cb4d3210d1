"""Run a khabar Faust worker in this process, or as a child process."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import httpx

from khabar.config import Settings
from khabar.memory import cap_mmap_threshold, release_free_heap
from streams.errors import WorkerError

if TYPE_CHECKING:
    from faust.worker import Worker

    from streams.app import KhabarApp


def prepare_worker(settings: Settings) -> tuple[KhabarApp, Worker]:
    """Everything a worker builds before it connects: the app, its loaded models, the Faust worker.

    No connection is made (``khabar.bench_window --startup`` measures this memory).
    """
    from faust.worker import Worker

    from streams.app import create_app

    cap_mmap_threshold()  # before the big allocations: see khabar.memory
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    kapp = create_app(settings)
    kapp.pipeline.warm()  # load models before consuming: the first article must not stall the loop
    # The models, lexicons and the app live as long as the process: move them out of the
    # collector's generations so each full collection does not walk them again.
    gc.collect()
    release_free_heap()  # the lexicons' build temporaries (~10 MB)
    gc.freeze()
    worker = Worker(kapp.app, loglevel="WARN" if settings.log_level == "warn" else settings.log_level.upper(),
                    quiet=True, redirect_stdouts=False)
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
