"""The demo organization: a deterministic, realistic population to explore and test on.

``build_demo(engine, library, seed, as_of)`` replaces the demo organization in the store
with one generated from ``seed``: leaders with latent skill profiles (correlated across
competencies), self and other-rater responses drawn from a graded response model,
skill estimates scored from those responses, and several weeks of learning activity.
The same seed and ``as_of`` date always give the same rows, so running it twice leaves
the database unchanged.

Other raters' rows are invitations (``workbench.services.invitations``). The first round, sent by each
cohort's facilitator when the programme started, was answered by everyone; a later round,
where leaders ask more peers and direct reports so that their views can be shown (the
anonymity rule needs three of a role), is left in every state an invitation can be in:
invited, started (a draft), reminded, expired and revoked. Those draws come from their own
random stream, so the answer sheets, the calibration and the activity stay as they were.
The stored "others" and "all" estimates follow the anonymity rule: only the roles
``visible_roles`` allows for a leader enter them, and a leader with no visible role has no
"others" estimate at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
from sqlalchemy import Engine, delete, insert
from threadpoolctl import threadpool_limits

from .content import Library
from .recommend import LeaderContext, recommend_batch
from .recommend.context import ROLE_LEVELS
from .sim import dynamics as learning
from .sim.dynamics import work_through
from .sim.logs import LOGGING_POLICY
from .sim.measure import demo_item_params
from .sim.population import generate_population
from .skills.data import ResponseData
from .skills.grm import ItemParams, simulate_responses
from .skills.params import params_to_json
from .skills.raters import (
    ANONYMOUS_ROLES,
    MIN_ANONYMOUS_RATERS,
    OTHER_ROLES,
    RATER_ROLES,
    included_sheets,
)
from .skills.score import score_sheets
from .skills.simulate import item_spec
from .store import models as m
from .store.db import transaction
from .store.xapi import local_event_row

DEMO_ORG = "northwind"
WEEKS = 8
COHORTS = 12
LEADERS_PER_COHORT = 26
LEVEL_SHARES = (0.45, 0.4, 0.15)  # first-time, experienced, senior
SKILL_SD = 0.9  # true skill around the role's expectation
ENGAGEMENT = (2.0, 2.0)  # Beta parameters of the chance of acting on a plan module
PLAN_SIZE = 3  # modules per weekly plan
EXPLORE_RATE = 0.8  # modules a fully engaged leader opens on their own each week (Explore, not the plan)
STARTED_UNFINISHED = 0.5  # of the plan modules not completed, the share a leader started (times engagement)
DISMISSED = 0.15  # of the untouched plan modules, the share the leader turned down with "Not now"
#: Peers who answered for the first leaders: L0001 has two (below the anonymity threshold, a third is
#: invited: peers hidden), L0002 four (peers shown), so the showcase is the same whatever the seed.
#: Both have a manager, so L0001 still sees one role (its manager's view) while its peers are hidden.
SHOWCASE_PEERS = {0: 2, 1: 4}
SELF_INFLATION = 0.35  # self-ratings run high: the rater effect the skill model estimates
RATER_NOISE = 0.3  # each other rater's idiosyncratic view, per competency
SKILL_CORRELATION = 0.45
_NS = uuid.UUID("6f1c1f8e-2a49-4c55-9d7e-1d0f4b7f2c11")

FIRST = ("Ada Ben Carla Dev Elif Femi Grace Hugo Ines Jonas Kai Lena Mateo Nadia Omar Priya Quinn Rosa "
         "Sami Tara Umar Vera Wen Xavier Yara Zoe Amir Bea Chen Dara Emil Farah Gus Hana Ivo Juno").split()
LAST = ("Abara Berg Costa Dubois Eze Fischer Garcia Haddad Ito Jensen Kowalski Larsen Moreau Novak Okafor "
        "Patel Quist Rossi Silva Tanaka Ueda Varga Weber Xu Yilmaz Zielinski").split()
FUNCTIONS = ("Operations", "Logistics", "Stores", "Finance", "Technology", "Member Services", "People")
FACILITATORS = ("Maren Holt", "Tobias Reyes", "Ifeoma Clarke", "Lukas Brandt")
INVITATION_DAYS = 21
# the later round of invitations: what became of each (probabilities), see _follow_up_invitations
FOLLOW_UP_STATES = ("invited", "started", "reminded", "expired", "revoked")
FOLLOW_UP_P = (0.3, 0.25, 0.2, 0.15, 0.1)


@dataclass(frozen=True)
class DemoSummary:
    organization_id: str
    leaders: int
    cohorts: int
    sessions: int
    responses: int
    events: int
    scenario_runs: int
    plans: int = 0  # weekly plans served (by the logging policy, with propensities)
    recommendations: int = 0
    follow_up_invitations: tuple[tuple[str, int], ...] = ()  # (what became of it, count) for the later round
    peers_hidden_leader: str | None = None  # 2 peers submitted, a 3rd invited: peers not yet shown
    peers_visible_leader: str | None = None  # at least 3 peers submitted: peers shown


def _bulk(session, model, rows: list[dict]) -> None:
    """Insert ``rows`` into ``model``'s table with SQLAlchemy Core (one executemany on the session's
    connection, in its transaction): the ORM's bulk path spends most of the demo's write time
    turning every dictionary into an ORM insert command."""
    if rows:
        session.connection().execute(insert(model.__table__), rows)


def _uid(*parts: object) -> str:
    return str(uuid.uuid5(_NS, "/".join(map(str, parts))))


def _labels(y: np.ndarray, params: ItemParams) -> np.ndarray:
    """Category index as scored -> the label a rater ticks (reverse keying undone)."""
    K = params.n_categories[None, :]
    idx = np.where(params.reverse[None, :], K - 1 - y, y)
    return idx + params.first_category[None, :]


def _as_scored(labels: np.ndarray, params: ItemParams) -> np.ndarray:
    idx = labels - params.first_category[None, :]
    K = params.n_categories[None, :]
    out = np.where(params.reverse[None, :], K - 1 - idx, idx)
    return np.where(labels < 0, -1, out)


def build_demo(
    engine: Engine,
    library: Library,
    seed: int = 7,
    as_of: date | None = None,
    progress: Callable[[str], None] | None = None,
) -> DemoSummary:
    """Replace the demo organization in ``engine``'s store with the one generated from ``seed`` and ``as_of``.

    Runs with one BLAS thread: the demo's matrices are small (312 leaders), and a threaded BLAS
    spent more time synchronizing its threads than multiplying (about half the demo's processor time
    on 2 cores); one thread also makes the float32 scores the same whatever the number of cores.
    """
    import scipy.linalg  # noqa: F401  (the calibration's; loads scipy's own BLAS before the limit, which covers only loaded ones)

    with threadpool_limits(limits=1, user_api="blas"):
        return _build_demo(engine, library, seed, as_of, progress)


def _build_demo(engine: Engine, library: Library, seed: int, as_of: date | None,
                progress: Callable[[str], None] | None) -> DemoSummary:
    say = progress or (lambda _msg: None)
    as_of = as_of or date.today()
    t_end = datetime.combine(as_of, time(17, 0), tzinfo=UTC)
    t0 = t_end - timedelta(weeks=WEEKS)
    rng = np.random.default_rng(seed)
    dims = library.competency_ids
    D = len(dims)
    org = library.organization
    modules = list(library.modules.values())

    say("Generating leaders and skill profiles")
    n = COHORTS * LEADERS_PER_COHORT
    people = generate_population(library, n, seed, correlation=SKILL_CORRELATION, skill_sd=SKILL_SD, mean_offset=0.0,
                                 level_shares=LEVEL_SHARES, engagement=ENGAGEMENT, preference_share=0.0)
    levels = np.array(ROLE_LEVELS)[people.level]
    theta, expect, engagement = people.skill, people.expectation, people.engagement.copy()
    leader_ids = [f"L{i + 1:04d}" for i in range(n)]
    cohort_ids = [f"C{k + 1:02d}" for k in range(COHORTS)]

    leaders = []
    seniors = [i for i in range(n) if levels[i] != "first-time"]
    for i, lid in enumerate(leader_ids):
        mgr = None
        asked = levels[i] != "senior" and rng.random() < 0.6
        if asked or i in SHOWCASE_PEERS:  # the showcase leaders have a manager, a role they can see
            cands = [j for j in seniors if j != i and levels[j] == "senior"] or [j for j in seniors if j != i]
            mgr = leader_ids[int(rng.choice(cands))]
        first, last = FIRST[int(rng.integers(len(FIRST)))], LAST[int(rng.integers(len(LAST)))]
        leaders.append(dict(
            id=lid, organization_id=DEMO_ORG, cohort_id=cohort_ids[i % COHORTS], manager_id=mgr,
            name=f"{first} {last}", email=f"{first}.{last}.{lid}@northwind.example".lower(),
            role=f"{'Team lead' if levels[i] == 'first-time' else 'Manager' if levels[i] == 'experienced' else 'Director'}"
                 f", {FUNCTIONS[i % len(FUNCTIONS)]}",
            function=FUNCTIONS[int(rng.integers(len(FUNCTIONS)))], role_level=str(levels[i]),
            first_time=bool(levels[i] == "first-time"), weekly_minutes=int(people.weekly_minutes[i]),
            created_at=t0 - timedelta(days=14),
        ))

    say("Simulating self and other-rater responses")
    params = demo_item_params(library, seed)
    # an item a role is not asked (peers and the leader's own team) is never answered in that role
    asked = {role: np.array([library.items[iid].asks(role) for iid in params.item_ids]) for role in RATER_ROLES}
    by_id = {r["id"]: r for r in leaders}
    raters, sessions, responses, rows_for_scoring, scoring_keys = [], [], [], [], []
    assessed_at = t0 + timedelta(days=2)
    for i, lid in enumerate(leader_ids):
        peers = int(rng.integers(2, 5))
        peers = SHOWCASE_PEERS.get(i, peers)  # the first leaders show the anonymity rule whatever the seed
        others = [("manager", 1 if leaders[i]["manager_id"] else 0), ("peer", peers),
                  ("direct_report", int(rng.integers(0, 5)) if levels[i] != "first-time" else int(rng.integers(0, 3)))]
        plan = [("self", 0)] + [(role, k) for role, count in others for k in range(count)]
        for role, k in plan:
            rid = f"{lid}-{role}-{k}"
            shift = SELF_INFLATION if role == "self" else rng.normal(0.0, RATER_NOISE, size=D)
            y = simulate_responses((theta[i] + shift)[None, :], params, rng)[0]
            skipped = rng.random(y.size) < 0.03  # some items skipped ("not observed" on a rater's form)
            y = np.where(skipped | ~asked[role], -1, y)
            draft = role == "self" and rng.random() < 0.05
            if draft:
                y[int(rng.integers(10, params.n_items)) :] = -1  # stopped part-way: a draft to resume
            labels = _labels(y[None, :], params)[0]
            when = assessed_at + timedelta(hours=int(rng.integers(0, 96)))
            mgr = by_id[leaders[i]["manager_id"]] if role == "manager" else None  # named: there is one
            name = mgr["name"] if mgr else None if role == "self" else f"{role.replace('_', ' ').title()} {k + 1}"
            raters.append(dict(id=rid, leader_id=lid, role=role, name=name,
                               email=mgr["email"] if mgr else None, invited_at=t0,
                               expires_at=t0 + timedelta(days=INVITATION_DAYS),
                               invited_by=None if role == "self" else f"facilitator:{leaders[i]['cohort_id']}",
                               reminded_at=None, reminder_count=0, revoked_at=None))
            sid = _uid(seed, "session", rid)
            sessions.append(dict(id=sid, leader_id=lid, rater_id=rid, rater_role=role, form="full",
                                 status="draft" if draft else "submitted", started_at=when,
                                 submitted_at=None if draft else when + timedelta(minutes=12)))
            answered = (y >= 0) | (skipped & asked[role] & (role != "self"))
            for j in np.flatnonzero(answered):
                responses.append(dict(session_id=sid, item_id=params.item_ids[j],
                                      value=int(labels[j]) if y[j] >= 0 else None,
                                      answered_at=when + timedelta(seconds=int(10 * j))))
            if not draft:
                rows_for_scoring.append((i, role, y))
                scoring_keys.append((when + timedelta(minutes=12), sid))

    submitted = [dict.fromkeys(OTHER_ROLES, 0) for _ in range(n)]
    for i, role, _ in rows_for_scoring:
        if role != "self":
            submitted[i][role] += 1
    peers = [c["peer"] for c in submitted]
    showcase = {"peers_hidden": next((leader_ids[i] for i in range(n) if peers[i] == MIN_ANONYMOUS_RATERS - 1), None),
                "peers_visible": next((leader_ids[i] for i in range(n) if peers[i] >= MIN_ANONYMOUS_RATERS), None)}
    say("Sending the later round of rater invitations")
    follow = _follow_up_invitations(seed, t0, t_end, leader_ids, submitted, theta, params, showcase["peers_hidden"],
                                    asked)
    raters += follow.raters
    sessions += follow.sessions
    responses += follow.responses

    say("Calibrating the item bank (Laplace approximation at the posterior mode)")
    from .skills.model import GradedResponseModel  # the "map" fit: numpy and scipy, no PyMC

    owner = np.array([i for i, _, _ in rows_for_scoring])
    roles = np.array([role for _, role, _ in rows_for_scoring])
    sheets = np.stack([y for _, _, y in rows_for_scoring])
    data = ResponseData(tuple(leader_ids), owner, roles, sheets, item_spec(params))
    model = GradedResponseModel("map", seed=seed).fit(data)
    fitted, effects = model.items_, model.shifts_  # as stored: rescoring from the store gives the same
    calibration_id = f"{DEMO_ORG}-{as_of.isoformat()}-map"

    say("Scoring skill profiles")
    # each source pools the chosen raters' sheets, each read through its rater type's shift,
    # so every estimate is on the others' common scale (self-inflation removed); "others" and
    # "all" take only the roles the anonymity rule lets the leader see
    order = sorted(range(len(rows_for_scoring)), key=lambda r: scoring_keys[r])  # submission order, as rescore
    per_leader: list[list[tuple[str, str]]] = [[] for _ in range(n)]
    for r in order:
        per_leader[owner[r]].append((str(r), str(roles[r])))
    included = {int(r) for sheets_i in per_leader for r in included_sheets(sheets_i)}
    shown = np.array([r in included for r in range(len(rows_for_scoring))])
    estimates = []
    for source, mask in (("self", roles == "self"), ("others", shown), ("all", (roles == "self") | shown)):
        sc = score_sheets(sheets[mask], owner[mask], n, fitted, roles[mask], effects)
        for i in np.unique(owner[mask]):
            for d, comp in enumerate(dims):
                estimates.append(dict(leader_id=leader_ids[i], competency=comp, mean=float(sc.mean[i, d]),
                                      sd=float(sc.sd[i, d]), source=source, calibration_id=calibration_id,
                                      estimated_at=assessed_at + timedelta(days=5)))

    say("Serving weekly plans and simulating the learning that followed")
    activity = _simulate_learning(seed, library, leaders, theta, expect, engagement, estimates, t0, t_end)
    events, runs, choices, recommendations = (activity.events, activity.runs, activity.choices,
                                              activity.recommendations)

    say("Scheduling classroom sessions and discussion")
    classrooms, posts = [], []
    for k, cid in enumerate(cohort_ids):
        for s_i in range(4):
            classrooms.append(dict(
                id=f"{cid}-S{s_i + 1}", cohort_id=cid, group_id=None,
                title=f"Session {s_i + 1}: {library.competencies[dims[(k + s_i) % D]].name}",
                starts_at=t0 + timedelta(weeks=2 * s_i, days=k % 5, hours=14), minutes=90,
                location="Virtual classroom", agenda={"competency": dims[(k + s_i) % D]},
            ))
        members = [lid for j, lid in enumerate(leader_ids) if j % COHORTS == k]
        for p_i in range(3):
            pid = f"{cid}-P{p_i + 1}"
            author = members[int(rng.integers(len(members)))]
            md = modules[int(rng.integers(len(modules)))]
            posts.append(dict(id=pid, cohort_id=cid, author_id=author, parent_id=None, prompt=md.id,
                              body=f"What I am trying this week after '{md.title}': {md.apply_this_week}",
                              hidden=False, created_at=t0 + timedelta(weeks=p_i + 1, hours=9)))

    say("Writing to the database")
    with transaction(engine) as s:
        s.execute(delete(m.Organization).where(m.Organization.id == DEMO_ORG))
        s.flush()
        s.add(m.Organization(id=DEMO_ORG, name=org.name if org else "Demo organization", created_at=t0 - timedelta(days=30),
                             settings={"seed": seed, "as_of": as_of.isoformat(), "weeks": WEEKS, "showcase": showcase}))
        s.flush()
        _bulk(s, m.Cohort, [dict(id=cid, organization_id=DEMO_ORG, name=f"Cohort {k + 1:02d}",
                                           facilitator=FACILITATORS[k % len(FACILITATORS)], starts_on=t0)
                                      for k, cid in enumerate(cohort_ids)])
        # managers first so the self-reference always points at an existing row
        for batch in ([r for r in leaders if r["manager_id"] is None], [r for r in leaders if r["manager_id"] is not None]):
            if batch:
                _bulk(s, m.Leader, batch)
        _bulk(s, m.Rater, raters)
        _bulk(s, m.AssessmentSession, sessions)
        _bulk(s, m.Response, responses)
        s.add(m.Calibration(id=f"{DEMO_ORG}-generating", organization_id=DEMO_ORG, method="generating",
                            created_at=assessed_at,
                            params=params_to_json(params, diagnostics={"method": "generating",
                                                                      "note": "the true values the demo simulated from"},
                                                  rater_effects={"self": SELF_INFLATION})))
        published = assessed_at + timedelta(days=5)
        s.add(m.Calibration(id=calibration_id, organization_id=DEMO_ORG, method="map", created_at=published,
                            params=model.to_json(), active=True, activated_at=published, published_by="workbench demo",
                            provenance={"data_window": {"first_submitted": min(k[0] for k in scoring_keys).isoformat(),
                                                        "last_submitted": max(k[0] for k in scoring_keys).isoformat(),
                                                        "sheets": len(rows_for_scoring), "respondents": n},
                                        "source": "the demo's simulated answer sheets", "method": "map",
                                        "diagnostics": model.diagnostics_, "published_by": "workbench demo",
                                        "published_at": published.isoformat()}))
        s.flush()
        _bulk(s, m.SkillEstimate, estimates)
        if events:
            _bulk(s, m.ActivityEvent, [row | {"stored_at": row["timestamp"]} for row in events])
        if recommendations:
            _bulk(s, m.Recommendation, recommendations)
        if runs:
            _bulk(s, m.ScenarioRun, runs)
            _bulk(s, m.ScenarioChoice, choices)
        _bulk(s, m.ClassroomSession, classrooms)
        _bulk(s, m.DiscussionPost, posts)
    say("Done")
    return DemoSummary(DEMO_ORG, n, COHORTS, len(sessions), len(responses), len(events), len(runs),
                       plans=activity.plans, recommendations=len(recommendations),
                       follow_up_invitations=follow.states, peers_hidden_leader=showcase["peers_hidden"],
                       peers_visible_leader=showcase["peers_visible"])


@dataclass(frozen=True)
class _Learning:
    events: list[dict]  # activity_events rows of local xAPI statements (store.xapi.local_event_row)
    runs: list[dict]
    choices: list[dict]
    recommendations: list[dict]
    plans: int


def _simulate_learning(seed: int, library: Library, leaders: list[dict], theta: np.ndarray, expect: np.ndarray,
                       engagement: np.ndarray, estimates: list[dict], t0: datetime, t_end: datetime) -> _Learning:
    """Eight weeks of learning, from a random stream of its own.

    Week 0 is the assessment week: leaders only explore. From week 1, every Monday morning each
    leader is served a plan of :data:`PLAN_SIZE` modules by the organization's logging policy
    (:data:`workbench.sim.logs.LOGGING_POLICY`: the priority strategy, epsilon-greedy)
    from the context the engine would see in the app (the latest "all" estimates, what they
    completed so far, their budget and recent minutes), and the recommendation is stored with
    its propensity and that context. They work through the plan as the simulator's leaders do
    (:func:`workbench.sim.dynamics.work_through`: a module is completed with the chance set by their
    engagement and the minutes they really had that week), and their engagement moves with how
    relevant and how long the plan's modules were (:mod:`workbench.sim.dynamics`). A module
    not completed by the next Monday expires (some were started, some turned down with "Not
    now"); at the as-of time every weekly plan has closed, so a leader who opens the app gets a
    fresh plan. Leaders also open modules on their own (Explore) and play scenarios.
    """
    rng = np.random.default_rng([seed, 5])
    dyn = learning.Dynamics()
    dims = library.competency_ids
    modules = list(library.modules.values())
    scenarios = list(library.scenarios.values())
    by_module = {md.id: md for md in modules}
    minutes_of = np.array([float(md.minutes) for md in modules])
    index = {md.id: j for j, md in enumerate(modules)}
    n = len(leaders)
    mean: list[dict[str, float]] = [{} for _ in range(n)]
    sd: list[dict[str, float]] = [{} for _ in range(n)]
    row_of = {r["id"]: i for i, r in enumerate(leaders)}
    for e in estimates:
        if e["source"] == "all":
            mean[row_of[e["leader_id"]]][e["competency"]] = e["mean"]
            sd[row_of[e["leader_id"]]][e["competency"]] = e["sd"]
    completed: list[set[str]] = [set() for _ in range(n)]
    recent = np.zeros((n, len(dims)))  # minutes spent per competency so far
    events: list = []
    runs: list[dict] = []
    choices: list[dict] = []
    recs: list[dict] = []
    counter = 0
    plans = 0
    spec = dict(LOGGING_POLICY)
    strategy = spec.pop("strategy")

    def emit(verb: str, kind: str, obj, when: datetime, lid: str, **kw) -> None:
        nonlocal counter
        counter += 1
        # the row of the statement make_statement would build (and validate): these values are our own
        events.append(local_event_row(lid, verb, kind, obj.id, when, title=obj.title,
                                      statement_id=uuid.UUID(_uid(seed, "ev", counter)), **kw))

    def study(i: int, md, start: datetime, finish: bool) -> None:
        """The events of one module opened at ``start``: completed with its check, or left part-way."""
        lid, comp = leaders[i]["id"], md.primary_competency
        emit("launched", "module", md, start, lid, competency=comp)
        if not finish:
            spent = float(md.minutes * 60 * rng.uniform(0.15, 0.6))
            emit("progressed", "module", md, start + timedelta(seconds=spent), lid, competency=comp, duration=spent)
            recent[i, dims.index(comp)] += spent / 60
            return
        spent = float(md.minutes * 60 * rng.lognormal(0.0, 0.3))
        emit("completed", "module", md, start + timedelta(seconds=spent), lid, competency=comp, duration=spent,
             completion=True)
        recent[i, dims.index(comp)] += spent / 60
        n_q = len(md.knowledge_check)
        right = int(rng.binomial(n_q, 1 / (1 + np.exp(-(0.8 + theta[i][dims.index(comp)])))))
        emit("passed" if right / n_q >= 0.5 else "failed", "knowledge-check", md,
             start + timedelta(seconds=spent + 120), lid, competency=comp, score=right / n_q,
             success=right / n_q >= 0.5)
        completed[i].add(md.id)

    for week in range(WEEKS):
        monday = t0 + timedelta(weeks=week, hours=15)  # 08:00 the next morning
        if week >= 1:
            contexts = [LeaderContext(
                leader_id=r["id"], role_level=r["role_level"], first_time=r["first_time"], skill_mean=mean[i],
                skill_sd=sd[i], completed=frozenset(completed[i]), weekly_minutes=float(r["weekly_minutes"]),
                recent_minutes={c: float(recent[i, d]) for d, c in enumerate(dims) if recent[i, d] > 0},
                function=r["function"]) for i, r in enumerate(leaders)]
            served = recommend_batch(contexts, library, strategy, k=PLAN_SIZE, rng=rng, **spec)
            chosen = np.full((n, PLAN_SIZE), -1)
            for i, plan in enumerate(served):
                for r in plan:
                    chosen[i, r.rank - 1] = index[r.module_id]
            available = learning.available_minutes(np.array([r["weekly_minutes"] for r in leaders], float), rng, dyn)
            done = work_through(chosen, minutes_of, engagement, available, rng)
            shown, irrelevant, too_long = np.zeros(n), np.zeros(n), np.zeros(n)
            for i, plan in enumerate(served):
                if plan:
                    plans += 1
                for r in plan:
                    md, slot = by_module[r.module_id], r.rank - 1
                    d = dims.index(md.primary_competency)
                    shown[i] += 1
                    irrelevant[i] += expect[i, d] - theta[i, d] <= dyn.relevance_threshold
                    too_long[i] += md.minutes > available[i]
                    start = monday + timedelta(days=int(rng.integers(0, 5)), hours=int(rng.integers(1, 9)))
                    if done[i, slot]:
                        status = "completed"
                        study(i, md, start, finish=True)
                    elif rng.random() < STARTED_UNFINISHED * engagement[i]:
                        status = "expired"  # started, not finished before the next plan
                        study(i, md, start, finish=False)
                    else:
                        status = "dismissed" if rng.random() < DISMISSED else "expired"
                    recs.append(dict(
                        id=_uid(seed, "rec", r.module_id, leaders[i]["id"], week), leader_id=leaders[i]["id"],
                        module_id=r.module_id, strategy=r.strategy, score=float(r.score), reason=r.reason,
                        propensity=float(r.propensity), rank=r.rank, status=status, served_at=monday,
                        context=contexts[i].to_dict()))
            denom = np.maximum(shown, 1)
            engagement = learning.update_engagement(engagement, irrelevant / denom, too_long / denom, shown > 0, dyn)
        for i, r in enumerate(leaders):
            for _ in range(int(rng.poisson(EXPLORE_RATE * engagement[i]))):
                md = modules[int(rng.integers(len(modules)))]
                start = t0 + timedelta(weeks=week, days=int(rng.integers(0, 5)), hours=int(rng.integers(15, 25)))
                if start < t_end:
                    study(i, md, start, finish=md.id not in completed[i] and rng.random() < 0.5 + 0.4 * engagement[i])
            if scenarios and rng.random() < 0.25 * engagement[i]:
                sc = scenarios[int(rng.integers(len(scenarios)))]
                start = t0 + timedelta(weeks=week, days=int(rng.integers(0, 5)), hours=17)
                if start > t_end:
                    continue
                run_id = _uid(seed, "run", r["id"], week)
                node, step, qualities, now = sc.start, 0, [], start
                while not sc.nodes[node].ending:
                    opts = sc.nodes[node].choices
                    skill = np.mean([theta[i][dims.index(c)] for c in sc.competencies if c in dims] or [0.0])
                    q = np.array([np.mean(list(c.quality.values())) for c in opts])
                    w = np.exp(1.2 * skill * (q - q.mean()) + 0.8 * (q - q.mean()))
                    c = opts[int(rng.choice(len(opts), p=w / w.sum()))]
                    now = now + timedelta(seconds=int(rng.integers(40, 150)))
                    choices.append(dict(run_id=run_id, step=step, node_id=node, choice_id=c.id, chosen_at=now))
                    qualities.append(np.mean(list(c.quality.values())) / 3)
                    node, step = c.next, step + 1
                runs.append(dict(id=run_id, leader_id=r["id"], scenario_id=sc.id, started_at=start, finished_at=now,
                                 ending=node))
                emit("completed", "scenario", sc, now, r["id"], competency=sc.competencies[0],
                     score=float(np.mean(qualities)), duration=(now - start).total_seconds(), completion=True)
    return _Learning(events, runs, choices, recs, plans)


@dataclass(frozen=True)
class _FollowUp:
    raters: list[dict]
    sessions: list[dict]
    responses: list[dict]
    states: tuple[tuple[str, int], ...]


def _follow_up_invitations(seed: int, t0: datetime, t_end: datetime, leader_ids: list[str],
                           submitted: list[dict[str, int]], theta: np.ndarray, params: ItemParams,
                           peers_hidden: str | None, asked: dict[str, np.ndarray]) -> _FollowUp:
    """The later round of invitations, left in every state, from a random stream of its own.

    A leader with fewer than three submitted peers (or direct reports, if they have any) asks
    more of them with probability 0.6, enough to reach three; one with three or more asks one
    more peer with probability 0.1. What became of each invitation is drawn from
    :data:`FOLLOW_UP_STATES`; the first five cycle through all of them, so every state is
    present whatever the seed, and ``peers_hidden``'s one extra peer is left ``invited`` (not
    started) for the end-to-end test to answer.
    """
    rng = np.random.default_rng([seed, 3])
    D = theta.shape[1]
    raters, sessions, responses, states = [], [], [], []
    cycled = 0
    day = timedelta(days=1)

    def hours() -> timedelta:
        return timedelta(hours=int(rng.integers(0, 9)))

    for i, lid in enumerate(leader_ids):
        for role in ANONYMOUS_ROLES:
            have = submitted[i][role]
            if lid == peers_hidden and role == "peer":
                extra = 1
            elif have >= MIN_ANONYMOUS_RATERS:
                extra = int(role == "peer" and rng.random() < 0.1)
            elif have == 0 and role == "direct_report":
                extra = 0  # no team to ask
            else:
                extra = (MIN_ANONYMOUS_RATERS - have) * int(rng.random() < 0.6)
            for k in range(have, have + extra):
                if lid == peers_hidden and role == "peer":
                    state = "invited"
                elif cycled < len(FOLLOW_UP_STATES):
                    state, cycled = FOLLOW_UP_STATES[cycled], cycled + 1
                else:
                    state = str(rng.choice(FOLLOW_UP_STATES, p=FOLLOW_UP_P))
                states.append(state)
                rid = f"{lid}-{role}-{k}"
                if state == "expired":  # asked soon after the start, never finished
                    invited = t0 + int(rng.integers(1, 10)) * day + hours()
                else:
                    invited = t_end - int(rng.integers(1, 16)) * day - hours()
                reminded, count, revoked = None, 0, None
                if state == "reminded":  # once or twice, three days apart, the last a day or more ago
                    count = int(rng.integers(1, 3))
                    invited = min(invited, t_end - (4 + 3 * count) * day)
                    reminded = invited + (3 + 3 * count) * day
                elif state == "revoked":
                    revoked = invited + int(rng.integers(1, 4)) * day
                    revoked = min(revoked, t_end - timedelta(hours=1))
                label = f"{role.replace('_', ' ').title()} {k + 1}"
                raters.append(dict(id=rid, leader_id=lid, role=role, name=label,
                                   email=f"{role}.{k + 1}.{lid}@northwind.example".replace("_", "-").lower(),
                                   invited_at=invited, expires_at=invited + INVITATION_DAYS * day, invited_by=lid,
                                   reminded_at=reminded, reminder_count=count, revoked_at=revoked))
                draft = state == "started" or (state in ("reminded", "expired") and rng.random() < 0.4)
                if not draft:
                    continue
                latest = min(reminded or invited, t_end) + int(rng.integers(0, 3)) * day + hours()
                started = min(latest, t_end - timedelta(hours=1))
                view = theta[i] + rng.normal(0.0, RATER_NOISE, size=D)
                y = simulate_responses(view[None, :], params, rng)[0]
                labels = _labels(y[None, :], params)[0]
                sid = _uid(seed, "session", rid)
                sessions.append(dict(id=sid, leader_id=lid, rater_id=rid, rater_role=role, form="full",
                                     status="draft", started_at=started, submitted_at=None))
                order = rng.permutation(params.n_items)[: int(rng.integers(3, params.n_items - 5))]
                order = [j for j in order if asked[role][j]]
                for step, j in enumerate(order):  # stopped part-way: a draft to resume
                    responses.append(dict(session_id=sid, item_id=params.item_ids[j], value=int(labels[j]),
                                          answered_at=started + timedelta(seconds=20 * (step + 1))))
    counts = tuple((st, states.count(st)) for st in FOLLOW_UP_STATES)
    return _FollowUp(raters, sessions, responses, counts)


def demo_showcase(engine: Engine) -> dict[str, str | None]:
    """The demo leaders chosen to show the anonymity rule (stored with the organization):
    ``peers_hidden`` (two peers answered, a third is invited) and ``peers_visible`` (three or more)."""
    with transaction(engine) as s:
        org = s.get(m.Organization, DEMO_ORG)
        if org is None:
            raise LookupError("there is no demo organization in this store: run 'workbench demo'")
        return dict((org.settings or {}).get("showcase", {}))



def demo_exists(engine: Engine) -> bool:
    """Whether the store already holds the demo organization."""
    with transaction(engine) as s:
        return s.get(m.Organization, DEMO_ORG) is not None


def ensure_demo(url: str | None = None, library: Library | None = None, seed: int = 7) -> Engine:
    """An engine on ``url`` (default ``WORKBENCH_DB``) that holds the demo organization,
    building it first when it is missing (for notebooks and experiments)."""
    from .store import connect

    engine = connect(url)
    if not demo_exists(engine):
        build_demo(engine, library or Library.load(), seed=seed)
    return engine
