"""The ``workbench`` command line.

Every command exits 0 on success and 1 with a one-line ``error: ...`` on bad input, never
with a traceback. Heavy imports (pandas, the store, PyMC) happen inside the commands so
``workbench --help`` stays instant.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from . import limits as L
from .apps.registry import COHORT, LEADER, RATER

app = typer.Typer(help="Leadership Workbench: assessment, learning plans, practice and analytics.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
content_app = typer.Typer(help="Check the authored content library.", no_args_is_help=True)
xapi_app = typer.Typer(help="Export and import activity as xAPI statements.", no_args_is_help=True)
cat_app = typer.Typer(help="Adaptive assessment (computerized adaptive testing).", no_args_is_help=True)
app.add_typer(cat_app, name="cat")
scenario_app = typer.Typer(help="Branching practice scenarios.", no_args_is_help=True)
app.add_typer(scenario_app, name="scenario")
cohort_app = typer.Typer(help="Learning together: peer groups and classroom sessions.", no_args_is_help=True)
app.add_typer(cohort_app, name="cohort")
experiment_app = typer.Typer(help="A/B experiments of recommendation strategies on simulated leaders.",
                             no_args_is_help=True)
app.add_typer(experiment_app, name="experiment")
invitations_app = typer.Typer(help="Multi-rater (360) feedback: invite raters, follow up, remind.",
                              no_args_is_help=True)
app.add_typer(invitations_app, name="invitations")
responses_app = typer.Typer(help="Assessment responses in the store.", no_args_is_help=True)
app.add_typer(responses_app, name="responses")
calibrations_app = typer.Typer(help="Published calibrations: list, activate, roll back.", no_args_is_help=True)
app.add_typer(calibrations_app, name="calibrations")
app.add_typer(content_app, name="content")
app.add_typer(xapi_app, name="xapi")

REPO = Path(__file__).resolve().parents[1]
APPS_DIR = REPO / "notebooks" / "apps"
DEFAULT_PORT = 8866

DbOption = Annotated[str | None, typer.Option("--db", help="SQLAlchemy URL (default: $WORKBENCH_DB or .workbench/workbench.db).")]
ContentOption = Annotated[Path | None, typer.Option("--content", help="Content folder (default: ./content).")]


class CliError(Exception):
    """A user-facing failure: printed as one line, exit code 1."""


def fail(message: str) -> None:
    raise CliError(message)


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except (CliError, typer.Exit, typer.Abort):
        raise
    except Exception as exc:  # every other failure becomes one readable line
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(exc, SQLAlchemyError):
            msg = f"database error: {str(exc.orig if getattr(exc, 'orig', None) else exc).splitlines()[0]}"
        else:
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CliError(msg) from exc


def _engine(db: str | None):
    from .store import connect

    return connect(db)


def _library(path: Path | None):
    from .content import Library

    return Library.load(path)


# ------------------------------------------------------------------ content
@content_app.command("check")
def content_check(path: Annotated[Path | None, typer.Argument(help="Content folder (default: ./content).")] = None) -> None:
    """Report every problem in the library with file, field and reason; exit 1 on any.

    A library that loads is also measured for test-wise cues (best option longest, length ratio,
    absurd-option markers, answer position); their figures are printed whatever the outcome.
    """
    from .content import check, cue_report, default_content_path

    with _errors():
        root = path or default_content_path()
        problems = check(root, cues=False)
    if problems:
        for p in problems:
            typer.echo(str(p))
        typer.echo(f"{len(problems)} problem(s) in {root}", err=True)
        raise typer.Exit(1)
    lib = _library(root)
    report = cue_report(lib)
    for line in report.lines():
        typer.echo(f"test-wise cues: {line}")
    if report.problems:
        for p in report.problems:
            typer.echo(str(p))
        typer.echo(f"{len(report.problems)} problem(s) in {root}", err=True)
        raise typer.Exit(1)
    typer.echo(
        f"ok: {len(lib.competencies)} competencies, {len(lib.items)} items, {len(lib.modules)} modules, "
        f"{len(lib.scenarios)} scenarios, {len(lib.moments)} moments in {root}"
    )


# --------------------------------------------------------------------- demo
@app.command()
def demo(
    seed: Annotated[int, typer.Option(min=0, max=L.MAX_SEED, help="Random seed; the same seed gives the same organization.")] = 7,
    as_of: Annotated[str | None, typer.Option("--as-of", help="The demo's 'today' (YYYY-MM-DD; default today).")] = None,
    db: DbOption = None,
    content: ContentOption = None,
    force: Annotated[bool, typer.Option("--force", help="Rebuild the demo organization even if the store has one "
                                                          "(what users did in it is lost).")] = False,
) -> None:
    """Build the demo organization in the store; an existing one is kept unless --force."""
    import time

    from .demo import DEMO_ORG, build_demo, demo_exists

    started = time.monotonic()

    def step(msg: str) -> None:
        typer.echo(f"[{time.monotonic() - started:5.1f}s] {msg}", err=True)

    with _errors():
        try:
            day = date.fromisoformat(as_of) if as_of else None
        except ValueError:
            fail(f"--as-of {as_of!r} is not a date (YYYY-MM-DD)")
        lib = _library(content)
        engine = _engine(db)
        if not force and demo_exists(engine):
            typer.echo(f"demo organization '{DEMO_ORG}' already in the store: kept as it is "
                       "(rebuild it with `workbench demo --force` or `make demo`)")
            return
        summary = build_demo(engine, lib, seed=seed, as_of=day, progress=step)
    typer.echo(
        f"demo organization '{summary.organization_id}': {summary.leaders} leaders in {summary.cohorts} cohorts, "
        f"{summary.sessions} assessment sessions, {summary.responses} responses, {summary.events} activity events"
    )


# ------------------------------------------------------------- link / serve
def _server_file() -> Path:
    from .services.identity import state_dir

    return state_dir() / "server.json"


@app.command()
def link(
    leader: Annotated[str | None, typer.Option(help="Leader id: a link to their leader app.")] = None,
    facilitator: Annotated[str | None, typer.Option(help="Cohort id: a facilitator link to the cohort app.")] = None,
    rater: Annotated[str | None, typer.Option(help="Invitation id: a rater's link to their rater form.")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="Server address (default: the running 'workbench serve').")] = None,
    db: DbOption = None,
) -> None:
    """Print a signed link to a leader's app, a facilitator's cohort app, or a rater's form."""
    from .apps.registry import app_for_kind
    from .services import people
    from .services.identity import app_url, make_token

    with _errors():
        given = [(kind, v) for kind, v in (("leader", leader), ("facilitator", facilitator), ("rater", rater))
                 if v is not None]
        if len(given) != 1:
            fail("give exactly one of --leader, --facilitator or --rater")
        kind, subject = given[0]
        engine = _engine(db)
        check = {"leader": people.leader, "facilitator": people.cohort, "rater": people.invitation}[kind]
        check(engine, subject)
        notebook = app_for_kind(kind).notebook
        if kind == "rater":
            from .services.invitations import rater_token

            token = rater_token(engine, subject)  # refuses an expired, withdrawn or submitted invitation
        else:
            token = make_token(kind, subject)
        base_url = _base_url(base_url)
    typer.echo(app_url(base_url, notebook, token))


