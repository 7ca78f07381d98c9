"""The guarded server's pieces that need no running server: log redaction, link digests, the
defensive reading of kernel messages, the refusal page and the default kernel cap."""

from __future__ import annotations

import json
import os
import struct

import pytest

from workbench.apps.gate import token_digest
from workbench.apps.server import (
    PAGE_MEMORY_MB,
    _v1_header,
    default_max_kernels,
    message_page,
    redact_uri,
)
from workbench.apps.serving import voila_command


def test_redact_uri_hides_every_token_and_keeps_the_rest():
    token = "eyJraW5kIjoibGVhZGVyIn0.axXwfA.PKI5k2kItQmpkzkEHC-m6X-ff9M"
    out = redact_uri(f"/voila/render/leader.ipynb?x=1&token={token}&token=second")
    assert token not in out and "second" not in out and "PKI5k2k" not in out
    assert f"token=sha256:{token_digest(token)}" in out and "x=1" in out
    assert redact_uri("/voila/static/voila.js") == "/voila/static/voila.js"


def test_token_digest():
    assert token_digest(None) == token_digest("") == "-"
    assert len(token_digest("abc")) == 8 and len(token_digest("abc", full=True)) == 64
    assert token_digest("abc") == token_digest("abc", full=True)[:8] != token_digest("abd")


def _v1(header: dict, parent: dict | None = None, buffers: tuple[bytes, ...] = ()) -> bytes:
    parts = [b"iopub", json.dumps(header).encode(), json.dumps(parent or {}).encode(), b"{}", b"{}", *buffers]
    offsets, pos = [], 8 * (len(parts) + 1)
    for p in parts:
        offsets.append(pos)
        pos += len(p)
    return struct.pack(f"<{len(parts) + 1}Q", len(parts), *offsets) + b"".join(parts)


def test_v1_header_reads_v1_messages():
    assert _v1_header(_v1({"msg_type": "execute_input"}))["msg_type"] == "execute_input"
    assert _v1_header(_v1({"msg_type": "comm_msg"}, buffers=(b"\x00" * 100,)))["msg_type"] == "comm_msg"


@pytest.mark.parametrize("message", [
    # the legacy binary format: a 4-byte big-endian count, then offsets; read as v1 the count is huge
    struct.pack(">II", 2, 12) + b'{"header": {}}' + b"\x00" * 50,
    b"\xff" * 64, b"", b"short", struct.pack("<QQQQ", 3, 9999, 10, 5) + b"x" * 40,
])
@pytest.mark.timeout(20)  # Voilà's own reader built a list as long as the count: it never returned
def test_v1_header_refuses_other_bytes_at_once(message):
    assert _v1_header(message) is None


def test_message_page_is_escaped_and_self_contained():
    page = message_page(429, "Too many <open> pages", "Close one & reload.")
    assert "&lt;open&gt;" in page and "Close one &amp; reload." in page and "<script" not in page
    assert "http" not in page.replace("HTTP 429", "")  # no external assets
    assert "<h1>" in page and "font-family" in page
    assert "width=device-width" in page  # sized for phones like the apps


def test_refusal_and_landing_tell_a_person_what_to_do():
    from workbench.apps.server import ASK_FOR_A_LINK, LANDING

    refused = message_page(403, "Cannot open this page", "This link has expired.", ASK_FOR_A_LINK)
    assert "ask your facilitator for a new link" in refused.lower() and "HTTP 403" in refused
    assert "workbench link" not in refused  # nobody is told to run a command
    landing = message_page(200, "Leadership Workbench", *LANDING)
    assert "personal link" in landing and "HTTP" not in landing and ".ipynb" not in landing


