#!/usr/bin/python3
"""NumPy peer of talentsim: the same model (MODEL.md v2 as implemented in
sim/model/agent.c and sim.c), written the way a competent NumPy user would
write it: agents as columns (one array per field), every mechanism a
vectorised masked operation over all agents, numpy.random.Generator (PCG64)
for the draws. It is a speed reference for `make bench`; its results agree
with the engine's in distribution, not bit for bit.

Usage:
    ./talentsim SCENARIO.yaml --dump > /tmp/resolved.yaml
    /usr/bin/python3 bench/peer_numpy.py /tmp/resolved.yaml [-r REPS]
        [--sample-fraction F] [--seed S]

Prints one line
    numpy_peer agent_years=... seconds=... agent_years_per_s=... reps=... ...
(agent-years: agents active at the start of a simulated year, spin-up
included, as the engine counts them; seconds: the replications only, not the
YAML load), then one line per target (the scenario's `targets:`) with the
simulated mean and 95% interval over replications at the target year, and
the same metrics plus a few stocks at the final year.
"""
import os

# Single core: set before numpy is imported.
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
           "NUMEXPR_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import yaml  # noqa: E402

US, CN = 0, 1
STUDENT, EARLY, SENIOR = 0, 1, 2
ACAD, IND = 0, 1
V_NONE, V_STUDENT, V_TEMP, V_PERM, V_CIT = 0, 1, 2, 3, 4
BANS = {"none": 0, "noncitizens": 1, "all": 2}
Z90 = 1.2815515655446004  # top-decile talent cut, as in the engine

COLS = ("q", "sens", "h", "loc", "stage", "sector", "visa", "collab", "yis",
        "yiu", "yov", "considered", "grad_year", "grad_in_us")

# Metrics reported in real-world units (divided by sample_fraction).
COUNT_METRICS = {
    "stock.us.student", "stock.us.early", "stock.us.senior", "stock.us.total",
    "stock.cn.student", "stock.cn.early", "stock.cn.senior", "stock.cn.total",
    "stock.us.academia", "stock.us.industry", "talent.us", "talent.cn",
    "flows.us_to_cn", "flows.us_to_cn_academic", "flows.cn_to_us",
    "flows.forced", "flows.forced_academic", "flows.graduates_us",
    "flows.graduates_stay_us", "inflow.us_students", "inflow.cn_students",
    "output.papers_us", "output.papers_cn", "output.papers_joint",
}


def llround(x):
    """C llround for x >= 0 (Python's round() rounds half to even)."""
    return int(math.floor(x + 0.5))


def clip01(x):
    return np.clip(x, 0.0, 1.0)


def logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


# ---------------------------------------------------------------- scenario

def load_scenario(path):
    with (sys.stdin if path == "-" else open(path)) as f:
        doc = yaml.safe_load(f)
    base = {}
    for k, v in doc.items():
        if k in ("name", "description", "policies", "targets"):
            continue
        base[k] = BANS[v] if k == "funding.federal_ban" else v
    policies = []
    for pol in doc.get("policies") or []:
        sets = {k: (BANS[v] if k == "funding.federal_ban" else v)
                for k, v in (pol.get("set") or {}).items()}
        policies.append((int(pol["from"]), pol.get("to"), sets))
    targets = [(t["metric"], int(t["year"]), t.get("observed"))
               for t in doc.get("targets") or []]
    return doc.get("name", "?"), base, policies, targets


def params_at(base, policies, year):
    """MODEL 3: P_t = base with every policy active in t applied in order."""
    p = dict(base)
    for frm, to, sets in policies:
        to = base["years.end"] if to is None else int(to)
        if frm <= year <= to:
            p.update(sets)
    return p


# -------------------------------------------------------------- population

class Pop:
    """Agents as columns; only active agents are kept."""

    def __init__(self):
        self.q = np.empty(0)
        self.sens = np.empty(0)
        self.h = np.empty(0)
        self.loc = np.empty(0, np.int8)
        self.stage = np.empty(0, np.int8)
        self.sector = np.empty(0, np.int8)
        self.visa = np.empty(0, np.int8)
        self.collab = np.empty(0, bool)
        self.yis = np.empty(0, np.int16)
        self.yiu = np.empty(0, np.int16)
        self.yov = np.empty(0, np.int16)
        self.considered = np.empty(0, np.uint8)
        self.grad_year = np.empty(0, np.int16)
        self.grad_in_us = np.empty(0, bool)

    def __len__(self):
        return len(self.q)

    def keep(self, mask):
        for c in COLS:
            setattr(self, c, getattr(self, c)[mask])

    def append(self, new):
        for c in COLS:
            setattr(self, c, np.concatenate((getattr(self, c), new[c])))


