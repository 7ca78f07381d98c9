"""The Voilà server that ``workbench serve`` runs: Voilà with the workbench's guards.

Voilà 0.5 on its own answers any visitor on every route it knows. This module runs the same
application (:class:`WorkbenchVoila`, started with ``python -m workbench.apps.server``) with
its route table rewritten so that a person holding a signed link reaches only what their own
page needs:

* ``/voila/render/<app>.ipynb`` opens a page only for a valid signed link to that app (the
  gate, :mod:`workbench.apps.gate`), and only while the link and the server have room for
  another kernel (:class:`GuardedKernelManager`); refusals are a small styled page.
* Every kernel endpoint the page uses (``/api/kernels/<id>``, its ``channels`` websocket,
  Voilà's ``/voila/execution/<id>`` websocket and ``/voila/api/shutdown/<id>``) answers only
  the browser that opened that kernel's page: the page's response sets a cookie signed with the
  server's secret that names the link (a hash of it), and a kernel answers only that cookie.
  Knowing a kernel id (it is in every page's HTML) is not enough.
* The kernel websocket must speak the ``v1.kernel.websocket.jupyter.org`` subprotocol, the one
  Voilà's page speaks. Voilà 0.5.13 reads every outgoing binary message in that format, and a
  socket on the older protocol made it spin, grow by gigabytes and stop serving everyone.
* Kernels are preheated (:class:`GuardedKernelManager`): a few per app are started and import the
  app before any request, and a page that passed the gate is given one. Its notebook asks for the
  page's request over ``/voila/query/<id>`` (:class:`GuardedQueryHandler`), which answers only the
  server's own kernels (a key in their environment) and forgets the request once given.
* Nothing lists or serves the notebook folder: the tree, the contents API, ``/voila/files``,
  ``/login`` and every other route answer a styled 404. Voilà's own static assets stay.
* Logs never hold a link: the access log and the handlers' error lines show the query with
  each ``token`` replaced by the first 8 hex digits of its SHA-256 (:func:`token_digest`).
"""

from __future__ import annotations

import asyncio
import contextvars
import hmac
import html
import logging
import os
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from urllib.parse import parse_qsl, urlencode

import jinja2
from jupyter_server._tz import utcnow
from jupyter_server.services.kernels.handlers import KernelHandler, _kernel_id_regex
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from jupyter_server.utils import url_path_join
from tornado import web
from tornado.ioloop import IOLoop, PeriodicCallback
from tornado.websocket import WebSocketClosedError
from traitlets import Dict, Float, Integer
from voila.app import Voila
from voila.request_info_handler import RequestInfoSocketHandler
from voila.shutdown_kernel_handler import VoilaShutdownKernelHandler
from voila.tornado.execution_request_handler import ExecutionRequestHandler
from voila.tornado.handler import TornadoVoilaHandler
from voila.tornado.kernel_websocket_handler import VoilaKernelWebsocketHandler

from ..services.identity import InvalidLink
from . import assets
from .gate import APP_KINDS, check_request, token_digest

log = logging.getLogger("workbench.serve")

#: the only kernel websocket protocol accepted (the one Voilà's page speaks)
KERNEL_WS_PROTOCOL = "v1.kernel.websocket.jupyter.org"
#: memory of one open leader page: its kernel (196-213 MB resident) and its share of the Voilà process (about
#: 35-40 MB), measured on the demo (see
#: ``docs/deployment.md``); the default server-wide cap is half the machine's memory over this
PAGE_MEMORY_MB = 250
#: a cookie per link a browser opened: ``wb_link_<first 16 hex of the link's hash>``
COOKIE_PREFIX = "wb_link_"

_RESERVATION: contextvars.ContextVar[_Reservation | None] = contextvars.ContextVar("wb_reservation", default=None)


# ---------------------------------------------------------------- kernels and their owners
class KernelCapReached(Exception):
    """No kernel may start now: ``per_link`` says whether the link or the server is full."""

    def __init__(self, per_link: bool, limit: int):
        super().__init__("per link" if per_link else "server")
        self.per_link, self.limit = per_link, limit


@dataclass(eq=False)
class _Reservation:
    owner: str
    notebook: str | None = None
    kernel_id: str | None = None


@dataclass
class _Owned:
    owner: str | None
    rendering: bool = True
    rendered_at: float = field(default_factory=time.monotonic)