def test_default_kernel_cap_follows_memory():
    assert default_max_kernels(24_000) == int(12_000 // PAGE_MEMORY_MB)
    assert default_max_kernels(256) == 2


def test_voila_command_is_guarded_and_local_by_default(tmp_path):
    cmd = voila_command(tmp_path, 1234)
    assert cmd[1:3] == ["-m", "workbench.apps.server"] and "--Voila.ip=127.0.0.1" in cmd
    assert "--MappingKernelManager.cull_connected=False" in cmd
    assert any(a.startswith("--MappingKernelManager.cull_idle_timeout=") and int(a.split("=")[1]) <= 300 for a in cmd)
    assert "--GuardedKernelManager.max_kernels_per_link=3" in cmd
    assert voila_command(tmp_path, 1234, gate=False)[1:3] == ["-m", "voila"]


class _FakeKernels:
    """A GuardedKernelManager whose kernels are names only: starting and stopping are bookkeeping."""

    @staticmethod
    def make(per_link: int = 2, cap: int = 3):
        from workbench.apps.server import GuardedKernelManager

        class Fake(GuardedKernelManager):
            async def shutdown_kernel(self, kernel_id, now=False, restart=False):
                self._kernels.pop(kernel_id)
                self._kernel_connections.pop(kernel_id, None)

        return Fake(max_kernels=cap, max_kernels_per_link=per_link, orphan_grace=0.0)

    @staticmethod
    async def open(km, owner: str, name: str, connected: bool = True) -> None:
        from workbench.apps.server import _Owned

        res = await km.reserve(owner)
        km._kernels[name] = object()  # what start_kernel records, without a process
        km._kernel_connections[name] = int(connected)
        res.kernel_id = name
        km._pending.remove(res)
        km._owned[name] = _Owned(owner)
        km.release(res)


def test_kernel_caps_make_room_only_from_pages_nobody_is_connected_to():
    import asyncio

    from workbench.apps.server import KernelCapReached

    async def scenario():
        km = _FakeKernels.make(per_link=2, cap=3)
        await _FakeKernels.open(km, "ann", "a1")
        await _FakeKernels.open(km, "ann", "a2", connected=False)  # a closed tab
        await _FakeKernels.open(km, "ann", "a3")  # at ann's cap: her closed tab makes room
        assert "a2" not in km and km.count("ann") == 2
        with pytest.raises(KernelCapReached) as exc:
            await _FakeKernels.open(km, "ann", "a4")  # both her tabs open: refused
        assert exc.value.per_link and exc.value.limit == 2
        await _FakeKernels.open(km, "bob", "b1")  # the server is now full (3)
        with pytest.raises(KernelCapReached) as exc:
            await _FakeKernels.open(km, "cy", "c1")
        assert not exc.value.per_link and km.count() == 3
        km._kernel_connections["b1"] = 0  # bob closes his tab: anyone may have the room
        await _FakeKernels.open(km, "cy", "c1")
        assert "b1" not in km and km.owner_of("c1") == "cy" and km.count() == 3

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:  # its own loop: a browser test in this process may hold the main one
        pool.submit(asyncio.run, scenario()).result()


@pytest.mark.parametrize("url", ["ftp://wb.example.org/", "https://"])
def test_serve_refuses_a_base_url_that_is_not_an_address(url, tmp_path):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "workbench.cli", "serve", "--base-url", url, "--db",
                             f"sqlite:///{tmp_path / 'x.db'}"], capture_output=True, text=True, timeout=120)
    out = result.stdout + result.stderr
    assert result.returncode == 1 and "error: --base-url must be an http(s) address" in out
    assert "Traceback" not in out


def test_stop_tree_kills_a_server_that_ignores_sigterm_and_what_it_started(tmp_path):
    """What serve does when Voilà cannot stop (as when it spun at full CPU): kill it and its kernels."""
    import subprocess
    import sys
    import time

    import psutil

    from workbench.apps.serving import stop_tree

    ready = tmp_path / "ready"
    child = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"
    parent = (
        "import signal, subprocess, sys, time, pathlib; signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        f"subprocess.Popen([sys.executable, '-c', {child!r}], start_new_session=True)\n"
        f"pathlib.Path({str(ready)!r}).touch(); time.sleep(600)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", parent], start_new_session=True)
    for _ in range(200):
        if ready.exists() and psutil.Process(proc.pid).children():
            break
        time.sleep(0.05)
    kids = psutil.Process(proc.pid).children(recursive=True)
    assert kids
    stop_tree(proc, grace=1.0)
    assert proc.poll() is not None
    assert not [k for k in kids if k.is_running() and k.status() != psutil.STATUS_ZOMBIE]


