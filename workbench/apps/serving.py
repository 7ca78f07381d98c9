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


def voila_command(notebook_dir: str | Path, port: int, gate: bool = True) -> list[str]:
    """The Voilà command line for ``notebook_dir`` on 127.0.0.1:``port``.

    Idle kernels are culled after 10 minutes, tracebacks are never shown to visitors, a busy
    port is an error (not a silent move to the next one), cells render as they finish
    (progressive rendering) and, with ``gate``, the signed-link gate (:mod:`workbench.apps.gate`)
    refuses a page before its kernel starts.
    """
    cmd = [
        sys.executable, "-m", "voila", str(notebook_dir), "--no-browser", "--Voila.ip=127.0.0.1",
        f"--port={port}", "--Voila.port_retries=0", "--MappingKernelManager.cull_idle_timeout=600",
        "--MappingKernelManager.cull_interval=60", "--VoilaConfiguration.show_tracebacks=False",
        # cells render as they finish: the leader app's header shows while its tabs are built
        "--VoilaConfiguration.progressive_rendering=True",
    ]
    if gate:
        cmd.append(f"--Voila.config_file_paths={VOILA_CONFIG}")
    return cmd


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


def serve_command(db_url: str, port: int) -> list[str]:
    """``workbench serve`` for a database, as a subprocess command."""
    return [sys.executable, "-m", "workbench.cli", "serve", "--port", str(port), "--db", db_url]