def machine_memory_mb() -> int:
    """Total memory of the machine in MB (from ``/proc/meminfo``; 4096 if unknown)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 4096


def default_max_kernels(memory_mb: int | None = None) -> int:
    """The server-wide kernel cap for a machine: half its memory over one page's, at least 2."""
    mem = machine_memory_mb() if memory_mb is None else memory_mb
    return max(2, int(mem * 0.5 // PAGE_MEMORY_MB))


def default_pool_sizes(server_cap: int, leader_pool: int = -1) -> dict[str, int]:
    """Preheated kernels kept waiting per app notebook, for a server cap.

    A waiting kernel holds most of a page's memory (:data:`PAGE_MEMORY_MB`) while nobody uses it, so
    the pools together stay within about a quarter of the cap: leader pages (the many) get
    ``cap // 8`` kernels, between 1 and 6, unless ``leader_pool`` (0 or more) says otherwise; the
    cohort and rater pages one each once the cap leaves room for them (a cap of 16 or more).
    """
    leader = leader_pool if leader_pool >= 0 else min(6, max(1, server_cap // 8))
    others = 1 if server_cap >= 16 else 0
    return {"leader.ipynb": leader, "cohort.ipynb": others, "rater.ipynb": others}


def default_burst_sizes(server_cap: int, pool_sizes: dict[str, int], leader_burst: int = -1) -> dict[str, int]:
    """How far each pool may grow while pages draw it down (see :class:`GuardedKernelManager`).

    Leader pages come in bursts (a cohort session starting): their pool may grow to ``leader_burst``
    (-1: a quarter of the server's cap), never below its base size; the other pools do not grow.
    """
    burst = leader_burst if leader_burst >= 0 else server_cap // 4
    return {nb: max(size, burst) if nb == "leader.ipynb" else size for nb, size in pool_sizes.items()}


#: what a preheated kernel runs before any request: the app's imports and its ``preheat()``, everything
#: the page needs that depends on nobody (the page's slow part; :func:`workbench.apps.leader.preheat`)
WARM_CODE = """import os
os.environ["VOILA_KERNEL_ID"] = {kernel_id!r}
import workbench.apps.{app} as _app
if hasattr(_app, "preheat"):
    _app.preheat()
del _app
"""
#: the request's variables a page's kernel is given (as Voilà sets them in a kernel it starts for a page)
REQUEST_VARIABLES = ("QUERY_STRING", "SCRIPT_NAME", "PATH_INFO", "SERVER_SOFTWARE", "SERVER_PROTOCOL",
                     "SERVER_PORT", "SERVER_NAME", "VOILA_REQUEST_URL")


class GuardedKernelManager(AsyncMappingKernelManager):
    """Voilà's kernel manager, which also knows which link started each kernel, caps kernels and
    keeps a few kernels preheated.

    A page reserves a slot (:meth:`reserve`) before its kernel starts; the kernel started while
    the reservation is current (a context variable of the page's request) is recorded as that
    link's. At the cap, kernels of the link (or, when the server is full, of anyone) that no
    page is connected to any more (a closed or reloaded tab) are shut down to make room before
    a request is refused.

    **Preheated kernels.** For each app notebook in :attr:`pool_sizes`, that many kernels are
    started ahead of any request and import the app (:data:`WARM_CODE`: most of a page's processor
    time). When a page of that app starts its kernel, it is given a waiting one instead, and the
    pool is refilled outside the page's request. The waiting kernel has never served anyone: its
    notebook, once the page runs it, asks the server for the request it was given
    (``/voila/query/<id>``, :class:`GuardedQueryHandler`; :func:`workbench.apps._kernel.query_string`)
    and serves that one page only, like a kernel started for it. Waiting kernels are nobody's page:
    they are not counted against the caps, never culled (a page that takes one starts its idle clock
    anew), and refilled only while pages and pool together stay under the server's cap.
    """

    max_kernels = Integer(0, config=True, help="Most live kernels on this server (0: half the machine's memory "
                                               f"over {PAGE_MEMORY_MB} MB per page).")
    max_kernels_per_link = Integer(3, config=True, help="Most live kernels one signed link may hold.")
    orphan_grace = Float(20.0, config=True, help="Seconds after its page was sent before a kernel no page is "
                                                 "connected to may be shut down to make room.")
    pool_sizes = Dict(config=True, help="Preheated kernels per app notebook, e.g. {'leader.ipynb': 4} (empty: none).")
    burst_sizes = Dict(config=True, help="Most preheated kernels per app notebook while pages draw its pool down "
                                         "(missing: its pool_sizes).")
    burst_window = Float(600.0, config=True, help="Seconds a page taken from a pool keeps it grown by one.")
    max_warming = Integer(1, config=True, help="Kernels preheated at the same time (refilling is rate limited).")
    kernel_env = Dict(config=True, help="Variables added to the environment of preheated kernels.")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._owned: dict[str, _Owned] = {}
        self._pending: list[_Reservation] = []
        self._pool: dict[str, list[asyncio.Task]] = {}
        self._warming: set[str] = set()
        self._taken: dict[str, list[float]] = {}
        #: pages being run now (set by the execution handler), and from how many on refilling waits
        self.pages_running = 0
        self.refill_below = 0

    @property
    def server_cap(self) -> int:
        return self.max_kernels if self.max_kernels > 0 else default_max_kernels()

    def _live(self) -> dict[str, _Owned]:
        for kid in [k for k in self._owned if k not in self]:
            del self._owned[kid]  # shut down or culled
        return self._owned

    # -- the pool
    def pooled(self) -> set[str]:
        """Ids of started kernels in the pool: waiting for a page, or still importing the app."""
        return self._warming | {t.result() for tasks in self._pool.values() for t in tasks
                                if t.done() and not t.cancelled() and t.exception() is None}

    def pool_count(self, notebook: str | None = None) -> int:
        """Kernels in the pool (of one notebook, or of all), started or starting."""
        if notebook is not None:
            return len(self._pool.get(notebook, ()))
        return sum(len(tasks) for tasks in self._pool.values())

    def pool_target(self, notebook: str, now: float | None = None) -> int:
        """How many kernels ``notebook``'s pool should hold now: its base size (:attr:`pool_sizes`) plus
        one for every page that took one in the last :attr:`burst_window` seconds, up to its burst size
        (:attr:`burst_sizes`). A pool drawn down by a burst so grows for the next wave, and shrinks back
        once pages stop coming."""
        base = self.pool_sizes.get(notebook, 0)
        now = time.monotonic() if now is None else now
        taken = self._taken.setdefault(notebook, [])
        taken[:] = [t for t in taken if now - t < self.burst_window]
        return min(max(base, self.burst_sizes.get(notebook, base)), base + len(taken))

    def fill_pools(self) -> None:
        """Start kernels until every pool holds its :meth:`pool_target`, while pages and pools stay under the
        server's cap; shut down waiting kernels a pool no longer needs.

        Refilling never competes with pages: at most :attr:`max_warming` kernels are preheated at a time
        while a page runs (the next starts when one is done; :attr:`refill_below` at a time while none
        does), and none while :attr:`refill_below` or more pages are being run (the execution handler calls
        this again as each page finishes).
        Runs in an empty context: a kernel it starts is never the page's whose request emptied the pool.
        """
        contextvars.Context().run(self._fill)

    def _fill(self) -> None:
        busy = self.refill_below > 0 and self.pages_running >= self.refill_below
        # one kernel at a time beside pages; with no page running, one per turn (a core each)
        at_once = self.max_warming if self.pages_running else max(self.max_warming, self.refill_below)
        for notebook in self.pool_sizes:
            target = self.pool_target(notebook)
            tasks = self._pool.setdefault(notebook, [])
            tasks[:] = [t for t in tasks if not t.done() or (not t.cancelled() and t.exception() is None
                                                            and t.result() in self)]
            while len(tasks) > target and (surplus := [t for t in tasks if t.done()]):
                tasks.remove(surplus[-1])  # a waiting kernel no longer needed
                asyncio.ensure_future(self.shutdown_kernel(surplus[-1].result(), now=True))
            while (not busy and len(tasks) < target and self._in_flight() < at_once
                   and self.count() + self.pool_count() < self.server_cap):
                task = asyncio.ensure_future(self._warm(notebook))
                task.add_done_callback(self._warmed)
                tasks.append(task)

    def _in_flight(self) -> int:
        return sum(not t.done() for tasks in self._pool.values() for t in tasks)

    def _warmed(self, task: asyncio.Task) -> None:
        if not task.cancelled() and task.exception() is None:  # (a failure does not retry at once)
            asyncio.get_running_loop().call_soon(self.fill_pools)

    async def _warm(self, notebook: str) -> str:
        """Start a kernel for ``notebook``'s pages and import its app in it; its id."""
        env = {**os.environ, **self.kernel_env, "VOILA_PREHEAT": "True"}
        kernel_id = await super().start_kernel(kernel_name="python3", path="", env=env)
        self._owned[kernel_id] = _Owned(None, rendering=False)
        self._warming.add(kernel_id)  # (until its task is done, a pool kernel, not a page)
        client = self.get_kernel(kernel_id).client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=120)
            app = os.path.splitext(os.path.basename(notebook))[0]
            reply = await client.execute(WARM_CODE.format(kernel_id=kernel_id, app=app), silent=True,
                                         store_history=False, reply=True, timeout=300)
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"preheating {notebook} failed: {reply['content'].get('evalue')}")
        except Exception:
            await self.shutdown_kernel(kernel_id, now=True)
            raise
        finally:
            client.stop_channels()
            asyncio.get_running_loop().call_soon(self._warming.discard, kernel_id)  # once the task is done
        self.log.info("Kernel %s preheated for %s", kernel_id, notebook)
        return kernel_id

    async def _take(self, notebook: str) -> str | None:
        """A preheated kernel of ``notebook``'s pool (waiting for one still starting), or None."""
        tasks = self._pool.get(notebook, [])
        while tasks:
            ready = [t for t in tasks if t.done()]
            task = ready[0] if ready else tasks[0]
            tasks.remove(task)
            try:
                kernel_id = await task
            except Exception as exc:  # noqa: BLE001 - a kernel that failed to preheat: try the next
                self.log.warning("A preheated kernel for %s failed: %s", notebook, exc)
                continue
            if kernel_id in self:
                return kernel_id
        return None

    # -- counting and caps
    def count(self, owner: str | None = None) -> int:
        """Live and starting pages' kernels, of one link or (``owner=None``) of the whole server.

        Kernels waiting in the pool are nobody's page and are not counted (see :meth:`pool_count`).
        """
        live = self._live()
        if owner is None:
            pooled = self.pooled()
            return sum(kid not in pooled for kid in live) + len(self._pending)
        return sum(o.owner == owner for o in live.values()) + sum(r.owner == owner for r in self._pending)

    def owner_of(self, kernel_id: str) -> str | None:
        o = self._live().get(kernel_id)
        return o.owner if o else None

    def _orphans(self, owner: str | None) -> list[str]:
        now, pooled = time.monotonic(), self.pooled()
        return [kid for kid, o in self._live().items()
                if (owner is None or o.owner == owner) and not o.rendering and kid not in pooled
                and now - o.rendered_at > self.orphan_grace and not self._kernel_connections.get(kid, 0)]

    def _full(self, owner: str) -> tuple[bool, int] | None:
        """(per link?, limit) of the first cap ``owner`` is at, or None when there is room."""
        if self.count(owner) >= self.max_kernels_per_link:
            return True, self.max_kernels_per_link
        if self.count() >= self.server_cap:
            return False, self.server_cap
        return None

    async def reserve(self, owner: str, notebook: str | None = None) -> _Reservation:
        """A slot for one more kernel of ``owner`` (a page of ``notebook``), or :class:`KernelCapReached`."""
        while (full := self._full(owner)) is not None:
            per_link, limit = full
            orphans = self._orphans(owner if per_link else None)
            if not orphans:
                raise KernelCapReached(per_link, limit)
            for kid in orphans:  # (awaiting: other requests may change the counts, so check again)
                self.log.info("Shutting down kernel %s: no page is connected and %s needs the room", kid,
                              "its link" if per_link else "the server")
                try:
                    await self.shutdown_kernel(kid)
                except KeyError:
                    pass  # already gone
        res = _Reservation(owner, notebook)
        self._pending.append(res)
        return res

    def release(self, res: _Reservation) -> None:
        """The page is sent (or failed): its kernel, if any, may now be reclaimed once orphaned."""
        if res in self._pending:
            self._pending.remove(res)
        if res.kernel_id and res.kernel_id in self._owned:
            o = self._owned[res.kernel_id]
            o.rendering, o.rendered_at = False, time.monotonic()

    async def start_kernel(self, **kwargs):
        """The page's kernel: a preheated one when its app's pool has one, else a new one."""
        res = _RESERVATION.get()
        kernel_id = None
        if res is not None and res.notebook in self.pool_sizes:
            kernel_id = await self._take(res.notebook)
            self._taken.setdefault(res.notebook, []).append(time.monotonic())
            if kernel_id is not None:
                # it has waited idle (never culled while pooled): its page starts its clock now, or the
                # culler could shut it down between this hand-over and the page's first message
                kernel = self._kernels.get(kernel_id)
                if hasattr(kernel, "last_activity"):
                    kernel.last_activity = utcnow()
                env = kwargs.get("env") or {}
                request = {k: v for k, v in env.items() if k in REQUEST_VARIABLES or k.startswith("HTTP_")}
                RequestInfoSocketHandler.send_updates({"kernel_id": kernel_id, "payload": request})
                self.log.info("Page of %s given preheated kernel %s", res.notebook, kernel_id)
            asyncio.get_running_loop().call_later(0.5, self.fill_pools)
        if kernel_id is None:
            kernel_id = await super().start_kernel(**kwargs)
        if res is not None and res.kernel_id is None:
            res.kernel_id = kernel_id
            if res in self._pending:
                self._pending.remove(res)
            self._owned[kernel_id] = _Owned(res.owner)
        elif kernel_id not in self._owned:
            self._owned[kernel_id] = _Owned(None, rendering=False)
        return kernel_id

    async def shutdown_kernel(self, kernel_id: str, *args, **kwargs):
        RequestInfoSocketHandler._cache.pop(kernel_id, None)
        result = await super().shutdown_kernel(kernel_id, *args, **kwargs)
        for tasks in self._pool.values():  # a waiting kernel shut down (by an operator): start another
            if any(t.done() and not t.cancelled() and t.exception() is None and t.result() == kernel_id
                   for t in tasks):
                tasks[:] = [t for t in tasks if not (t.done() and not t.cancelled() and t.exception() is None
                                                     and t.result() == kernel_id)]
        return result

    async def cull_kernel_if_idle(self, kernel_id: str):
        if kernel_id in self.pooled():
            return None  # waiting for a page, not idle
        return await super().cull_kernel_if_idle(kernel_id)


# ---------------------------------------------------------------- pages and logging
#: the refusal, landing and error pages (``string.Template``: $title, $paragraphs, $status)
PAGE = Template((Path(__file__).resolve().parent / "share" / "pages" / "message.html").read_text(encoding="utf-8"))
#: what the server root shows: what this is and how to get in (never a listing of the notebooks)
LANDING = ("This server shows each person their own leadership-development page: a leader's profile, "
           "plan and progress, a facilitator's cohort, or a feedback form.",
           "Open it with the personal link you were sent. Leaders get theirs from their facilitator; "
           "people asked for feedback, in the invitation; facilitators, from whoever runs the workbench.")
#: what a refused link should do next
ASK_FOR_A_LINK = ("Ask your facilitator for a new link (if you were asked for feedback: the person who "
                  "sent you the invitation).")


def message_page(status: int, title: str, *paragraphs: str) -> str:
    """A small self-contained HTML page in the apps' look (no scripts, no external assets)."""
    paras = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return PAGE.substitute(title=html.escape(title), paragraphs=paras,
                           status="" if status == 200 else f"HTTP {status}")


def redact_uri(uri: str) -> str:
    """The request URI with every ``token`` query value replaced by its short hash."""
    path, sep, query = uri.partition("?")
    if not sep:
        return uri
    pairs = [(k, f"sha256:{token_digest(v)}" if k == "token" else v) for k, v in parse_qsl(query, keep_blank_values=True)]
    return f"{path}?{urlencode(pairs, safe=':/')}"


class RedactedMixin:
    """Every handler of the server: log lines show the request with links redacted."""

    def _request_summary(self) -> str:
        return f"{self.request.method} {redact_uri(self.request.uri)} ({self.request.remote_ip})"


def log_request(handler: web.RequestHandler) -> None:
    """The access log, like tornado's, with links redacted."""
    status = handler.get_status()
    logger = log.debug if status < 400 else log.warning if status < 500 else log.error
    r = handler.request
    logger("%d %s %s (%s) %.1fms", status, r.method, redact_uri(r.uri), r.remote_ip, 1000 * r.request_time())


class MessagePageMixin(RedactedMixin):
    """Errors answered with :func:`message_page` rather than Voilà's page or a traceback."""

    def write_error(self, status_code: int, **kwargs) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        title = {403: "Cannot open this page", 404: "Nothing here"}.get(status_code, "Something went wrong")
        text = exc.reason if isinstance(exc, web.HTTPError) and exc.reason and status_code != 404 else None
        if text:
            paragraphs = [text]
        elif status_code < 500:
            paragraphs = ["Open the page with the personal link you were sent.", ASK_FOR_A_LINK]
        else:
            paragraphs = ["The server could not open this page. Please try again in a minute."]
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(message_page(status_code, title, *paragraphs))


class LandingPage(MessagePageMixin, web.RequestHandler):
    """The server root: what this is and how to get in, in the apps' look (no listing of notebooks)."""

    def get(self):
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(message_page(200, "Leadership Workbench", *LANDING))


class NotFoundPage(MessagePageMixin, web.RequestHandler):
    """Every route the pages do not need: a styled 404 (the folder of notebooks is never listed)."""

    def prepare(self):
        raise web.HTTPError(404)


def _sentence(text: str) -> str:
    """``text`` with a capital and a full stop."""
    text = text.strip()
    return (text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")) if text else text


def _owner_cookie_name(owner: str) -> str:
    return COOKIE_PREFIX + owner[:16]


class OwnerMixin(RedactedMixin):
    """Kernel endpoints: only the browser that opened the kernel's page (its link cookie)."""

    def check_kernel_owner(self, kernel_id: str) -> None:
        km = self.settings["kernel_manager"]
        if kernel_id not in km:
            raise web.HTTPError(404, "no such kernel")
        owner = km.owner_of(kernel_id)
        cookie = self.get_signed_cookie(_owner_cookie_name(owner), max_age_days=2) if owner else None
        if owner is None or cookie is None or cookie.decode() != owner:
            raise web.HTTPError(403, "only the browser that opened this kernel's page may use it")


class GuardedKernelHandler(OwnerMixin, KernelHandler):
    """``GET``/``DELETE /api/kernels/<id>``: the page reads its kernel's model; only its owner may."""

    async def prepare(self):
        await super().prepare()
        self.check_kernel_owner(self.path_kwargs.get("kernel_id") or self.path_args[0])


class GuardedShutdownHandler(OwnerMixin, VoilaShutdownKernelHandler):
    """``POST /voila/api/shutdown/<id>``: a page may shut down its own kernel, no other."""

    async def prepare(self):
        await super().prepare()
        self.check_kernel_owner(self.path_args[0])


class _PlainErrors:
    """Websocket handlers: a refused handshake is answered in plain text (Jupyter's HTML error page
    needs settings this server does not have)."""

    def write_error(self, status_code: int, **kwargs) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        text = exc.log_message if isinstance(exc, web.HTTPError) and exc.log_message else self._reason
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(f"{status_code}: {text}\n")


class _Turn:
    """A page's turn to run (one of ``WorkbenchVoila.max_executing``), asked for once its first content is
    sent and held until its run ends, or for at most ``seconds``."""

    def __init__(self, turns: asyncio.Semaphore, seconds: float):
        self.turns, self.seconds = turns, seconds
        self.asked = self.held = False
        self._timer: asyncio.TimerHandle | None = None

    async def take(self) -> None:
        self.asked = True
        await self.turns.acquire()
        self.held = True
        self._timer = asyncio.get_running_loop().call_later(self.seconds, self.release)

    def release(self) -> None:
        if self.held:
            self.held = False
            self.turns.release()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


def _shows_something(message) -> bool:
    """Whether an execution-socket message is a cell result with outputs (the page's first content, once)."""
    if not isinstance(message, dict) or message.get("action") != "execution_result":
        return False
    return bool(message.get("payload", {}).get("output_cell", {}).get("outputs"))


class GuardedExecutionHandler(_PlainErrors, OwnerMixin, ExecutionRequestHandler):
    """``/voila/execution/<id>``: the websocket through which the page asks Voilà to run it.

    Every page runs at once up to its first content (the leader's header: a few milliseconds of a
    preheated kernel); from there on pages run a few at a time (``WorkbenchVoila.max_executing``, one
    per core by default), in the order they showed their first content: when many open at once, all
    show their headers first and then each builds its tab in turn, instead of all sharing the
    processor and all finishing late. A page holds its turn for at most ``turn_seconds``. While as many
    pages run as there are turns, no kernel is preheated (:meth:`GuardedKernelManager.fill_pools`).
    """

    async def get(self, kernel_id, *args, **kwargs):
        self.check_kernel_owner(kernel_id)
        return await super().get(kernel_id, *args, **kwargs)

    def on_message(self, message):
        # Run in the background: tornado reads no frame of a socket (not even the answers to its own
        # keep-alive pings) while ``on_message`` is running, so a page waiting its turn in a burst
        # was dropped once the ping timeout passed.
        self._page_run = asyncio.ensure_future(self._run_page(message))
        self._page_run.add_done_callback(self._page_done)

    async def _run_page(self, message):
        turns: asyncio.Semaphore | None = self.settings.get("workbench_turns")
        km = self.settings["kernel_manager"]
        if turns is not None:
            self._turn = _Turn(turns, self.settings.get("workbench_turn_seconds", 60.0))
        running = isinstance(km, GuardedKernelManager)
        if running:
            km.pages_running += 1
        try:
            return await super().on_message(message)
        finally:
            if turns is not None:
                self._turn.release()
            if running:
                km.pages_running -= 1
                km.fill_pools()

    def write_message(self, message, binary=False):
        sent = super().write_message(message, binary)
        turn: _Turn | None = getattr(self, "_turn", None)
        if turn is not None and not turn.asked and _shows_something(message):
            return self._then_take_turn(sent, turn)  # Voilà awaits this before it runs the next cell
        return sent

    async def _then_take_turn(self, sent, turn: _Turn) -> None:
        await sent
        await turn.take()

    def _page_done(self, run: asyncio.Future) -> None:
        if not run.cancelled() and run.exception() is not None:
            exc = run.exception()
            if isinstance(exc, WebSocketClosedError):  # the page went away while it ran
                return
            log.error("running the page of kernel %s failed", getattr(self, "_kernel_id", "?"),
                      exc_info=(type(exc), exc, exc.__traceback__))


def _requested_protocols(handler: web.RequestHandler) -> list[str]:
    header = handler.request.headers.get("Sec-WebSocket-Protocol", "")
    return [p.strip() for p in header.split(",") if p.strip()]


def _v1_header(message: bytes) -> dict | None:
    """The header of a v1 binary kernel message, read defensively (None if it is not one)."""
    import json

    if len(message) < 8:
        return None
    count = int.from_bytes(message[:8], "little")
    if not 3 <= count <= len(message) // 8:  # a v1 message starts with its offsets table
        return None
    start = int.from_bytes(message[16:24], "little")
    end = int.from_bytes(message[24:32], "little")
    if not 0 <= start <= end <= len(message):
        return None
    try:
        return json.loads(message[start:end].decode("utf-8"))
    except ValueError:
        return None


class GuardedChannelsHandler(_PlainErrors, OwnerMixin, VoilaKernelWebsocketHandler):
    """``/api/kernels/<id>/channels``: the v1 subprotocol only, and only the page's owner."""

    async def get(self, kernel_id, *args, **kwargs):
        if KERNEL_WS_PROTOCOL not in _requested_protocols(self):
            raise web.HTTPError(400, "kernel websocket without the %s subprotocol refused", KERNEL_WS_PROTOCOL)
        self.check_kernel_owner(kernel_id)
        return await super().get(kernel_id, *args, **kwargs)

    def select_subprotocol(self, subprotocols):
        return KERNEL_WS_PROTOCOL if KERNEL_WS_PROTOCOL in subprotocols else None

    def write_message(self, message, binary=False):
        # Voilà's own version trusts the first 8 bytes as a count of offsets; read them with bounds
        header = _v1_header(message) if isinstance(message, bytes) else (
            message.get("header") if isinstance(message, dict) else None)
        if header and header.get("msg_type") == "execute_input":
            return None
        return super(VoilaKernelWebsocketHandler, self).write_message(message, binary)


#: a kernel proves it is this server's with this header, holding the key in its environment
#: (the same names as in :mod:`workbench.apps._kernel`, which runs in the kernels)
KERNEL_KEY_HEADER = "X-Workbench-Kernel-Key"
KERNEL_KEY_ENV = "WORKBENCH_KERNEL_KEY"


class GuardedQueryHandler(MessagePageMixin, RequestInfoSocketHandler):
    """``/voila/query/<id>``: where a preheated kernel waits for its page's request (and query string).

    Voilà's own handler gives the request of a kernel's page to whoever connects first with the
    kernel's id, and keeps it. Here only a kernel of this server may connect (it proves it with the
    random key the server put in its kernels' environment, never sent to a browser), and the request
    is forgotten once given.
    """

    async def get(self, kernel_id, *args, **kwargs):
        key = self.request.headers.get(KERNEL_KEY_HEADER, "")
        expected = self.settings.get("workbench_kernel_key", "")
        if not expected or not hmac.compare_digest(key.encode(), expected.encode()):
            raise web.HTTPError(404)
        if kernel_id not in self.settings["kernel_manager"]:
            raise web.HTTPError(404)
        return await super().get(kernel_id, *args, **kwargs)

    def open(self, kernel_id: str) -> None:
        super().open(kernel_id)
        if RequestInfoSocketHandler._cache.pop(kernel_id, None) is not None:
            self.close()

    def on_close(self) -> None:
        for kid in [k for k, w in RequestInfoSocketHandler._waiters.items() if w is self]:
            del RequestInfoSocketHandler._waiters[kid]


class PageHandler(MessagePageMixin, TornadoVoilaHandler):
    """``/voila/render/<app>.ipynb``: the gate, the kernel caps and the link cookie, then Voilà."""

    async def get(self, path=None):
        km = self.settings["kernel_manager"]
        name = os.path.basename(path or "")
        token = self.get_query_argument("token", default=None)
        digest = token_digest(token)
        try:
            subject = check_request(name, token)
        except InvalidLink as exc:
            log.warning("gate: refused %s for link sha256:%s: %s", name, digest, exc)
            self.set_status(403)
            self.finish(message_page(403, "Cannot open this page", _sentence(str(exc)), ASK_FOR_A_LINK))
            return
        # the kernels of a link are those of whoever it names (every link of one leader counts together)
        owner = token_digest(f"{APP_KINDS[name]}:{subject}", full=True)
        try:
            res = await km.reserve(owner, name)
        except KernelCapReached as full:
            log.warning("gate: %s full (%d kernels) for link sha256:%s", "link" if full.per_link else "server",
                        full.limit, digest)
            self.set_status(429 if full.per_link else 503)
            self.set_header("Retry-After", "60")
            if full.per_link:
                text = (f"This link already has {full.limit} pages open. Close one of them (or wait a few "
                        "minutes after closing it) and reload this page.")
            else:
                text = "The server has as many pages open as it can hold. Please try again in a few minutes."
            self.finish(message_page(self.get_status(), "Too many open pages", text))
            return
        log.info("gate: opened %s for link sha256:%s", name, digest)
        self.set_signed_cookie(_owner_cookie_name(owner), owner, expires_days=1, httponly=True,
                               samesite="Strict", path=self.base_url or "/",
                               secure=self.request.protocol == "https"
                               or self.request.headers.get("X-Forwarded-Proto") == "https")
        ctx_token = _RESERVATION.set(res)
        try:
            await super().get(path)
        finally:
            _RESERVATION.reset(ctx_token)
            km.release(res)


#: Voilà's handlers kept as they are: its page's own static assets
_KEEP = ("TemplateStaticFileHandler", "MultiStaticFileHandler", "ThemesHandler", "FileFindHandler")
_REPLACE = {
    KernelHandler: GuardedKernelHandler,
    VoilaKernelWebsocketHandler: GuardedChannelsHandler,
    VoilaShutdownKernelHandler: GuardedShutdownHandler,
    ExecutionRequestHandler: GuardedExecutionHandler,
    TornadoVoilaHandler: PageHandler,
}


class _TemplateBytecode(jinja2.BytecodeCache):
    """The page templates, compiled once per server process.

    Voilà makes a new exporter, with a new jinja environment, for every page, so every page compiled the
    lab template and its parents again (about 0.04 s of the server's single thread per page here); the
    compiled code is kept by template and source checksum, so a changed template is compiled afresh."""

    def __init__(self):
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


def _keep_compiled_templates() -> None:
    """Make Voilà's page renderer use exporters whose environments share :class:`_TemplateBytecode`."""
    from voila import notebook_renderer
    from voila.exporter import VoilaExporter

    if getattr(notebook_renderer.VoilaExporter, "_workbench_bytecode", None) is not None:
        return
    code = _TemplateBytecode()

    class Exporter(VoilaExporter):
        _workbench_bytecode = code

        def _create_environment(self):
            env = super()._create_environment()
            env.bytecode_cache = code
            return env

    notebook_renderer.VoilaExporter = Exporter


def _redacted(cls: type) -> type:
    return type(cls.__name__, (RedactedMixin, cls), {})


class ChartCodeHandler(RedactedMixin, web.StaticFileHandler):
    """plotly's chart widget code (:mod:`workbench.apps.assets`): one file, at a URL that names plotly's
    version, so browsers may keep it for a year."""

    @classmethod
    def get_cache_time(cls, path, modified, mime_type) -> int:
        return 365 * 24 * 3600


class WorkbenchVoila(Voila):
    """Voilà with the guarded route table and preheated kernels (see the module's docstring)."""

    max_executing = Integer(0, config=True, help="Pages run at the same time (0: one per core); the others wait "
                                                 "their turn in order.")
    turn_seconds = Float(60.0, config=True, help="Longest a page holds its turn before the next one starts.")
    leader_pool = Integer(-1, config=True, help="Preheated kernels kept waiting for leader pages (-1: the server's "
                                                "kernel cap over 8, between 1 and 6; 0: none). See "
                                                "default_pool_sizes.")
    leader_burst = Integer(-1, config=True, help="Most preheated kernels for leader pages while pages draw the pool "
                                                 "down (-1: the server's kernel cap over 4). See default_burst_sizes.")

    def init_settings(self):
        # every kernel this server starts knows the key with which it may ask for its page's request
        key = secrets.token_hex(16)
        os.environ[KERNEL_KEY_ENV] = key
        settings = super().init_settings()
        km = self.kernel_manager
        if isinstance(km, GuardedKernelManager):
            if not km.pool_sizes:
                km.pool_sizes = default_pool_sizes(km.server_cap, self.leader_pool)
            if not km.burst_sizes:
                km.burst_sizes = default_burst_sizes(km.server_cap, km.pool_sizes, self.leader_burst)
            km.refill_below = self.max_executing or os.cpu_count() or 1
            km.kernel_env = {
                "VOILA_APP_IP": self.ip if self.ip not in ("", "0.0.0.0", "::", "localhost") else "127.0.0.1",
                "VOILA_APP_PORT": str(self.port), "VOILA_SERVER_URL": self.server_url or "/",
                "VOILA_BASE_URL": self.base_url, **km.kernel_env}
            IOLoop.current().add_callback(km.fill_pools)
        settings["log_function"] = log_request
        _keep_compiled_templates()
        turns = self.max_executing or os.cpu_count() or 1
        settings["workbench_turns"] = asyncio.Semaphore(turns)
        settings["workbench_turn_seconds"] = self.turn_seconds
        settings["workbench_kernel_key"] = key
        log.handlers[:] = self.log.handlers  # the gate's lines go where Voilà's go
        log.setLevel(logging.INFO)
        log.propagate = False
        if isinstance(km, GuardedKernelManager):
            log.info("preheated kernels per app: %s, growing in bursts up to %s (server cap %d)", km.pool_sizes,
                     km.burst_sizes, km.server_cap)
            PeriodicCallback(km.fill_pools, 30_000).start()  # pools shrink back once bursts are over
        return settings

    def init_handlers(self):
        kept = []
        for spec in super().init_handlers():
            pattern, cls, *rest = spec
            if cls in _REPLACE:
                kept.append((pattern, _REPLACE[cls], *rest))
            elif cls.__name__ in _KEEP:
                kept.append((pattern, _redacted(cls), *rest))
            # everything else (tree, contents, files, login, ...) falls through to the 404 page
        # where preheated kernels wait for their page's request (only this server's kernels may connect)
        kept.append((url_path_join(self.server_url, r"/voila/query/" + _kernel_id_regex), GuardedQueryHandler))
        # the charts' code, fetched once per browser instead of sent with every chart (apps/assets.py)
        chart_code = f"/{re.escape(assets.bundle_folder())}/({re.escape(assets.BUNDLE)})"  # that one file only
        kept.append((url_path_join(self.server_url, chart_code), ChartCodeHandler, {"path": str(assets.bundle_dir())}))
        return [*kept, (url_path_join(self.server_url, r"/?"), LandingPage), (r"/.*", NotFoundPage)]


main = WorkbenchVoila.launch_instance

if __name__ == "__main__":  # run the package's copy: the config names its kernel manager by import path
    from workbench.apps.server import main as _main

    _main()