@app.command()
def serve(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = DEFAULT_PORT,
    db: DbOption = None,
    ip: Annotated[str, typer.Option(help="Address to listen on (behind a reverse proxy: keep 127.0.0.1).")] = "127.0.0.1",
    base_url: Annotated[str | None, typer.Option(
        "--base-url", help="The address people open, e.g. https://wb.example.org/workbench/ behind a proxy: links "
                           "use it and the apps are served under its path (default: http://IP:PORT/).")] = None,
    max_kernels: Annotated[int, typer.Option(
        help="Most pages (kernels) open at once on this server; 0 sizes it to the machine's memory.", min=0)] = 0,
    kernels_per_link: Annotated[int, typer.Option(help="Most pages open at once per signed link.", min=1)] = 3,
    cull_idle: Annotated[int, typer.Option(
        help="Seconds before an idle page no browser is connected to is shut down.", min=30)] = 240,
    preheat: Annotated[int, typer.Option(
        help="Kernels kept started and waiting for leader pages (-1: the kernel cap over 8, between 1 and 6).",
        min=-1)] = -1,
    preheat_burst: Annotated[int, typer.Option(
        help="Most waiting kernels for leader pages while pages draw them down: the pool grows by one for every "
             "page in the last 10 minutes, up to this (-1: the kernel cap over 4; never below --preheat).",
        min=-1)] = -1,
) -> None:
    """Serve the Voilà leader, cohort and rater apps (on 127.0.0.1 unless --ip says otherwise).

    Stop with Ctrl-C or SIGTERM: Voilà and every page's kernel stop with it.
    """
    import os
    from urllib.parse import urlsplit

    from .services.identity import app_url, make_token, secret

    with _errors():
        if not (APPS_DIR / LEADER.notebook).exists():
            fail(f"app notebooks not found in {APPS_DIR}")
        url = base_url or f"http://{ip}:{port}/"
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            fail(f"--base-url must be an http(s) address like https://wb.example.org/, not {url!r}")
        path = "/" + parts.path.strip("/") + "/" if parts.path.strip("/") else "/"
        engine = _engine(db)
        from .services.people import first_leader

        first = first_leader(engine)
        env = dict(os.environ)
        env["WORKBENCH_DB"] = str(engine.url.render_as_string(hide_password=False))
        env["WORKBENCH_SECRET"] = secret()
        env.setdefault("OPENBLAS_NUM_THREADS", "1")
        url = url.rstrip("/")
        sf = _server_file()
        sf.parent.mkdir(parents=True, exist_ok=True)
        sf.write_text(json.dumps({"url": url, "pid": os.getpid()}))
    from .apps.serving import run_until_signalled, voila_command

    cmd = voila_command(APPS_DIR, port, ip=ip, base_url=path, max_kernels=max_kernels,
                        kernels_per_link=kernels_per_link, cull_idle=cull_idle, leader_pool=preheat,
                        leader_burst=preheat_burst)
    typer.echo(f"Serving the Leadership Workbench apps at {url} (listening on {ip}:{port})")
    if first is not None and sys.stdout.isatty():  # links are bearer secrets: never into a log file
        typer.echo(f"A demo leader's page: {app_url(url, LEADER.notebook, make_token(LEADER.token_kind, first.id))}")
        if first.cohort_id:
            typer.echo(f"Their facilitator's page: {app_url(url, COHORT.notebook, make_token(COHORT.token_kind, first.cohort_id))}")
    typer.echo("Links: workbench link --leader ID | --facilitator COHORT_ID. Stop with Ctrl-C.")
    sys.stdout.flush()
    try:
        raise typer.Exit(run_until_signalled(cmd, env=env, cwd=str(APPS_DIR)))
    finally:
        sf.unlink(missing_ok=True)


# ------------------------------------------------------------ invitations
def _base_url(base_url: str | None) -> str:
    if base_url is not None:
        return base_url
    sf = _server_file()
    return json.loads(sf.read_text())["url"] if sf.exists() else f"http://127.0.0.1:{DEFAULT_PORT}"


def _one_of(leader: str | None, cohort: str | None) -> None:
    if (leader is None) == (cohort is None):
        fail("give exactly one of --leader or --cohort")


BaseUrlOption = Annotated[str | None, typer.Option("--base-url", help="Server address for links (default: the running 'workbench serve').")]