def births(rng, p, n, loc, stage, s):
    """MODEL 2: new agents of one location and stage (columns)."""
    sig, ss = p["population.talent_sigma"], p["suspicion.sens_sigma"]
    q = np.exp(sig * rng.standard_normal(n))
    sens = np.exp(ss * rng.standard_normal(n) - 0.5 * ss * ss)
    return {
        "q": q, "sens": sens, "h": clip01(sens * s),
        "loc": np.full(n, loc, np.int8), "stage": np.full(n, stage, np.int8),
        "sector": np.zeros(n, np.int8),
        "visa": np.full(n, V_STUDENT if loc == US else V_NONE, np.int8),
        "collab": np.zeros(n, bool), "yis": np.zeros(n, np.int16),
        "yiu": np.zeros(n, np.int16), "yov": np.zeros(n, np.int16),
        "considered": np.zeros(n, np.uint8),
        "grad_year": np.full(n, -1, np.int16), "grad_in_us": np.zeros(n, bool),
    }


def init_population(rng, p, pop):
    """MODEL 2b, with P of the first simulated year."""
    sf, s, phd = p["sample_fraction"], p["suspicion.level"], p["career.phd_years"]
    for loc, name in ((US, "us"), (CN, "cn")):
        for stage, key in ((STUDENT, "students"), (EARLY, "early"), (SENIOR, "senior")):
            n = llround(p[f"population.{name}.{key}"] * sf)
            a = births(rng, p, n, loc, stage, s)
            span = phd if stage == STUDENT else (10 if stage == EARLY else 20)
            a["yis"] = rng.integers(0, span, n).astype(np.int16)
            if stage != STUDENT:
                a["sector"] = np.where(rng.random(n) < p[f"population.{name}.industry_share"],
                                       IND, ACAD).astype(np.int8)
                a["collab"] = rng.random(n) < p["population.collab_share"]
            if loc == US:
                if stage == STUDENT:
                    a["yiu"] = a["yis"].copy()
                elif stage == EARLY:
                    a["yiu"] = (phd + a["yis"]).astype(np.int16)
                    temp = rng.random(n) < p["population.us.init_temp_share"]
                    a["visa"] = np.where(temp, V_TEMP, V_PERM).astype(np.int8)
                    yov = rng.integers(0, p["visa.max_temp_years"], n)
                    a["yov"] = np.where(temp, yov, 0).astype(np.int16)
                else:
                    a["yiu"] = (phd + 6 + a["yis"]).astype(np.int16)
                    cit = rng.random(n) < p["population.us.init_citizen_share"]
                    a["visa"] = np.where(cit, V_CIT, V_PERM).astype(np.int8)
                    a["yov"] = np.where(cit, 0, rng.integers(0, 10, n)).astype(np.int16)
            pop.append(a)


# ------------------------------------------------------------ utilities

def f_us(p, visa):
    """MODEL 5: F_US = us_federal_access unless banned."""
    ban, acc = p["funding.federal_ban"], p["funding.us_federal_access"]
    if ban == 2:
        return np.zeros(len(visa))
    if ban == 1:
        return np.where(visa == V_CIT, acc, 0.0)
    return np.full(len(visa), float(acc))


def dv_cn_us(pop, idx, p, yc, at_grad, relief):
    """V_CN - V_US (MODEL 5) for the agents idx."""
    loc, visa, q = pop.loc[idx], pop.visa[idx], pop.q[idx]
    in_cn = loc == CN
    temp = at_grad | np.where(in_cn, visa != V_CIT, visa == V_TEMP)
    stuck = (pop.stage[idx] == EARLY) & (pop.yis[idx] >= p["career.stuck_years"])
    ties = np.minimum(pop.yiu[idx], 10) / 10.0
    v_us = (p["utility.fund"] * f_us(p, visa)
            + p["utility.collab"] * p["collaboration.openness"] * pop.collab[idx]
            + p["utility.eco"] * yc["a_us"] + p["utility.talent_us"] * np.log(q)
            - p["utility.fear"] * pop.h[idx] - p["utility.visa"] * temp
            - p["utility.stuck"] * stuck + p["utility.ties"] * ties
            - p["utility.move_cost"] * in_cn)
    v_cn = (p["utility.wage"] * np.where(relief, yc["dw1"], yc["dw0"])
            + p["utility.fund"] * p["funding.cn_level"] + p["utility.eco"] * yc["a_cn"]
            + p["utility.talent"] * p["china.talent_program"] * (q >= p["china.talent_threshold"])
            + p["utility.home"] + p["utility.asc_cn"]
            - p["utility.move_cost"] * (loc == US))
    return v_cn - v_us


