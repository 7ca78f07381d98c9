"""Starting Voilà for the apps: the command line ``workbench serve`` runs, and a background
server for the browser tests and the page benchmarks."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
APPS_DIR = REPO / "notebooks" / "apps"
VOILA_CONFIG = Path(__file__).resolve().parent / "voila_config"


#: Debian's chromium, driven by Playwright (``playwright install`` is never needed); the
#: networking flags stop it reaching for hosts a closed network refuses
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ("--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage")


def chromium_path() -> str:
    import shutil

    return shutil.which("chromium") or CHROMIUM


#: idle kernels (no page connected, nothing running) are shut down after this many seconds
CULL_IDLE_SECONDS = 240


def voila_command(notebook_dir: str | Path, port: int, gate: bool = True, ip: str = "127.0.0.1",
                  base_url: str = "/", max_kernels: int = 0, kernels_per_link: int = 3,
                  cull_idle: int = CULL_IDLE_SECONDS, leader_pool: int = -1,
                  progressive: bool = True, leader_burst: int = -1) -> list[str]:
    """The Voilà command line for ``notebook_dir`` on ``ip``:``port``.

    Idle kernels are culled after ``cull_idle`` seconds once no page is connected to them,
    tracebacks are never shown to visitors, a busy port is an error (not a silent move to the
    next one). With ``gate`` (what ``workbench serve`` runs) the server is
    :mod:`workbench.apps.server`: the signed-link gate refuses a page before any kernel is given or
    started, kernels are preheated (``leader_pool`` waiting for leader pages, -1 sized to the cap,
    see :func:`workbench.apps.server.default_pool_sizes`; growing to ``leader_burst`` while pages draw it
    down, -1 a quarter of the cap, :func:`workbench.apps.server.default_burst_sizes`), cells render as they finish (progressive
    rendering), kernel endpoints answer only the browser that opened the page, at most
    ``kernels_per_link`` kernels per link and ``max_kernels`` in all (0: sized to the machine's
    memory), and nothing else is served. Without ``gate`` it is plain Voilà (the benchmarks'
    reference pages), rendering progressively unless ``progressive`` is false.
    """
    cmd = [
        sys.executable, "-m", "workbench.apps.server" if gate else "voila", str(notebook_dir), "--no-browser",
        f"--Voila.ip={ip}", f"--port={port}", "--Voila.port_retries=0", f"--Voila.base_url={base_url}",
        f"--MappingKernelManager.cull_idle_timeout={cull_idle}", "--MappingKernelManager.cull_interval=30",
        "--MappingKernelManager.cull_connected=False", "--VoilaConfiguration.show_tracebacks=False",
        # cells render as they finish: the leader app's header shows while its tabs are built
        f"--VoilaConfiguration.progressive_rendering={progressive or gate}",
    ]
    if gate:
        cmd += [f"--Voila.config_file_paths={VOILA_CONFIG}", "--VoilaConfiguration.allow_template_override=NO",
                "--VoilaConfiguration.allow_theme_override=NO", f"--GuardedKernelManager.max_kernels={max_kernels}",
                f"--GuardedKernelManager.max_kernels_per_link={kernels_per_link}",
                f"--WorkbenchVoila.leader_pool={leader_pool}", f"--WorkbenchVoila.leader_burst={leader_burst}"]
    return cmd


def run_until_signalled(cmd: list[str], env: Mapping[str, str] | None = None, cwd: str | Path | None = None,
                        grace: float = 10.0) -> int:
    """Run a server command until it exits or this process is told to stop; returns its exit code.

    The server runs in its own session, so a terminal's Ctrl-C reaches only this process, which
    passes SIGTERM on (SIGINT, SIGTERM and SIGHUP alike). Voilà then shuts its kernels down. If
    it has not exited after ``grace`` seconds it is killed, and so is every process it had
    started (kernels run in sessions of their own, so they are found through the process tree).
    """
    proc = subprocess.Popen(cmd, env=None if env is None else dict(env), cwd=cwd, start_new_session=True)
    stopping: list[int] = []

    def forward(signum, frame):
        stopping.append(signum)  # the loop below stops the server (it first notes what it started)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        while True:
            try:
                code = proc.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                if stopping:
                    code = stop_tree(proc, grace)
                    break
    finally:
        if proc.poll() is None:  # an exception here: never leave the server behind
            stop_tree(proc, grace)
        for s, h in previous.items():
            signal.signal(s, h)
    return 128 + stopping[0] if stopping and code < 0 else code


def stop_tree(proc: subprocess.Popen, grace: float = 10.0) -> int:
    """SIGTERM ``proc``; after ``grace`` seconds SIGKILL it and whatever it started that is still alive."""
    import psutil

    try:
        children = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = proc.wait()
    _, alive = psutil.wait_procs(children, timeout=min(grace, 5.0))
    for child in alive:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=5.0)
    return code


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 60.0) -> None:
    """Wait until something accepts connections on the port (never GET a page: that starts a kernel)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listening on port {port} after {timeout} s")


@contextmanager
def background(cmd: list[str], port: int, env: Mapping[str, str] | None = None, log: Path | None = None,
               cwd: str | Path | None = None, timeout: float = 120.0) -> Iterator[str]:
    """Run a server command in its own process group until the block ends; yields its base URL."""
    out = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    proc = subprocess.Popen(cmd, env={**os.environ, **(env or {})}, stdout=out, stderr=subprocess.STDOUT,
                            cwd=cwd, start_new_session=True)
    try:
        wait_for_port(port, timeout=timeout)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        if log:
            out.close()


def serve_command(db_url: str, port: int, *extra: str) -> list[str]:
    """``workbench serve`` for a database, as a subprocess command (``extra``: more options)."""
    return [sys.executable, "-m", "workbench.cli", "serve", "--port", str(port), "--db", db_url, *extra]