def test_pool_sizes_stay_within_a_quarter_of_the_cap():
    from workbench.apps.server import default_pool_sizes

    for cap in (2, 3, 8, 16, 48, 200):
        sizes = default_pool_sizes(cap)
        assert sizes["leader.ipynb"] >= 1
        assert sum(sizes.values()) <= max(1, cap // 4), (cap, sizes)
    assert default_pool_sizes(48) == {"leader.ipynb": 6, "cohort.ipynb": 1, "rater.ipynb": 1}
    assert default_pool_sizes(3) == {"leader.ipynb": 1, "cohort.ipynb": 0, "rater.ipynb": 0}
    assert default_pool_sizes(48, leader_pool=0)["leader.ipynb"] == 0
    cmd = voila_command(".", 1234, leader_pool=5)
    assert "--WorkbenchVoila.leader_pool=5" in cmd and "--VoilaConfiguration.progressive_rendering=True" in cmd
    assert "--VoilaConfiguration.progressive_rendering=False" in voila_command(".", 1234, gate=False,
                                                                               progressive=False)


def test_a_preheated_kernel_is_no_ones_until_a_page_takes_it_and_then_only_that_pages():
    """Waiting kernels are not counted against the caps; the one a page takes becomes its link's (and
    counts against that link), it is given that page's request only, and the pool is refilled
    outside the page's request."""
    import asyncio

    from voila.request_info_handler import RequestInfoSocketHandler

    from workbench.apps.server import _RESERVATION, GuardedKernelManager, KernelCapReached

    class Km(GuardedKernelManager):
        """Kernels are names: preheating one records it, starting one (no pool) makes a new name."""

        async def _warm(self, notebook):
            kid = f"warm{len(self.warmed)}"
            self.warmed.append((kid, _RESERVATION.get()))
            self._kernels[kid] = object()
            self._kernel_connections[kid] = 0
            from workbench.apps.server import _Owned

            self._owned[kid] = _Owned(None, rendering=False)
            self._warming.add(kid)  # started, still importing: a pool kernel, not a page
            self.counted_while_warming.append(self.count())
            await asyncio.sleep(0)
            self._warming.discard(kid)
            return kid

        async def shutdown_kernel(self, kernel_id, now=False, restart=False):
            self._kernels.pop(kernel_id)

    async def page(km, owner, query):
        res = await km.reserve(owner, "leader.ipynb")
        token = _RESERVATION.set(res)
        try:
            return await km.start_kernel(kernel_name="python3", path="", env={"QUERY_STRING": query, "HOME": "/x"})
        finally:
            _RESERVATION.reset(token)
            km.release(res)

    async def scenario():
        km = Km(max_kernels=4, max_kernels_per_link=1, orphan_grace=0.0, pool_sizes={"leader.ipynb": 2},
                max_warming=2)
        km.warmed, km.counted_while_warming = [], []
        km.fill_pools()
        await asyncio.gather(*km._pool["leader.ipynb"])
        assert km.pooled() == {"warm0", "warm1"} and km.count() == 0 and km._orphans(None) == []
        assert [r for _, r in km.warmed] == [None, None] and km.counted_while_warming == [0, 0]
        kid = await page(km, "ann", "token=ann-link")
        assert kid == "warm0" and km.owner_of("warm0") == "ann" and km.owner_of("warm1") is None
        assert km.count("ann") == 1 and km.count() == 1
        # the kernel is given ann's request (and no other variable of the server's environment), once
        assert RequestInfoSocketHandler._cache.pop("warm0") == {"QUERY_STRING": "token=ann-link"}
        await asyncio.sleep(0.6)  # the refill, after the page's request
        await asyncio.gather(*km._pool["leader.ipynb"])
        assert km.pooled() == {"warm1", "warm2"} and km.warmed[2][1] is None  # not in ann's request
        km._kernel_connections["warm0"] = 1  # her browser is connected to it
        with pytest.raises(KernelCapReached):  # the pool does not lift her cap
            await km.reserve("ann", "leader.ipynb")
        kid = await page(km, "bob", "token=bob-link")
        assert kid == "warm1" and km.owner_of("warm1") == "bob"
        assert RequestInfoSocketHandler._cache.pop("warm1") == {"QUERY_STRING": "token=bob-link"}
        # pages and pool stay under the server's cap (4): two pages, so at most two waiting
        await asyncio.sleep(0.6)
        assert km.count() == 2 and km.count() + km.pool_count() <= 4
        # a page of an app without a pool starts its own kernel (here: the base manager's, refused)
        km.pool_sizes = {}
        km._pool.clear()
        assert km.pooled() == set()

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, scenario()).result()