@invitations_app.command("add")
def invitations_add(
    leader: Annotated[str, typer.Argument(help="The leader to be rated.")],
    role: Annotated[str, typer.Option(help="manager, peer or direct_report.")],
    name: Annotated[str | None, typer.Option(help="The rater's name.")] = None,
    email: Annotated[str | None, typer.Option(help="The rater's email.")] = None,
    days: Annotated[int, typer.Option(help="Days the invitation stays open.")] = 21,
    by: Annotated[str | None, typer.Option("--by", help="Who invites: the leader's id or facilitator:COHORT.")] = None,
    base_url: BaseUrlOption = None,
    db: DbOption = None,
) -> None:
    """Invite a rater for a leader and print the invitation id and the rater's signed link."""
    from .services.identity import app_url
    from .services.invitations import invite, rater_token

    with _errors():
        engine = _engine(db)
        inv = invite(engine, leader, role, name=name, email=email, invited_by=by, days=days)
        link = app_url(_base_url(base_url), RATER.notebook, rater_token(engine, inv.id))
    typer.echo(f"invitation {inv.id} ({role} of {leader}, open until {inv.expires_at:%Y-%m-%d})")
    typer.echo(link)


@invitations_app.command("list")
def invitations_list(
    leader: Annotated[str | None, typer.Option(help="One leader's invitations.")] = None,
    cohort: Annotated[str | None, typer.Option(help="All invitations of a cohort's leaders.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    db: DbOption = None,
) -> None:
    """Invitations with their state (invited, started, submitted, expired, revoked): the facilitator's view."""
    from .services.invitations import cohort_invitations, invitations_for, to_frame

    with _errors():
        _one_of(leader, cohort)
        engine = _engine(db)
        rows = invitations_for(engine, leader) if leader else cohort_invitations(engine, cohort)
        frame = to_frame(rows)
    if as_json:
        typer.echo(frame.to_json(orient="records", date_format="iso", indent=1))
        return
    cols = [c for c in ("id", "leader_id", "role", "name", "status", "expires_at", "reminder_count") if c in frame]
    typer.echo(frame[cols].to_string(index=False) if len(frame) else "no invitations")


@invitations_app.command("remind")
def invitations_remind(
    leader: Annotated[str | None, typer.Option(help="One leader's invitations.")] = None,
    cohort: Annotated[str | None, typer.Option(help="A cohort's invitations.")] = None,
    after_days: Annotated[int, typer.Option(min=0, max=L.MAX_REMINDER_DAYS, help="Remind when no answer after this many days.")] = 3,
    mark: Annotated[bool, typer.Option(help="Record that the reminders were sent.")] = False,
    base_url: BaseUrlOption = None,
    db: DbOption = None,
) -> None:
    """List the reminders due, each with a fresh signed link; --mark records them as sent."""
    from .services.identity import app_url
    from .services.invitations import due_reminders, mark_reminded, rater_token

    with _errors():
        _one_of(leader, cohort)
        engine = _engine(db)
        due = due_reminders(engine, cohort_id=cohort, leader_id=leader, after_days=after_days)
        url = _base_url(base_url)
        lines = [f"{r.id}\t{r.role}\t{r.name or '-'}\t{r.email or '-'}\t{r.status}\t"
                 f"{app_url(url, RATER.notebook, rater_token(engine, r.id))}" for r in due]
        if mark and due:
            mark_reminded(engine, [r.id for r in due])
    for line in lines:
        typer.echo(line)
    typer.echo(f"{len(due)} reminder(s) due" + (", marked as sent" if mark and due else ""), err=True)


@invitations_app.command("revoke")
def invitations_revoke(invitation: Annotated[str, typer.Argument(help="Invitation id.")], db: DbOption = None) -> None:
    """Withdraw an invitation: its link stops working and its answers are not used."""
    from .services.invitations import revoke

    with _errors():
        st = revoke(_engine(db), invitation)
    typer.echo(f"invitation {st.id}: {st.status}")


@invitations_app.command("extend")
def invitations_extend(
    invitation: Annotated[str, typer.Argument(help="Invitation id.")],
    days: Annotated[int, typer.Option(help="Days to add.")] = 7,
    db: DbOption = None,
) -> None:
    """Keep an invitation open longer."""
    from .services.invitations import extend

    with _errors():
        st = extend(_engine(db), invitation, days)
    typer.echo(f"invitation {st.id}: {st.status}, open until {st.expires_at:%Y-%m-%d}")


# ------------------------------------------------------------ skill model
@contextmanager
def _warnings_to_stderr() -> Iterator[None]:
    """Show Python warnings (left-out rows, failed diagnostics) as one 'warning:' line each."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            for w in caught:
                if issubclass(w.category, UserWarning) and "BLAS" not in str(w.message):
                    typer.echo(f"warning: {w.message}", err=True)


def _parse_time(value: str | None, option: str):
    from datetime import UTC, datetime

    if value is None:
        return None
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r} is not a date or time (YYYY-MM-DD or ISO 8601)")
    return t if t.tzinfo else t.replace(tzinfo=UTC)


@app.command()
def calibrate(
    responses: Annotated[Path, typer.Argument(help="Responses CSV (respondent_id[,rater],item...).")],
    out: Annotated[Path, typer.Option(help="Where to write the parameters JSON.")],
    items: Annotated[Path | None, typer.Option(help="Items CSV: item_id,dimension[,reverse].")] = None,
    method: Annotated[str, typer.Option(help="map (default: posterior mode with a Laplace approximation, seconds), "
                                             "nuts (full posterior, minutes) or advi.")] = "map",
    draws: Annotated[int | None, typer.Option(min=50, max=L.MAX_DRAWS,
                                              help="Posterior draws per chain (nuts; default 1800).")] = None,
    tune: Annotated[int | None, typer.Option(
        min=50, max=L.MAX_DRAWS, help="Tuning steps per chain (nuts; default 200 when the Laplace covariance "
                                      "is the mass matrix, else 1000).")] = None,
    chains: Annotated[int, typer.Option(min=1, max=L.MAX_CHAINS, help="Chains (nuts).")] = 2,
    seed: Annotated[int, typer.Option(min=0, max=L.MAX_SEED, help="Random seed; the same seed gives the same result.")] = 0,
    points: Annotated[int, typer.Option(min=41, max=L.MAX_POINTS, help="Gauss-Hermite quadrature points.")] = 41,
    global_fit: Annotated[bool, typer.Option("--global-fit", help="Also compute M2, RMSEA, CFI and TLI per dimension "
                                                                  "(written to the diagnostics).")] = False,
    publish: Annotated[bool, typer.Option("--publish", help="Also store the calibration in the store, make it the "
                                                            "active one and rescore every leader.")] = False,
    organization: Annotated[str | None, typer.Option(help="Organization to publish to (default: the store's only one).")] = None,
    since: Annotated[str | None, typer.Option(help="With --publish: the data window's start, as exported.")] = None,
    until: Annotated[str | None, typer.Option(help="With --publish: the data window's end, as exported.")] = None,
    db: DbOption = None,
    content: ContentOption = None,
) -> None:
    """Calibrate the graded response model on responses and write the parameters JSON (and publish it)."""
    import os

    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one BLAS thread per chain is fastest here
    with _errors():
        if method not in ("nuts", "map", "advi"):
            fail(f"--method must be nuts, map or advi (got {method!r})")
        window = (_parse_time(since, "--since"), _parse_time(until, "--until"))
        if not publish and (organization or since or until):
            fail("--organization, --since and --until describe a publication: add --publish")
        from .skills.data import read_responses_csv

        with _warnings_to_stderr():
            data = read_responses_csv(responses, items)
            typer.echo(f"calibrating {len(data.items.item_ids)} items on {data.n_persons} respondents "
                       f"({len(data.y)} answer sheets) with {method}", err=True)
            from .skills.calibrate import NUTS_DRAWS
            from .skills.model import GradedResponseModel

            draws = NUTS_DRAWS if draws is None else draws
            model = GradedResponseModel(method, draws=draws, tune=tune, chains=chains, seed=seed, n_points=points,
                                        progressbar=sys.stderr.isatty()).fit(data)
        fit = {}
        if global_fit:
            table = model.global_fit(data)
            fit = {"global_fit": json.loads(table.to_json(orient="records"))}
            for row in fit["global_fit"]:
                if row.get("M2") is not None:
                    typer.echo(f"{row['dimension']}: M2 = {row['M2']:.1f} on {row['df']} df (p = {row['p']:.3g}), "
                               f"RMSEA {row['RMSEA']:.3f}, CFI {row['CFI']:.3f}, TLI {row['TLI']:.3f} (n = {row['n']})",
                               err=True)
        model.save(out, seconds=model.fit_seconds_, **fit)
        doc = json.loads(out.read_text())
    d = doc["diagnostics"]
    extra = (f"max r-hat {d['max_rhat']}, min bulk ESS {d['min_ess_bulk']}, {d['divergences']} divergences"
             if method == "nuts" else d.get("note", ""))
    typer.echo(f"wrote {out}: {len(doc['items'])} items, {len(doc['dimensions'])} dimension(s), "
               f"{method} in {d['seconds']} s; {extra}")
    if publish:
        with _errors():
            from .services.calibration import data_window, file_provenance
            from .services.calibration import publish as publish_calibration

            engine = _engine(db)
            prov = {"source": file_provenance(responses), "respondents": data.n_persons, "sheets": len(data.y),
                    "settings": {"method": method, "draws": draws, "tune": d.get("tune", tune), "chains": chains,
                                 "seed": seed, "points": points},
                    "data_window": {"since": since, "until": until,
                                    **data_window(engine, organization, *window)}}
            res = publish_calibration(engine, _library(content), doc, method=method, provenance=prov,
                                      organization_id=organization)
        typer.echo(f"published calibration {res.calibration_id} to '{res.organization_id}' (active; was "
                   f"{res.previous_id or 'none'}): {res.leaders_rescored} leaders rescored, "
                   f"{res.estimates_written} estimates written")


@app.command()
def score(
    responses: Annotated[Path, typer.Argument(help="Responses CSV to score.")],
    params: Annotated[Path, typer.Option(help="Parameters JSON from 'workbench calibrate'.")],
    out: Annotated[Path, typer.Option(help="Where to write the scores CSV.")],
) -> None:
    """Score respondents with known item parameters (posterior mean and SD per dimension)."""
    with _errors():
        from .skills.data import read_scoring_csv, write_scores_csv
        from .skills.model import GradedResponseModel

        model = GradedResponseModel.load(params)
        with _warnings_to_stderr():
            data = read_scoring_csv(responses, model.items_)
        sc = model.score(data)
        write_scores_csv(out, data.respondent_ids, sc)
    typer.echo(f"wrote {out}: {len(data.respondent_ids)} respondents, {len(sc.dimensions)} dimension(s)")


@responses_app.command("export")
def responses_export(
    out: Annotated[Path, typer.Option(help="Where to write the responses CSV.")],
    organization: Annotated[str | None, typer.Option(help="Only this organization's leaders.")] = None,
    since: Annotated[str | None, typer.Option(help="Only sheets submitted at or after this date/time.")] = None,
    until: Annotated[str | None, typer.Option(help="Only sheets submitted before this date/time.")] = None,
    db: DbOption = None,
    content: ContentOption = None,
) -> None:
    """Export submitted answer sheets as the responses CSV `workbench calibrate` reads (with the rater
    column; an item not asked or not answered is an empty cell)."""
    with _errors():
        from .services.calibration import export_responses, write_responses

        frame = export_responses(_engine(db), _library(content), organization,
                                 _parse_time(since, "--since"), _parse_time(until, "--until"))
        if frame.empty:
            fail("no submitted answer sheets in the store" + (" in that window" if since or until else ""))
        out.parent.mkdir(parents=True, exist_ok=True)
        write_responses(frame, out)
    typer.echo(f"wrote {out}: {len(frame)} answer sheets about {frame.respondent_id.nunique()} leaders, "
               f"{frame.shape[1] - 2} items")


@calibrations_app.command("list")
def calibrations_list(
    organization: Annotated[str | None, typer.Option(help="Only this organization's calibrations.")] = None,
    db: DbOption = None,
) -> None:
    """Stored calibrations, newest first; the active one is marked with *."""
    with _errors():
        from .services.calibration import list_calibrations

        table = list_calibrations(_engine(db), organization)
    if table.empty:
        typer.echo("no calibrations in the store")
        return
    for r in table.itertuples():
        typer.echo(f"{'*' if r.active else ' '} {r.id}  {r.method:<10} created {r.created_at:%Y-%m-%d %H:%M}  "
                   f"by {r.published_by or '-'}  data {r.data_window or '-'}  {r.estimates} estimates")


@calibrations_app.command("activate")
def calibrations_activate(
    calibration: Annotated[str, typer.Argument(help="Calibration id (see `workbench calibrations list`).")],
    db: DbOption = None,
    content: ContentOption = None,
) -> None:
    """Make a stored calibration the active one and rescore every leader with it."""
    with _errors():
        from .services.calibration import activate

        res = activate(_engine(db), _library(content), calibration)
    typer.echo(f"calibration {res.calibration_id} is active (was {res.previous_id or 'none'}): "
               f"{res.leaders_rescored} leaders rescored, {res.estimates_written} estimates written")


@calibrations_app.command("rollback")
def calibrations_rollback(
    organization: Annotated[str | None, typer.Option(help="Organization (default: the store's only one).")] = None,
    db: DbOption = None,
    content: ContentOption = None,
) -> None:
    """Return to the calibration that was active before the current one and rescore every leader."""
    with _errors():
        from .services.calibration import rollback

        res = rollback(_engine(db), _library(content), organization)
    typer.echo(f"rolled back from {res.previous_id} to {res.calibration_id}: {res.leaders_rescored} leaders "
               f"rescored, {res.estimates_written} estimates written")


@cat_app.command("simulate")
def cat_simulate(
    params: Annotated[Path, typer.Option(help="Parameters JSON from 'workbench calibrate'.")],
    respondents: Annotated[int, typer.Option(min=1, max=L.MAX_SIM_RESPONDENTS, help="Simulated respondents.")] = 500,
    target_sd: Annotated[float, typer.Option("--target-sd", help="Stop when every competency's posterior SD is below this.")] = 0.4,
    max_items: Annotated[int | None, typer.Option("--max-items", min=1, help="Stop after this many items at most.")] = None,
    min_per_dimension: Annotated[int, typer.Option("--min-per-dimension", min=0, help="Items each competency gets at least.")] = 1,
    randomesque: Annotated[int, typer.Option(min=1, help="Exposure control: pick at random among the best k items.")] = 3,
    compare: Annotated[bool, typer.Option(help="Also run independent per-competency adaptive tests for comparison.")] = False,
    seed: Annotated[int, typer.Option(min=0, max=L.MAX_SEED, help="Random seed.")] = 0,
) -> None:
    """Simulate adaptive sessions against true skills: items used, agreement with the full form, error."""
    with _errors():
        from .skills.adaptive import (
            compare_independent,
            format_comparison,
            format_report,
            simulate_cat,
        )
        from .skills.model import GradedResponseModel

        if not target_sd > 0:  # also refuses nan
            fail("--target-sd must be positive")
        model = GradedResponseModel.load(params)
        kw = dict(max_items=max_items, min_items_per_dim=min_per_dimension, randomesque=randomesque)
        result = simulate_cat(model.items_, model.correlation_, respondents, target_sd, seed, **kw)
        typer.echo(format_report(result))
        if compare:
            typer.echo("")
            typer.echo(format_comparison(compare_independent(model.items_, model.correlation_, respondents, target_sd, seed, **kw)))


# ------------------------------------------------------------- recommendations
@app.command()
def recommend(
    leader: Annotated[str, typer.Option(help="Leader id.")],
    moment: Annotated[str | None, typer.Option(help="A moment id (see content/moments.yaml): in-the-moment help first.")] = None,
    strategy: Annotated[str | None, typer.Option(help="gap, priority (default), thompson, moment (default with --moment), popular or random.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as a JSON list.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be served without logging it.")] = False,
    seed: Annotated[int | None, typer.Option(min=0, max=L.MAX_SEED, help="Seed for the stochastic strategies.")] = None,
    db: DbOption = None,
    content: ContentOption = None,
) -> None:
    """Serve up to 3 short modules with reasons, log them, and print the leader's plan."""
    with _errors():
        from .services.plans import current_plan, serve

        lib = _library(content)
        engine = _engine(db)
        name = strategy or ("moment" if moment else "priority")
        new = serve(engine, lib, leader, strategy=name, moment=moment, seed=seed, log=not dry_run)
        fresh = {r.module_id for r in new}
        if dry_run:
            items = [dict(module_id=r.module_id, title=r.title, minutes=r.minutes, competency=r.competency,
                          reason=r.reason, strategy=r.strategy, score=round(float(r.score), 4),
                          propensity=round(float(r.propensity), 4), status="proposed", new=True) for r in new]
        else:
            items = [p.to_dict() | {"score": round(p.score, 4), "propensity": round(p.propensity, 4),
                                    "new": p.module_id in fresh} for p in current_plan(engine, lib, leader)]
    if as_json:
        typer.echo(json.dumps(items, indent=1))
        return
    if not items:
        typer.echo(f"No module fits {leader}'s plan right now (time budget, prerequisites or nothing left).")
        return
    for i, it in enumerate(items, 1):
        tag = " (new)" if it["new"] else ""
        typer.echo(f"{i}. {it['title']} - {it['minutes']} min{tag}\n   {it['reason']}\n"
                   f"   [{it['strategy']}, score {it['score']:.3f}, propensity {it['propensity']:.3f}]")


# ------------------------------------------------------------------- practice
@scenario_app.command("run")
def scenario_run(
    scenario_id: Annotated[str, typer.Argument(help="Scenario id (see content/scenarios/).")],
    leader: Annotated[str, typer.Option(help="Leader id.")],
    choices: Annotated[str, typer.Option(help="Comma-separated choices, 1-based numbers or choice ids: 1,3,2.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print path, debrief and estimates as JSON.")] = False,
    db: DbOption = None,
    content: ContentOption = None,
) -> None:
    """Play a scenario non-interactively; the choices update the leader's skill estimates.

    Only the leader's first run of a scenario is evidence; a replay is stored but leaves the
    estimates as they were ("evidence_weight" 0 in the JSON).
    """
    with _errors():
        from .services.practice import play_scenario

        picks: list[str | int] = [int(c) if c.strip().isdigit() else c.strip() for c in choices.split(",") if c.strip()]
        if not picks:
            fail("--choices needs at least one choice")
        lib = _library(content)
        result = play_scenario(_engine(db), lib, leader, scenario_id, picks)
    d = result.debrief
    est = {c: {"before": {"mean": round(ch.before_mean, 4), "sd": round(ch.before_sd, 4)},
               "after": {"mean": round(ch.after_mean, 4), "sd": round(ch.after_sd, 4)}} for c, ch in result.estimates.items()}
    if as_json:
        typer.echo(json.dumps({
            "path": [{"node": n, "choice": c} for n, c in result.path],
            "debrief": {"ending": d.ending_id, "text": d.ending_text, "strong": [b.behavior for b in d.strong],
                        "weak": [b.behavior for b in d.weak], "lessons": list(d.lessons),
                        "missteps": [{"node": x.node_id, "choice": x.choice_id, "behavior": x.behavior,
                                      "instead": x.instead, "modules": list(x.modules)} for x in d.missteps],
                        "quality": {k: round(v, 3) for k, v in d.quality.items()}},
            "estimates": est,
            "evidence_weight": result.weight,
        }, indent=1))
        return
    typer.echo("Path: " + " -> ".join(f"{n}[{c}]" for n, c in result.path))
    typer.echo(d.as_text({m.id: m.title for m in lib.modules.values()}))
    typer.echo("\nYour estimates:" if result.counted else
               "\nYour estimates (a replay: only your first run of a scenario counts, so they are unchanged):")
    for c, e in est.items():
        typer.echo(f"  {c}: {e['before']['mean']:+.2f} (sd {e['before']['sd']:.2f}) -> "
                   f"{e['after']['mean']:+.2f} (sd {e['after']['sd']:.2f})")


@app.command()
def chat(
    leader: Annotated[str, typer.Option(help="Leader id.")],
    moment: Annotated[str | None, typer.Option(help="The moment the leader is in (a moment id).")] = None,
    db: DbOption = None,
    content: ContentOption = None,
) -> None:
    """A coaching conversation in the terminal: reads your lines from standard input until end of input."""
    with _errors():
        from .services.practice import coach_session, save_commitment, save_turns

        lib = _library(content)
        engine = _engine(db)
        session = coach_session(engine, lib, leader, moment=moment)
        typer.echo(f"Coach: {session.open().text}")
        saved = None
        try:
            for line in sys.stdin:
                reply = session.send(line.rstrip("\n"))
                typer.echo(f"Coach: {reply.text}")
                if session.commitment is not None and saved is None:
                    saved = save_commitment(engine, leader, session.conversation_id, session.commitment)
                if session.done:
                    break
        finally:
            save_turns(engine, leader, session.conversation_id, session.turns)
    if saved:
        typer.echo(f"(commitment saved to your plan; conversation {session.conversation_id})", err=True)


# -------------------------------------------------------------------- cohorts
@cohort_app.command("groups")
def cohort_groups(
    cohort: Annotated[str, typer.Option(help="Cohort id.")],
    size: Annotated[str, typer.Option(help="Group size range, MIN-MAX.")] = "4-6",
    seed: Annotated[int, typer.Option(min=0, max=L.MAX_SEED, help="Random seed for the search.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print groups and coverage as JSON.")] = False,
    save: Annotated[bool, typer.Option(help="Store the groups (replacing the cohort's previous ones).")] = True,
    db: DbOption = None,
) -> None:
    """Form peer groups that cover each member's development areas with someone strong in them."""
    with _errors():
        from .services.cohorts import form_and_save

        try:
            lo, hi = (int(x) for x in size.split("-"))
        except ValueError:
            fail(f"--size must look like 4-6 (got {size!r})")
        if not 2 <= lo <= hi <= L.MAX_GROUP_SIZE:
            fail(f"--size must be MIN-MAX with 2 <= MIN <= MAX <= {L.MAX_GROUP_SIZE} (got {size!r})")
        g = form_and_save(_engine(db), cohort, lo, hi, seed=seed, save=save)
    doc = {"groups": [{"members": list(ids), "shared_development_areas": list(g.shared_development_areas(i))}
                      for i, ids in enumerate(g.groups)],
           "coverage": round(g.coverage, 4), "random_coverage": round(g.random_coverage, 4),
           "breakdown": {k: round(v, 4) for k, v in g.breakdown.items()}}
    if as_json:
        typer.echo(json.dumps(doc, indent=1))
        return
    for i, grp in enumerate(doc["groups"], 1):
        typer.echo(f"Group {i}: {', '.join(grp['members'])}  (shared: {', '.join(grp['shared_development_areas']) or '-'})")
    typer.echo(f"coverage {doc['coverage']:.3f} vs random grouping {doc['random_coverage']:.3f}")


@cohort_app.command("sessions")
def cohort_sessions(
    cohort: Annotated[str, typer.Option(help="Cohort id.")],
    ics: Annotated[Path | None, typer.Option(help="Write the sessions as an iCalendar (.ics) file.")] = None,
    start: Annotated[str | None, typer.Option(help="First possible date, YYYY-MM-DD (default: today).")] = None,
    count: Annotated[int, typer.Option(min=1, max=52, help="How many sessions.")] = 4,
    weekday: Annotated[int, typer.Option(min=0, max=6, help="Weekday, 0 = Monday.")] = 2,
    at: Annotated[str, typer.Option(help="Start time HH:MM in the cohort's time zone.")] = "15:00",
    cadence: Annotated[int, typer.Option(min=1, max=L.MAX_CADENCE_DAYS, help="Days between sessions.")] = 14,
    db: DbOption = None,
    content: ContentOption = None,
) -> None:
    """Schedule classroom sessions on the cohort's shared development areas (and export .ics)."""
    import datetime as dt

    with _errors():
        from .cohorts import to_ics
        from .cohorts.sessions import local_time
        from .services.cohorts import calendar_attendees, plan_sessions, timezone_for

        try:
            day = dt.date.fromisoformat(start) if start else dt.date.today()
            hh, mm = (int(x) for x in at.split(":"))
            when = dt.time(hh, mm)
        except ValueError:
            fail("--start must be YYYY-MM-DD and --at HH:MM")
        eng, lib = _engine(db), _library(content)
        sessions = plan_sessions(eng, lib, cohort, day, count=count, weekday=weekday, at=when, cadence_days=cadence)
        tz = timezone_for(eng, lib, cohort_id=cohort)
        if ics is not None:
            ics.write_text(to_ics(sessions, tz=tz, attendees=calendar_attendees(eng, cohort)), newline="")
    for sess in sessions:
        typer.echo(f"{local_time(sess.starts_at, tz)}  {sess.title} ({sess.minutes} min)")
    if ics is not None:
        typer.echo(f"wrote {ics}", err=True)


# ---------------------------------------------------------------- experiments
@experiment_app.command("run")
def experiment_run(
    config: Annotated[Path, typer.Argument(help="Experiment config (experiments/configs/*.yaml).")],
    out: Annotated[Path | None, typer.Option(help="Output folder (default reports/experiments/<name>).")] = None,
    scheduler: Annotated[str | None, typer.Option(help="Address of a running dask.distributed scheduler.")] = None,
    serial: Annotated[bool, typer.Option(help="Run the grid one run after another, without Dask.")] = False,
    method: Annotated[str | None, typer.Option(
        help="Bayesian analysis: pymc or conjugate (fast); default: the config's method, else pymc. "
             "Refused if it contradicts the config.")] = None,
    resume: Annotated[bool, typer.Option(help="Continue an interrupted experiment from the runs already written.")]
    = False,
) -> None:
    """Run every run of an experiment through its papermill notebook (on Dask), then write
    results.json and report.html with one decision from the evidence pooled over seeds."""
    import os

    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    with _errors():
        from .services.experiments import run_config

        if method is not None and method not in ("pymc", "conjugate"):
            fail(f"--method must be pymc or conjugate (got {method!r})")
        out_dir = out or Path("reports") / "experiments" / config.stem
        summary = run_config(config, out_dir, scheduler=scheduler, serial=serial, method=method, resume=resume)
    typer.echo(f"{summary.n_runs} run(s) of '{summary.config_name}' on {summary.executor} in {summary.seconds:.0f} s: "
               f"{summary.results_path} and {summary.report_path}")


# ---------------------------------------------------------------------- xapi
OrgOption = Annotated[str | None, typer.Option("--org", help="Organization (default: the store's only one).")]
EndpointOption = Annotated[str | None, typer.Option(
    "--endpoint", help="LRS xAPI endpoint, e.g. https://lrs.example.org/xAPI/ (default: $WORKBENCH_LRS_ENDPOINT).")]
UserOption = Annotated[str | None, typer.Option("--user", help="LRS user (default: $WORKBENCH_LRS_USER).")]
PasswordOption = Annotated[str | None, typer.Option(
    "--password", help="LRS password (default: $WORKBENCH_LRS_PASSWORD; prefer the variable).")]


def _progress(label: str):
    """A tqdm bar on standard error, as a ``(done, total)`` callback, and its closer."""
    from tqdm import tqdm

    bar = tqdm(desc=label, unit="st", file=sys.stderr, disable=None)

    def update(done: int, total: int | None) -> None:
        if total is not None and bar.total != total:
            bar.total = total
            bar.refresh()
        bar.update(done - bar.n)

    return update, bar.close


@xapi_app.command("export")
def xapi_export(
    out: Annotated[Path | None, typer.Option(help="File to write (default: standard output).")] = None,
    leader: Annotated[list[str] | None, typer.Option(help="Only these leaders (repeatable).")] = None,
    derived: Annotated[bool, typer.Option(help="Add discussion posts and pooled rater submissions.")] = True,
    content: ContentOption = None,
    db: DbOption = None,
) -> None:
    """Write stored activity as a JSON array of xAPI 1.0.3 statements (docs/xapi.md)."""
    from .store.xapi import export_statements

    with _errors():
        data = export_statements(_engine(db), leader_ids=leader or None, library=_library(content), derived=derived)
        text = json.dumps(data, indent=1, ensure_ascii=False)
        if out is None:
            typer.echo(text)
        else:
            out.write_text(text, encoding="utf-8")
            typer.echo(f"wrote {len(data)} statements to {out}", err=True)


def _import_line(res) -> str:
    extra = [f"{n} {what}" for n, what in ((res.skipped, "already stored"), (res.external, "external learners"),
                                           (res.voided, "voided"), (res.leaders_created, "leaders created")) if n]
    return f"imported {res.stored} statements" + (f" ({', '.join(extra)})" if extra else "")


@xapi_app.command("import")
def xapi_import(
    file: Annotated[Path, typer.Argument(help="A JSON array of xAPI statements.")],
    org: OrgOption = None,
    keep_unknown_content: Annotated[bool, typer.Option(help="Keep statements about module, knowledge-check or "
                                                            "scenario ids the content library does not know.")] = False,
    create_leaders: Annotated[bool, typer.Option(help="Seed a fresh store: accounts on the organization's home "
                                                      "page that name no leader become leaders.")] = False,
    content: ContentOption = None,
    db: DbOption = None,
) -> None:
    """Validate and load statements from another system: all of them, or none (docs/xapi.md)."""
    from .store.xapi import import_statements, read_batch_file

    with _errors():
        raw = read_batch_file(file)
        res = import_statements(_engine(db), raw, source=str(file), organization_id=org, library=_library(content),
                                keep_unknown_content=keep_unknown_content, create_leaders=create_leaders)
    typer.echo(_import_line(res))


@xapi_app.command("identities")
def xapi_identities(
    file: Annotated[Path | None, typer.Argument(help="YAML or JSON profile: home_page, identities, "
                                                     "external_learners (omit to show the current one).")] = None,
    org: OrgOption = None,
    db: DbOption = None,
) -> None:
    """Set (or show) the organization's xAPI home page, identity mapping and external-learner policy."""
    from .store.xapi_profile import (
        organization_profile,
        read_profile_file,
        resolve_organization,
        save_profile,
    )

    with _errors():
        engine = _engine(db)
        oid = resolve_organization(engine, org)
        if file is not None:
            profile = read_profile_file(file)
            save_profile(engine, oid, profile)
            typer.echo(f"{oid}: home page {profile.home_page}, {len(profile.identities)} identity mappings, "
                       f"external learners: {profile.external_learners}")
            return
        typer.echo(json.dumps(organization_profile(engine, oid).model_dump(mode="json", exclude_none=True), indent=1))


@xapi_app.command("push")
def xapi_push(
    endpoint: EndpointOption = None,
    user: UserOption = None,
    password: PasswordOption = None,
    batch: Annotated[int, typer.Option(min=1, max=L.MAX_BATCH_STATEMENTS, help="Statements per request.")] = 500,
    restart: Annotated[bool, typer.Option(help="Forget the saved position and send everything again.")] = False,
    content: ContentOption = None,
    db: DbOption = None,
) -> None:
    """Send the statements stored since the last push to an LRS (idempotent, resumable)."""
    from .store.lrs import LrsClient, LrsConfig, push, reset_cursor

    with _errors():
        cfg = LrsConfig.from_env(endpoint, user, password)
        engine = _engine(db)
        if restart:
            reset_cursor(engine, cfg.endpoint)
        update, close = _progress("push")
        try:
            with LrsClient(cfg) as client:
                res = push(engine, client, library=_library(content), batch=batch, progress=update)
        finally:
            close()
    typer.echo(f"pushed {res.statements} statements in {res.batches} requests to {cfg.endpoint}")


@xapi_app.command("pull")
def xapi_pull(
    endpoint: EndpointOption = None,
    user: UserOption = None,
    password: PasswordOption = None,
    org: OrgOption = None,
    batch: Annotated[int, typer.Option(min=1, max=L.MAX_BATCH_STATEMENTS, help="Statements per page.")] = 500,
    restart: Annotated[bool, typer.Option(help="Forget the saved position and read everything again.")] = False,
    keep_unknown_content: Annotated[bool, typer.Option(help="Keep statements about unknown content ids.")] = False,
    create_leaders: Annotated[bool, typer.Option(help="Accounts on the home page that name no leader become "
                                                      "leaders.")] = False,
    content: ContentOption = None,
    db: DbOption = None,
) -> None:
    """Import the statements an LRS stored since the last pull (idempotent, resumable)."""
    from .store.lrs import LrsClient, LrsConfig, pull, reset_cursor

    with _errors():
        cfg = LrsConfig.from_env(endpoint, user, password)
        engine = _engine(db)
        if restart:
            reset_cursor(engine, cfg.endpoint)
        update, close = _progress("pull")
        try:
            with LrsClient(cfg) as client:
                res = pull(engine, client, organization_id=org, library=_library(content), batch=batch,
                           keep_unknown_content=keep_unknown_content, create_leaders=create_leaders,
                           progress=update)
        finally:
            close()
    typer.echo(f"pulled {res.statements} new statements ({res.skipped} already stored) in {res.batches} pages "
               f"from {cfg.endpoint}")


def main() -> None:
    """Entry point: run the app, turning usage errors and failures into exit 1 with one line."""
    try:
        code = app(standalone_mode=False)
    except CliError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except Exception as exc:
        # typer vendors click, so match click's exceptions by what they offer
        if type(exc).__name__ == "NoArgsIsHelpError":
            typer.echo(exc.ctx.get_help())
            sys.exit(0)
        if hasattr(exc, "format_message"):
            typer.echo(f"error: {exc.format_message()}", err=True)
            sys.exit(1)
        if type(exc).__name__ == "Abort":
            typer.echo("error: aborted", err=True)
            sys.exit(1)
        raise
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