# ----------------------------------------------------------------- a year

def move_to_cn(pop, idx, s):
    nc = idx[pop.visa[idx] != V_CIT]
    pop.visa[nc] = V_NONE
    pop.yov[nc] = 0
    pop.loc[idx] = CN
    pop.h[idx] = clip01(pop.sens[idx] * s)


def move_to_us(pop, idx, s):
    nc = idx[pop.visa[idx] != V_CIT]
    pop.visa[nc] = V_TEMP
    pop.yov[nc] = 0
    pop.loc[idx] = US
    pop.h[idx] = clip01(pop.sens[idx] * s)


def record_to_cn(pop, idx, st_stage, forced, t):
    """MODEL 6: flows of the US->CN moves idx, just made."""
    acad = (st_stage[idx] != STUDENT) & (pop.sector[idx] == ACAD)
    t["us_to_cn"] += int(np.count_nonzero(pop.stage[idx] != STUDENT))
    t["us_to_cn_acad"] += int(np.count_nonzero(acad))
    if forced:
        t["forced"] += len(idx)
        t["forced_acad"] += int(np.count_nonzero(acad))
    else:
        t["voluntary"] += len(idx)
        t["q_voluntary"] += float(pop.q[idx].sum())


def decide(rng, pop, idx, p, yc, at_grad, st_stage, moved, t):
    """MODEL 3.6: location decisions of the agents idx."""
    n = len(idx)
    relief = rng.random(n) < p["china.tax_relief_coverage"]
    dv = dv_cn_us(pop, idx, p, yc, at_grad, relief)
    in_us = pop.loc[idx] == US
    prob = np.where(in_us, p["china.offer_rate"] * logistic(dv),
                    p["us.offer_rate"] * p["visa.work_approval"] * logistic(-dv))
    go = rng.random(n) < prob
    to_cn, to_us = idx[go & in_us], idx[go & ~in_us]
    move_to_cn(pop, to_cn, yc["s"])
    move_to_us(pop, to_us, yc["s"])
    moved[to_cn] = True
    moved[to_us] = True
    t["cn_to_us"] += len(to_us)
    record_to_cn(pop, to_cn, st_stage, False, t)