def test_a_kernel_reads_its_query_from_the_environment_or_waits_for_it_when_preheated(monkeypatch):
    """Started for a page: ``QUERY_STRING``. Preheated: it asks the server once, with the server's kernel
    key, keeps the request's variables and never asks again."""
    import threading

    from websockets.sync.server import serve

    from workbench.apps import _kernel

    monkeypatch.delenv("VOILA_PREHEAT", raising=False)
    monkeypatch.delenv("SCRIPT_NAME", raising=False)  # (restored after the test, like every variable set here)
    monkeypatch.setenv("SCRIPT_NAME", "-")
    monkeypatch.setenv("QUERY_STRING", "token=started")
    assert _kernel.query_string() == "token=started"

    seen = []

    def handler(ws):
        seen.append((ws.request.path, ws.request.headers.get(_kernel.KERNEL_KEY_HEADER)))
        ws.send(json.dumps({"QUERY_STRING": "token=given", "SCRIPT_NAME": "/voila/render/leader.ipynb"}))

    with serve(handler, "127.0.0.1", 0) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.socket.getsockname()[1]
        for k, v in {"VOILA_PREHEAT": "True", "VOILA_APP_IP": "127.0.0.1", "VOILA_APP_PORT": str(port),
                     "VOILA_SERVER_URL": "/", "VOILA_KERNEL_ID": "k-1", _kernel.KERNEL_KEY_ENV: "sekrit"}.items():
            monkeypatch.setenv(k, v)
        monkeypatch.delenv("QUERY_STRING")
        assert _kernel.query_string() == "token=given"
        assert _kernel.query_string() == "token=given"  # the second call reads the environment
        server.shutdown()
    assert seen == [("/voila/query/k-1", "sekrit")]
    assert os.environ["SCRIPT_NAME"] == "/voila/render/leader.ipynb" and os.environ["VOILA_PREHEAT"] == "False"


