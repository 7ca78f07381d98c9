"""Two ``workbench serve`` processes behind Debian's nginx, sharing one PostgreSQL database.

nginx runs unprivileged from a temporary directory on a free loopback port, with the
configuration of ``docs/deployment.md``: websocket upgrade headers, no response buffering (pages
render progressively) and a sticky route per browser (a ``wb_route`` cookie nginx sets from the
request id when absent, hashed to pick the backend), because a page's kernel lives in one process.
A leader answers through one backend; their page through the other shows the answers.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from workbench.apps.serving import background, free_port, serve_command, wait_for_port
from workbench.services.identity import app_url, make_token

from .conftest import SECRET, shot
from .test_journeys import answer, answered, tab

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.postgres, pytest.mark.xdist_group("voila")]
TIMEOUT = 120_000
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
LEADER = "P0001"

#: the site of docs/deployment.md, with the paths of a temporary directory
NGINX_CONF = """
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
daemon off;
events {{ worker_connections 512; }}
http {{
    access_log {root}/access.log;
    client_body_temp_path {root}/tmp/body;
    proxy_temp_path {root}/tmp/proxy;
    fastcgi_temp_path {root}/tmp/fastcgi;
    uwsgi_temp_path {root}/tmp/uwsgi;
    scgi_temp_path {root}/tmp/scgi;

    map $http_upgrade $connection_upgrade {{ default upgrade; "" close; }}
    # one route per browser: its wb_route cookie, or (first visit) this request's id
    map $cookie_wb_route $wb_route {{ "" $request_id; default $cookie_wb_route; }}

    upstream workbench {{
        hash $wb_route consistent;
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://workbench;
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_buffering off;
            proxy_read_timeout 1h;
            add_header Set-Cookie "wb_route=$wb_route; Path=/; HttpOnly; SameSite=Lax" always;
            add_header X-Workbench-Upstream $upstream_addr always;
        }}
    }}
}}
"""


@pytest.fixture
def shared_db(postgres_url) -> str:
    """An empty PostgreSQL database with one new leader."""
    from workbench.store import connect
    from workbench.store import models as m
    from workbench.store.db import transaction

    eng = connect(postgres_url)
    with transaction(eng) as s:
        s.add(m.Organization(id="proxyorg", name="Proxy Org"))
        s.flush()
        s.add(m.Cohort(id="PC1", organization_id="proxyorg", name="Cohort P"))
        s.flush()
        s.add(m.Leader(id=LEADER, organization_id="proxyorg", cohort_id="PC1", name="Pat Proxy",
                       role_level="first-time", first_time=True, weekly_minutes=60))
    eng.dispose()
    return postgres_url


@pytest.fixture
def proxy(shared_db, tmp_path):
    """nginx on a free port in front of two ``workbench serve``; yields (proxy URL, backend addresses)."""
    if not Path(NGINX).exists():
        pytest.skip("nginx is not installed (scripts/system-deps.sh installs it)")
    ports = [free_port(), free_port()]
    env = {"WORKBENCH_SECRET": SECRET, "WORKBENCH_HOME": str(tmp_path)}
    root = tmp_path / "nginx"
    (root / "tmp").mkdir(parents=True)
    port = free_port()
    servers = "\n".join(f"        server 127.0.0.1:{p};" for p in ports)
    (root / "nginx.conf").write_text(NGINX_CONF.format(root=root, port=port, servers=servers))
    base = f"http://127.0.0.1:{port}"
    with background(serve_command(shared_db, ports[0], "--base-url", base), ports[0], env=env,
                    log=tmp_path / "a.log"), \
            background(serve_command(shared_db, ports[1], "--base-url", base), ports[1], env=env,
                       log=tmp_path / "b.log"):
        ngx = subprocess.Popen([NGINX, "-p", str(root), "-c", str(root / "nginx.conf"), "-e", str(root / "error.log")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            wait_for_port(port, timeout=30)
            yield base, {f"127.0.0.1:{p}" for p in ports}
        finally:
            ngx.terminate()
            ngx.wait(timeout=20)


def routes_to(base: str, backends: set[str]) -> dict[str, str]:
    """A ``wb_route`` cookie value for each backend (nginx's consistent hash decides which)."""
    found: dict[str, str] = {}
    for i in range(200):
        found.setdefault(_upstream(base, f"probe{i}"), f"probe{i}")
        if len(found) == len(backends):
            break
    assert set(found) == backends
    return found


def _upstream(base: str, route: str) -> str:
    import urllib.request

    req = urllib.request.Request(f"{base}/voila/static/voila.js", headers={"Cookie": f"wb_route={route}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.headers["X-Workbench-Upstream"]


def test_an_answer_saved_through_one_server_shows_through_the_other(proxy, browser):
    base, backends = proxy
    route = routes_to(base, backends)
    first, second = sorted(route)
    url = app_url(base, "leader.ipynb", make_token("leader", LEADER, key=SECRET))

    def open_via(backend: str):
        ctx = browser.new_context(viewport={"width": 1200, "height": 900})
        ctx.add_cookies([{"name": "wb_route", "value": route[backend], "url": base}])
        page = ctx.new_page()
        response = page.goto(url, timeout=TIMEOUT)
        assert response.headers["x-workbench-upstream"] == backend  # this page's kernel lives there
        page.locator(".wb-leader-header").wait_for(state="visible", timeout=TIMEOUT)
        tab(page, ".wb-leader-tabs", "Assessment")
        page.locator(".wb-assessment-option").first.wait_for(state="visible", timeout=TIMEOUT)
        return ctx, page

    ctx, page = open_via(first)
    try:
        assert answer(page, until=3) == 3  # each answer saved, over the websocket, through nginx
        shot(page, "proxy-first-backend")
    finally:
        page.close()
        ctx.close()
    ctx, page = open_via(second)
    try:
        assert answered(page) == 3  # the other process reads the same PostgreSQL
        shot(page, "proxy-second-backend")
    finally:
        page.close()
        ctx.close()