def sim_year(rng, pop, p, year, carry, sf):
    """MODEL 4 for one year; returns the year's tally (a dict)."""
    t = dict.fromkeys(("us_to_cn", "us_to_cn_acad", "cn_to_us", "forced", "forced_acad",
                       "voluntary", "grad_us", "grad_stay_us"), 0)
    t["q_voluntary"] = 0.0
    s = p["suspicion.level"]
    # derived constants and last year's aggregates (MODEL 5)
    base = math.log(p["china.salary_ratio"]) - math.log(1.0 - p["china.tax_us"])
    el = p["eco.elasticity"]
    yc = {"s": s,
          "dw0": base + math.log(1.0 - p["china.tax_cn"]),
          "dw1": base + math.log(1.0 - p["china.tax_cn"] * (1.0 - p["china.tax_relief"])),
          "a_us": el * (carry["share_prev"][US] - carry["share0"][US]) if carry["have_prev"] else 0.0,
          "a_cn": el * (carry["share_prev"][CN] - carry["share0"][CN]) if carry["have_prev"] else 0.0}

    # 2. inflow
    start = p["years.start"]
    n_us = llround(p["inflow.us_students.base"] * (1 + p["inflow.us_students.growth"]) ** (year - start)
                   * p["visa.student_approval"] * sf)
    n_cn = llround(p["inflow.cn_students.base"] * (1 + p["inflow.cn_students.growth"]) ** (year - start) * sf)
    pop.append(births(rng, p, n_us, US, STUDENT, s))
    pop.append(births(rng, p, n_cn, CN, STUDENT, s))
    t["inflow_us"], t["inflow_cn"] = n_us, n_cn

    # start-of-year counts
    t["agent_years"] = len(pop)
    start_us_acad = int(np.count_nonzero((pop.loc == US) & (pop.stage != STUDENT)
                                         & (pop.sector == ACAD)))

    # 3.1 attrition
    att = np.array([p["career.attrition.student"], p["career.attrition.early"],
                    p["career.attrition.senior"]])
    pop.keep(rng.random(len(pop)) >= att[pop.stage])
    n = len(pop)
    st_stage = pop.stage.copy()
    moved = np.zeros(n, bool)
    decided = np.zeros(n, bool)

    # 3.2 collaboration
    open_ = p["collaboration.openness"]
    ns = pop.stage != STUDENT
    u = rng.random(n)
    end_p = p["collaboration.end_rate"] + p["collaboration.break_rate"] * (1.0 - open_)
    pop.collab = np.where(ns, np.where(pop.collab, u >= end_p, u < p["collaboration.form_rate"] * open_),
                          pop.collab)

    # 3.3 fear
    us = pop.loc == US
    iu = np.flatnonzero(us)
    lam = p["suspicion.adaptation"]
    peer = p["suspicion.peer_effect"] * carry["d_prev"] / p["suspicion.d_ref"]
    eps = p["suspicion.fear_noise"] * rng.standard_normal(len(iu))
    target = clip01(pop.sens[iu] * s + peer + eps)
    h_us = (1.0 - lam) * pop.h[iu] + lam * target
    pop.h = clip01(pop.sens * s)
    pop.h[iu] = h_us

    # 3.4 visa (US only)
    u = rng.random(len(iu))
    v, yov = pop.visa[iu], pop.yov[iu]
    temp = v == V_TEMP
    gc = temp & (u < p["visa.green_card_rate"])
    nat = (v == V_PERM) & (yov >= 5) & (u < p["visa.naturalization_rate"])
    expire = (temp & ~gc & (yov >= p["visa.max_temp_years"])
              & ~(rng.random(len(iu)) < p["visa.extension_rate"]))
    pop.visa[iu[gc]] = V_PERM
    pop.visa[iu[nat]] = V_CIT
    pop.yov[iu[gc | nat]] = 0
    ix = iu[expire]
    move_to_cn(pop, ix, s)
    moved[ix] = True
    record_to_cn(pop, ix, st_stage, True, t)

    # 3.5 career: candidates first, so graduates are not promoted this year
    grad = np.flatnonzero((pop.stage == STUDENT) & (pop.yis >= p["career.phd_years"]))
    cand = np.flatnonzero((pop.stage == EARLY) & (pop.yis >= p["career.promote_min_years"]))
    ind_share = np.array([p["population.us.industry_share"], p["population.cn.industry_share"]])
    pop.stage[grad] = EARLY
    pop.yis[grad] = 0
    pop.grad_year[grad] = year
    g_us = pop.loc[grad] == US
    pop.grad_in_us[grad] = g_us
    pop.sector[grad] = np.where(rng.random(len(grad)) < ind_share[pop.loc[grad]], IND, ACAD)
    gu = grad[g_us]
    t["grad_us"] = len(gu)
    decided[gu] = True
    auth = rng.random(len(gu)) < p["visa.work_approval"]
    ix = gu[~auth]
    move_to_cn(pop, ix, s)
    moved[ix] = True
    record_to_cn(pop, ix, st_stage, True, t)
    ga = gu[auth]
    decide(rng, pop, ga, p, yc, True, st_stage, moved, t)
    stay = ga[~moved[ga]]
    pop.visa[stay] = V_TEMP
    pop.yov[stay] = 0
    t["grad_stay_us"] = len(stay)
    # promotion
    ceiling = np.where(pop.loc[cand] == US, p["career.promotion_ceiling"], 0.0)
    pr = np.minimum(1.0, p["career.promote_rate"] * pop.q[cand] ** p["career.promote_talent"]
                    * (1.0 - ceiling))
    up = cand[rng.random(len(cand)) < pr]
    pop.stage[up] = SENIOR
    pop.yis[up] = 0

    # 3.6 review
    rev = np.flatnonzero(~moved & ~decided & (pop.stage != STUDENT))
    rev = rev[rng.random(len(rev)) < p["career.review_rate"]]
    decide(rng, pop, rev, p, yc, False, st_stage, moved, t)

    # 3.7 consideration
    pop.considered <<= 1
    ic = np.flatnonzero((pop.loc == US) & (pop.stage != STUDENT))
    relief = rng.random(len(ic)) < p["china.tax_relief_coverage"]
    x = dv_cn_us(pop, ic, p, yc, False, relief) + p["survey.consider_shift"]
    pop.considered[ic[rng.random(len(ic)) < logistic(x)]] |= 1

    # 3.8 counters (saturating at 255 like the engine's bytes)
    pop.yis = np.minimum(pop.yis + 1, 255).astype(np.int16)
    us = pop.loc == US
    pop.yov[us] = np.minimum(pop.yov[us] + 1, 255)
    pop.yiu[us] = np.minimum(pop.yiu[us] + 1, 255)

    # 4. record (end-of-year state)
    m = record(pop, p, year, t, moved, us, sf)
    # 5. aggregates for t+1
    tot = m["_t_us"] + m["_t_cn"]
    carry["share_prev"] = (m["_t_us"] / tot, m["_t_cn"] / tot) if tot > 0 else (0.0, 0.0)
    carry["d_prev"] = t["us_to_cn_acad"] / start_us_acad if start_us_acad > 0 else 0.0
    carry["have_prev"] = True
    return t["agent_years"], m