def test_the_pool_refills_one_kernel_at_a_time_not_while_pages_run_and_grows_in_a_burst():
    """Refilling is rate limited (``max_warming`` at once) and waits while as many pages run as there are
    turns; pages taken in the window grow the pool up to its burst size, and it shrinks back after."""
    import asyncio
    import time

    from workbench.apps.server import GuardedKernelManager, _Owned, default_burst_sizes

    class Km(GuardedKernelManager):
        async def _warm(self, notebook):
            kid = f"warm{len(self.warmed)}"
            self.warmed.append(kid)
            self.at_once.append(self._in_flight())
            await asyncio.sleep(0.01)
            self._kernels[kid] = object()
            self._owned[kid] = _Owned(None, rendering=False)
            return kid

        async def shutdown_kernel(self, kernel_id, now=False, restart=False):
            self._kernels.pop(kernel_id)
            self.stopped.append(kernel_id)

    async def settle(km):
        for _ in range(50):
            await asyncio.sleep(0.02)
            if not km._in_flight():
                await asyncio.sleep(0.02)
                if not km._in_flight():
                    return

    async def scenario():
        km = Km(max_kernels=40, pool_sizes={"leader.ipynb": 2}, burst_sizes={"leader.ipynb": 5}, burst_window=0.5)
        km.warmed, km.at_once, km.stopped = [], [], []
        km.refill_below, km.pages_running = 2, 1
        km.fill_pools()
        await settle(km)
        assert km.pool_count("leader.ipynb") == 2 and max(km.at_once) == 1  # one at a time beside a page
        km.pages_running = 2  # two pages run (one per turn): nothing is preheated
        for _ in range(2):
            assert await km._take("leader.ipynb") in km
            km._taken["leader.ipynb"].append(time.monotonic())
        km.fill_pools()
        await settle(km)
        assert km.pool_count("leader.ipynb") == 0 and len(km.warmed) == 2
        km.pages_running = 1  # a core is free: the pool grows to base + pages taken (2 + 2)
        km.fill_pools()
        await settle(km)
        assert km.pool_target("leader.ipynb") == 4 and km.pool_count("leader.ipynb") == 4
        assert max(km.at_once) == 1
        km._taken["leader.ipynb"] += [time.monotonic()] * 10
        assert km.pool_target("leader.ipynb") == 5  # never past the burst size
        await asyncio.sleep(0.6)  # the burst window passes: back to the base size
        km.fill_pools()
        await settle(km)
        assert km.pool_target("leader.ipynb") == 2 and km.pool_count("leader.ipynb") == 2
        assert len(km.stopped) == len(km.warmed) - 2 - 2  # the surplus waiting kernels were shut down
        km.pages_running, km.at_once = 0, []  # no page runs: one kernel per turn at a time
        for _ in range(2):
            await km._take("leader.ipynb")
        km.fill_pools()
        await settle(km)
        assert max(km.at_once) == 2 and km.pool_count("leader.ipynb") == 2

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, scenario()).result()
    assert default_burst_sizes(48, {"leader.ipynb": 6, "rater.ipynb": 1}) == {"leader.ipynb": 12, "rater.ipynb": 1}
    assert default_burst_sizes(48, {"leader.ipynb": 30}, leader_burst=0) == {"leader.ipynb": 30}


def test_a_page_runs_at_once_up_to_its_first_content_and_then_waits_its_turn(monkeypatch):
    """The execution socket asks for a turn only once a cell result with outputs (the header) is sent, and
    Voilà runs the next cell only once it is held; a turn is given back at the end or after turn_seconds."""
    import asyncio

    from tornado.websocket import WebSocketHandler

    from workbench.apps.server import GuardedExecutionHandler, _shows_something, _Turn

    sent = []

    def fake_write(self, message, binary=False):
        sent.append(message)
        f = asyncio.get_running_loop().create_future()
        f.set_result(None)
        return f

    monkeypatch.setattr(WebSocketHandler, "write_message", fake_write)

    def result(outputs):
        return {"action": "execution_result", "payload": {"output_cell": {"outputs": outputs}, "cell_index": 0}}

    header = result([{"output_type": "display_data", "data": {"text/plain": "header"}}])
    assert _shows_something(header) and not _shows_something(result([]))
    assert not _shows_something({"action": "initialized", "payload": {}}) and not _shows_something("text")

    async def scenario():
        turns = asyncio.Semaphore(1)
        first, second = GuardedExecutionHandler.__new__(GuardedExecutionHandler), \
            GuardedExecutionHandler.__new__(GuardedExecutionHandler)
        first._turn, second._turn = _Turn(turns, 60.0), _Turn(turns, 0.05)
        await first.write_message(result([]))  # the parameters cell: no turn asked
        assert not first._turn.asked
        await first.write_message(header)
        assert first._turn.held and sent[-1] is header
        waiting = asyncio.ensure_future(second.write_message(header))  # sent at once, then waits its turn
        await asyncio.sleep(0.02)
        assert sent[-1] is header and len(sent) == 3 and not waiting.done() and not second._turn.held
        await first.write_message(header)  # (a later result asks nothing more)
        first._turn.release()
        await waiting
        assert second._turn.held
        await asyncio.sleep(0.1)  # turn_seconds passed: given back though the page still runs
        assert not second._turn.held and turns._value == 1
        second._turn.release()  # (giving back twice is harmless)
        assert turns._value == 1

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, scenario()).result()