def ratio(a, b):
    return a / b if b > 0 else float("nan")


def record(pop, p, year, t, moved, us, sf):
    """MODEL 6 metrics of the year (counts in real-world units)."""
    m = {}
    stage, q = pop.stage, pop.q
    for loc, name in ((US, "us"), (CN, "cn")):
        at = pop.loc == loc
        cnt = np.bincount(stage[at], minlength=3)
        m[f"stock.{name}.student"], m[f"stock.{name}.early"], m[f"stock.{name}.senior"] = (
            int(cnt[0]), int(cnt[1]), int(cnt[2]))
        m[f"stock.{name}.total"] = int(cnt.sum())
    m["_t_us"] = float(q[us].sum())
    m["_t_cn"] = float(q[~us].sum())
    m["talent.us"], m["talent.cn"] = m["_t_us"], m["_t_cn"]
    top = q >= math.exp(Z90 * p["population.talent_sigma"])
    m["top_talent.us_share"] = ratio(np.count_nonzero(top & us), np.count_nonzero(top))
    coh = pop.grad_in_us & (pop.grad_year == year - 5)
    m["cohort.stay_rate_5y"] = ratio(np.count_nonzero(coh & us), np.count_nonzero(coh))

    ns = stage != STUDENT
    usn = us & ns
    acad = usn & (pop.sector == ACAD)
    m["stock.us.academia"] = int(np.count_nonzero(acad))
    m["stock.us.industry"] = int(np.count_nonzero(usn & (pop.sector == IND)))
    stayers = usn & ~moved
    m["talent.mean_us_stayers"] = ratio(float(q[stayers].sum()), np.count_nonzero(stayers))
    m["talent.mean_us_to_cn_voluntary"] = ratio(t["q_voluntary"], t["voluntary"])

    # output
    open_ = p["collaboration.openness"]
    f = np.where(us, f_us(p, pop.visa), p["funding.cn_level"])
    papers = (q * (1.0 + p["output.rho_fund"] * f) * (1.0 + p["output.rho_collab"] * open_ * pop.collab)
              * np.where(us, 1.0, 1.0 + p["output.cn_data_advantage"]))
    m["output.papers_us"] = float(papers[usn].sum())
    m["output.papers_cn"] = float(papers[ns & ~us].sum())
    m["output.papers_joint"] = float((q[ns & pop.collab]).sum() * p["output.rho_collab"] * open_)

    # survey over US academics
    ia = np.flatnonzero(acad)
    h, c, n_a = pop.h[ia], pop.collab[ia], len(ia)
    wmask = (1 << int(p["survey.window"])) - 1
    m["survey.feel_unsafe"] = ratio(np.count_nonzero(h > p["survey.threshold_unsafe"]), n_a)
    m["survey.considered_leaving"] = ratio(np.count_nonzero(pop.considered[ia] & wmask), n_a)
    m["survey.collab_worry"] = ratio(
        np.count_nonzero(h + p["survey.collab_weight"] * c > p["survey.threshold_collab"]), n_a)
    m["survey.grant_reluctant"] = ratio(
        np.count_nonzero(h + p["survey.ban_weight"] * (1.0 - f[ia]) > p["survey.threshold_grant"]), n_a)
    m["fear.us_mean"] = ratio(float(h.sum()), n_a)
    m["collab.us_academia_share"] = ratio(np.count_nonzero(c), n_a)

    m["flows.us_to_cn"] = t["us_to_cn"]
    m["flows.us_to_cn_academic"] = t["us_to_cn_acad"]
    m["flows.cn_to_us"] = t["cn_to_us"]
    m["flows.forced"] = t["forced"]
    m["flows.forced_academic"] = t["forced_acad"]
    m["flows.graduates_us"] = t["grad_us"]
    m["flows.graduates_stay_us"] = t["grad_stay_us"]
    m["inflow.us_students"] = t["inflow_us"]
    m["inflow.cn_students"] = t["inflow_cn"]
    for k in COUNT_METRICS:
        m[k] = m[k] / sf
    return m