def test_page_templates_are_compiled_once_per_server():
    """Voilà makes an exporter per page; with the server's renderer they share compiled templates."""
    from voila import notebook_renderer

    from workbench.apps import server

    original = notebook_renderer.VoilaExporter
    try:
        server._keep_compiled_templates()
        exporter = notebook_renderer.VoilaExporter
        server._keep_compiled_templates()  # (once only)
        assert notebook_renderer.VoilaExporter is exporter and issubclass(exporter, original)
        loader = __import__("jinja2").DictLoader({"page.j2": "{% for i in range(2) %}{{ i }}{% endfor %}"})
        first, second = exporter(), exporter()
        envs = []
        for ex in (first, second):
            env = ex.environment
            env.loader = loader
            envs.append(env)
            assert env.get_template("page.j2").render() == "01"
        assert envs[0] is not envs[1] and envs[0].bytecode_cache is envs[1].bytecode_cache
        assert len(envs[0].bytecode_cache._code) == 1  # compiled by the first, loaded by the second
    finally:
        notebook_renderer.VoilaExporter = original


def test_a_preheated_kernel_given_to_a_page_is_not_culled_for_its_wait_in_the_pool():
    """A kernel that waited in the pool longer than the idle timeout was culled between its hand-over
    and the page's first message (a page that never loaded, seen in CI); its clock now starts at the
    hand-over, while a kernel left idle that long after it still is culled."""
    import asyncio
    from datetime import timedelta
    from types import SimpleNamespace

    from jupyter_server._tz import utcnow

    from workbench.apps.server import _RESERVATION, GuardedKernelManager, _Owned

    def kernel(idle_seconds):
        return SimpleNamespace(last_activity=utcnow() - timedelta(seconds=idle_seconds), execution_state="idle",
                               kernel_name="python3", kernel_spec=SimpleNamespace(metadata={}))

    class Km(GuardedKernelManager):
        async def _warm(self, notebook):
            kid = f"warm{len(self._kernels)}"
            self._kernels[kid] = kernel(idle_seconds=600)  # waited ten minutes in the pool
            self._kernel_connections[kid] = 0
            self._owned[kid] = _Owned(None, rendering=False)
            return kid

        async def shutdown_kernel(self, kernel_id, now=False, restart=False):
            self._kernels.pop(kernel_id)

    async def scenario():
        km = Km(max_kernels=4, max_kernels_per_link=1, pool_sizes={"rater.ipynb": 1}, cull_idle_timeout=240)
        km.fill_pools()
        await asyncio.gather(*km._pool["rater.ipynb"])
        await km.cull_kernel_if_idle("warm0")
        assert "warm0" in km  # waiting in the pool: never culled
        res = await km.reserve("sam", "rater.ipynb")
        token = _RESERVATION.set(res)
        try:
            kid = await km.start_kernel(kernel_name="python3", path="", env={})
        finally:
            _RESERVATION.reset(token)
            km.release(res)
        assert kid == "warm0"
        await km.cull_kernel_if_idle(kid)
        assert kid in km  # the page has its kernel
        km._kernels[kid].last_activity = utcnow() - timedelta(seconds=300)  # the page went quiet
        await km.cull_kernel_if_idle(kid)
        assert kid not in km

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, scenario()).result()