def run_replication(base, policies, seed, rep):
    """One replication; returns (agent_years, {year: metrics}) of the recorded years."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, rep])))
    start, end, spin = base["years.start"], base["years.end"], base["years.spinup"]
    year0 = start - spin
    sf = base["sample_fraction"]
    pop = Pop()
    p0 = params_at(base, policies, year0)
    init_population(rng, p0, pop)
    t_us = float(pop.q[pop.loc == US].sum())
    t_cn = float(pop.q[pop.loc == CN].sum())
    tot = t_us + t_cn
    share0 = (t_us / tot, t_cn / tot) if tot > 0 else (0.0, 0.0)
    carry = {"share0": share0, "share_prev": (0.0, 0.0), "d_prev": 0.0, "have_prev": False}
    out, ay = {}, 0
    for year in range(year0, end + 1):
        p = params_at(base, policies, year)
        n, m = sim_year(rng, pop, p, year, carry, sf)
        ay += n
        if year >= start:
            out[year] = m
    return ay, out


# -------------------------------------------------------------------- main

def main(argv=None):
    ap = argparse.ArgumentParser(description="NumPy peer of talentsim (benchmark).")
    ap.add_argument("scenario", help="resolved scenario YAML (talentsim SCENARIO.yaml --dump), or -")
    ap.add_argument("-r", "--reps", type=int, default=None,
                    help="replications (default: the scenario's)")
    ap.add_argument("--sample-fraction", type=float, default=None)
    ap.add_argument("--seed", type=int, default=None)
    a = ap.parse_args(argv)

    name, base, policies, targets = load_scenario(a.scenario)
    if a.sample_fraction is not None:
        if not 0.0 < a.sample_fraction <= 1.0:
            ap.error("--sample-fraction must be in (0, 1]")
        base["sample_fraction"] = a.sample_fraction
    if a.seed is not None:
        base["seed"] = a.seed
    reps = a.reps if a.reps is not None else int(base["replications"])
    if reps < 1:
        ap.error("-r must be >= 1")
    if not targets:
        sy = base["survey.year"]
        targets = [("survey.feel_unsafe", sy, None), ("survey.considered_leaving", sy, None),
                   ("survey.collab_worry", sy, None), ("survey.grant_reluctant", sy, None),
                   ("flows.us_to_cn_academic", 2017, None), ("flows.us_to_cn_academic", 2021, None)]

    t0 = time.perf_counter()
    ay, res = 0, []
    for r in range(reps):
        n, out = run_replication(base, policies, int(base["seed"]), r)
        ay += n
        res.append(out)
    secs = time.perf_counter() - t0

    print(f"numpy_peer agent_years={ay:.4g} seconds={secs:.3f} agent_years_per_s={ay / secs:.4g} "
          f"reps={reps} sample_fraction={base['sample_fraction']:g} scenario={name} "
          f"numpy={np.__version__}", flush=True)

    def stat(metric, year):
        v = np.array([o[year][metric] for o in res if year in o], float)
        v = v[~np.isnan(v)]
        if len(v) == 0:
            return "mean=nan"
        lo, hi = np.percentile(v, [2.5, 97.5])
        fmt = "{:.0f}" if metric in COUNT_METRICS else "{:.3f}"
        return (f"mean={fmt.format(v.mean())} p2_5={fmt.format(lo)} p97_5={fmt.format(hi)}")

    end = base["years.end"]
    for metric, year, obs in targets:
        print(f"target metric={metric} year={year} observed={obs} {stat(metric, year)}")
    seen = []
    for metric, _, _ in targets:
        if metric not in seen:
            seen.append(metric)
    extra = ["fear.us_mean", "collab.us_academia_share", "stock.us.total", "stock.cn.total", "stock.us.academia", "flows.us_to_cn",
             "flows.cn_to_us", "flows.forced_academic", "cohort.stay_rate_5y"]
    sy = base["survey.year"]
    for metric in extra:
        print(f"value metric={metric} year={sy} {stat(metric, sy)}")
    for metric in seen + extra:
        print(f"final metric={metric} year={end} {stat(metric, end)}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # e.g. piped into head
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
