#!/usr/bin/python3
"""talentsim plot: figures and a self-contained HTML report of a results directory.

Usage: plot.py DIR [--metric NAME]

DIR is recognised by its files (docs/plots.md):
  run          manifest.json, summary.csv, replications.csv, targets.csv,
               scenario.resolved.yaml (talentsim SCENARIO -o DIR)
  comparison   compare.csv and one run sub-directory per scenario
  sweep        sweep.resolved.yaml and sweep.csv (talentsim merge), maybe
               sensitivity.csv (talentsim sensitivity)
  calibration  posterior.csv, generations.csv, summary.csv, calibrated.yaml

Writes DIR/plots/*.png and DIR/report.html. Both are written to temporaries
first and renamed into place, so a failure leaves the previous plots/ and
report.html (or none) rather than half-written ones.

Exit status: 0 done, 1 runtime failure (matplotlib missing, I/O), 2 bad
input (not a results directory, a missing file or column, bad numbers).
"""

import argparse
import base64
import csv
import html
import math
import os
import shutil
import signal
import struct
import sys

PROG = "talentsim plot"
INSTALL_HINT = "install it with: bash scripts/install-deps.sh"

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every
# common form of colour-vision deficiency. Black first: the reference.
OKABE_ITO = ["#000000", "#E69F00", "#56B4E9", "#009E73", "#D55E00",
             "#0072B2", "#CC79A7", "#F0E442"]
LINESTYLES = ["-", "--", ":", "-."]

HEADLINE = ["stock.us.total", "stock.cn.total", "top_talent.us_share",
            "flows.us_to_cn", "flows.us_to_cn_academic", "output.papers_us",
            "output.papers_cn", "output.papers_joint", "survey.feel_unsafe",
            "survey.considered_leaving", "survey.collab_worry",
            "survey.grant_reluctant"]
SURVEY = ["survey.feel_unsafe", "survey.considered_leaving",
          "survey.collab_worry", "survey.grant_reluctant"]
STAGES = ["student", "early", "senior", "total"]
FLOW_ACADEMIC = "flows.us_to_cn_academic"

# Column sets each CSV must have (extra columns are ignored).
COLS = {
    "summary.csv": ["scenario", "year", "metric", "mean", "p2_5", "p97_5"],
    "replications.csv": ["scenario", "replication", "year", "metric", "value"],
    "targets.csv": ["metric", "year", "observed", "n", "sim_mean", "sim_p2_5",
                    "sim_p97_5", "met"],
    "compare.csv": ["scenario", "reference", "year", "metric", "mean_diff",
                    "sd_diff", "p2_5", "p97_5", "rel_diff",
                    "variance_reduction"],
    "sweep.csv": ["point", "year", "metric", "mean", "sd", "p2_5", "p50",
                  "p97_5"],
    "sensitivity.csv": ["metric", "year", "parameter", "S1", "S1_lo", "S1_hi",
                        "ST", "ST_lo", "ST_hi"],
    "generations.csv": ["generation", "tolerance", "acceptance_rate", "ess",
                        "evaluations", "seconds"],
    "posterior.csv": ["particle", "weight", "distance"],
    "calibration summary.csv": ["parameter", "prior", "prior_lo", "prior_hi",
                                "mean", "sd", "p2_5", "p50", "p97_5"],
}

DPI = 100


class InputError(Exception):
    """Bad input: exit 2."""


class RuntimeFailure(Exception):
    """The input is fine but the work failed: exit 1."""


# ---------------------------------------------------------------- reading

def unit_of(metric):
    """The unit shown on an axis for a metric of include/talentsim/metrics.h."""
    if metric.startswith("stock.") or metric.startswith("talent."):
        return "people"
    if metric.startswith("flows.") or metric.startswith("inflow."):
        return "people/year"
    if metric.startswith("output."):
        return "papers/year"
    if "share" in metric or metric.startswith("survey.") or "rate" in metric:
        return "share"
    return "value"


def num(text, path, line, col):
    """A CSV number; empty (a missing value) is NaN."""
    if text is None or text.strip() == "":
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise InputError(f"{path}:{line}: column '{col}': '{text}' is not a number")


def read_csv(path, required, label=None):
    """Rows of a CSV file as dicts; every column of required must be there."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            for col in required:
                if col not in header:
                    raise InputError(f"{path}: missing column '{col}'")
            rows = list(reader)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file")
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise InputError(f"{path}: cannot read: {e}")
    for i, r in enumerate(rows):
        if None in r or any(r.get(c) is None for c in required):
            raise InputError(f"{path}:{i + 2}: wrong number of fields")
    return header, rows


def csv_header(path, required):
    """Checks only the header of a (possibly large) CSV file."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            header = next(csv.reader(f), [])
    except FileNotFoundError:
        raise InputError(f"{path}: no such file")
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise InputError(f"{path}: cannot read: {e}")
    for col in required:
        if col not in header:
            raise InputError(f"{path}: missing column '{col}'")


def read_yaml(path):
    import yaml  # Debian python3-yaml (scripts/install-deps.sh)
    try:
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file")
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise InputError(f"{path}: cannot read: {' '.join(str(e).split())}")
    if not isinstance(doc, dict):
        raise InputError(f"{path}: not a YAML mapping")
    return doc


def read_summary(path):
    """summary.csv -> (scenario name, {metric: {year: (mean, lo, hi)}})."""
    _, rows = read_csv(path, COLS["summary.csv"])
    out, name = {}, None
    for i, r in enumerate(rows, start=2):
        name = name or r["scenario"]
        year = int(num(r["year"], path, i, "year"))
        out.setdefault(r["metric"], {})[year] = tuple(
            num(r[c], path, i, c) for c in ("mean", "p2_5", "p97_5"))
    if not rows:
        raise InputError(f"{path}: no rows")
    return name, out


def read_targets(path):
    _, rows = read_csv(path, COLS["targets.csv"])
    out = []
    for i, r in enumerate(rows, start=2):
        n = r["n"].strip()
        out.append({
            "metric": r["metric"], "year": int(num(r["year"], path, i, "year")),
            "observed": num(r["observed"], path, i, "observed"),
            "n": num(n, path, i, "n") if n not in ("", "-") else math.nan,
            "mean": num(r["sim_mean"], path, i, "sim_mean"),
            "lo": num(r["sim_p2_5"], path, i, "sim_p2_5"),
            "hi": num(r["sim_p97_5"], path, i, "sim_p97_5"),
            "met": r["met"].strip().upper(), "source": r.get("source", "")})
    return out


def policies_of(doc, path):
    """The policies: list of a resolved scenario as (name, from, to)."""
    end = doc.get("years.end", (doc.get("years") or {}).get("end"))
    out = []
    for p in doc.get("policies") or []:
        if not isinstance(p, dict) or "name" not in p or "from" not in p:
            raise InputError(f"{path}: a policy without name or from")
        try:
            lo = int(p["from"])
            hi = int(p["to"]) if p.get("to") is not None else int(end)
        except (TypeError, ValueError):
            raise InputError(f"{path}: policy '{p['name']}': bad from/to")
        out.append((str(p["name"]), lo, hi))
    return out


def load_run(d):
    """A scenario run directory."""
    for f in ("manifest.json", "summary.csv", "replications.csv",
              "targets.csv", "scenario.resolved.yaml"):
        if not os.path.isfile(os.path.join(d, f)):
            raise InputError(f"{d}: not a complete run ({f} missing)")
    csv_header(os.path.join(d, "replications.csv"), COLS["replications.csv"])
    name, summary = read_summary(os.path.join(d, "summary.csv"))
    ypath = os.path.join(d, "scenario.resolved.yaml")
    doc = read_yaml(ypath)
    return {"dir": d, "name": str(doc.get("name") or name), "summary": summary,
            "targets": read_targets(os.path.join(d, "targets.csv")),
            "policies": policies_of(doc, ypath),
            "description": str(doc.get("description") or "").strip(),
            "doc": doc}


def detect_kind(d):
    has = lambda f: os.path.isfile(os.path.join(d, f))
    if has("posterior.csv") or has("generations.csv"):
        return "calibration"
    if has("compare.csv"):
        return "comparison"
    if has("sweep.resolved.yaml"):
        if not has("sweep.csv"):
            raise InputError(f"{d}: a sweep without sweep.csv "
                             f"(run 'talentsim merge {d}' first)")
        return "sweep"
    if has("manifest.json") or has("summary.csv"):
        return "run"
    raise InputError(f"{d}: not a results directory (no manifest.json, "
                     "compare.csv, sweep.csv or posterior.csv)")


def load_comparison(d):
    path = os.path.join(d, "compare.csv")
    _, rows = read_csv(path, COLS["compare.csv"])
    if not rows:
        raise InputError(f"{path}: no rows")
    diff, order, reference = {}, [], rows[0]["reference"]
    for i, r in enumerate(rows, start=2):
        s = r["scenario"]
        if s not in order:
            order.append(s)
        year = int(num(r["year"], path, i, "year"))
        diff.setdefault(r["metric"], {}).setdefault(s, {})[year] = tuple(
            num(r[c], path, i, c) for c in ("mean_diff", "p2_5", "p97_5", "rel_diff"))
    runs = {}
    for sub in sorted(os.listdir(d)):
        p = os.path.join(d, sub)
        if os.path.isdir(p) and os.path.isfile(os.path.join(p, "manifest.json")):
            run = load_run(p)
            runs[run["name"]] = run
    names = [reference] + [s for s in order if s != reference]
    return {"reference": reference, "scenarios": names, "diff": diff,
            "runs": runs, "rows": rows}


def load_sweep(d):
    path = os.path.join(d, "sweep.csv")
    header, rows = read_csv(path, COLS["sweep.csv"])
    params = header[1:header.index("year")]
    if not params or not rows:
        raise InputError(f"{path}: no swept parameter or no rows")
    pts = {}
    for i, r in enumerate(rows, start=2):
        key = (r["metric"], int(num(r["year"], path, i, "year")))
        pts.setdefault(key, []).append(
            ([num(r[p], path, i, p) for p in params],
             num(r["mean"], path, i, "mean")))
    doc = read_yaml(os.path.join(d, "sweep.resolved.yaml"))
    method = str((doc.get("sweep") or {}).get("method", "grid"))
    sens = None
    spath = os.path.join(d, "sensitivity.csv")
    if os.path.isfile(spath):
        _, srows = read_csv(spath, COLS["sensitivity.csv"])
        sens = []
        for i, r in enumerate(srows, start=2):
            v = {c: num(r[c], spath, i, c) for c in
                 ("S1", "S1_lo", "S1_hi", "ST", "ST_lo", "ST_hi")}
            v.update(metric=r["metric"], parameter=r["parameter"],
                     year=int(num(r["year"], spath, i, "year")))
            sens.append(v)
    metrics = []
    for m, _ in pts:
        if m not in metrics:
            metrics.append(m)
    return {"params": params, "points": pts, "method": method, "doc": doc,
            "metrics": metrics, "sens": sens,
            "description": str(doc.get("description") or "").strip(),
            "name": str(doc.get("name") or os.path.basename(d))}


def load_calibration(d):
    for f in ("posterior.csv", "generations.csv", "summary.csv", "calibrated.yaml"):
        if not os.path.isfile(os.path.join(d, f)):
            raise InputError(f"{d}: not a complete calibration ({f} missing)")
    ppath = os.path.join(d, "posterior.csv")
    header, rows = read_csv(ppath, COLS["posterior.csv"])
    params = [c for c in header if c not in ("particle", "weight", "distance")]
    if not params or not rows:
        raise InputError(f"{ppath}: no parameter column or no particle")
    post = {p: [num(r[p], ppath, i, p) for i, r in enumerate(rows, 2)] for p in params}
    weights = [num(r["weight"], ppath, i, "weight") for i, r in enumerate(rows, 2)]
    if any(not (w >= 0) for w in weights) or sum(weights) <= 0:
        raise InputError(f"{ppath}: weights must be >= 0 with a positive sum")
    gpath = os.path.join(d, "generations.csv")
    _, grows = read_csv(gpath, COLS["generations.csv"])
    gens = [{c: num(r[c], gpath, i, c) for c in COLS["generations.csv"]}
            for i, r in enumerate(grows, 2)]
    spath = os.path.join(d, "summary.csv")
    _, srows = read_csv(spath, COLS["calibration summary.csv"])
    summ = {}
    for i, r in enumerate(srows, 2):
        v = {c: num(r[c], spath, i, c) for c in
             ("prior_lo", "prior_hi", "mean", "sd", "p2_5", "p50", "p97_5")}
        v["prior"] = r["prior"]
        summ[r["parameter"]] = v
    doc = read_yaml(os.path.join(d, "calibrated.yaml"))
    return {"params": params, "post": post, "weights": weights, "gens": gens,
            "summary": summ, "name": str(doc.get("name") or os.path.basename(d)),
            "description": str(doc.get("description") or "").strip()}


# ---------------------------------------------------------------- drawing

def series(summary, metric):
    """Years, means, lower and upper bounds of a metric, in year order."""
    s = summary.get(metric, {})
    ys = sorted(s)
    return (ys, [s[y][0] for y in ys], [s[y][1] for y in ys], [s[y][2] for y in ys])


def lanes_of(policies):
    """Greedy lanes: policies that overlap in time get different lanes."""
    ends, out = [], []
    for p in sorted(policies, key=lambda p: (p[1], p[2])):
        lane = next((k for k, e in enumerate(ends) if e < p[1]), len(ends))
        if lane == len(ends):
            ends.append(p[2])
        ends[lane] = p[2]
        out.append((p, lane))
    return out, len(ends)


def draw_policies(ax, policies):
    """Shades each policy period (years from..to, inclusive) and labels it
    in a lane at the top of the axes; policies: (name, from, to, colour)."""
    import matplotlib.patches as mpatches
    import matplotlib.transforms as mtransforms
    if not policies:
        return
    placed, nlanes = lanes_of(policies)
    lo, hi = ax.get_ylim()
    frac = min(0.08 * nlanes, 0.4)
    ax.set_ylim(lo, hi + (hi - lo) * frac / (1 - frac))
    trans = mtransforms.blended_transform_factory(ax.transData, ax.transAxes)
    h = frac / nlanes
    for (name, a, b, colour), lane in placed:
        ax.axvspan(a - 0.5, b + 0.5, color="0.5", alpha=0.08, lw=0, zorder=0)
        y0 = 1 - (lane + 1) * h
        ax.add_patch(mpatches.Rectangle(  # a gap between adjacent periods
            (a - 0.45, y0 + h * 0.1), b - a + 0.9, h * 0.8, transform=trans,
            facecolor=colour, alpha=0.25, edgecolor=colour, lw=0.8, zorder=1))
        ax.text(a - 0.3, y0 + h * 0.5, name, transform=trans, fontsize=7,
                va="center", ha="left", zorder=2, clip_on=True)


def years_axis(ax, unit, title):
    from matplotlib.ticker import MaxNLocator
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("year")
    ax.set_ylabel(unit)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, lw=0.5)


def band(ax, summary, metric, colour, label, style="-", alpha=0.18):
    ys, m, lo, hi = series(summary, metric)
    if not ys:
        ax.text(0.5, 0.5, f"no data for {metric}", transform=ax.transAxes,
                ha="center")
        return
    ax.fill_between(ys, lo, hi, color=colour, alpha=alpha, lw=0)
    ax.plot(ys, m, style, color=colour, lw=1.6, label=label)


def target_points(ax, targets, metric, label=True):
    """Observed figures with 95% intervals: +-1.96 sqrt(p(1-p)/n) for a
    survey share, +-1.96 sqrt(observed) (Poisson) for a count."""
    first = True
    for t in targets:
        if t["metric"] != metric or math.isnan(t["observed"]):
            continue
        o = t["observed"]
        if not math.isnan(t["n"]) and t["n"] > 0 and 0 <= o <= 1:
            e = 1.96 * math.sqrt(o * (1 - o) / t["n"])
        else:
            e = 1.96 * math.sqrt(max(o, 0))
        ax.errorbar([t["year"]], [o], yerr=[[e], [e]], fmt="D", color="#D55E00",
                    ms=5, capsize=4, lw=1.4, zorder=5,
                    label="observed (95% interval)" if first and label else None)
        first = False


def new_fig(nrows, ncols, w, h):
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(nrows, ncols, figsize=(w, h), squeeze=False)
    return fig, axes


def scenario_style(k):
    """Colour and line style of the k-th scenario (reference k = 0)."""
    return OKABE_ITO[k % len(OKABE_ITO)], LINESTYLES[(k // len(OKABE_ITO)) % len(LINESTYLES)]


def multi_legend(ax, names, styles):
    """Compact legend of an overlay: one colour per scenario, one line
    style per series (styles: labels in LINESTYLES order)."""
    from matplotlib.lines import Line2D
    h = [Line2D([], [], color=scenario_style(k)[0], lw=2) for k in range(len(names))]
    h += [Line2D([], [], color="0.4", ls=LINESTYLES[j]) for j in range(len(styles))]
    ax.legend(h, list(names) + list(styles), fontsize=7, loc="center left")


def run_figures(runs, policies, footnote):
    """Figures 1-4 for one run, or overlaid for several (colour = scenario).
    runs: [(name, run)]; returns [(file name, title, figure)]."""
    multi = len(runs) > 1
    figs = []

    fig, axes = new_fig(1, 2, 13, 4.8)
    for ax, (cc, country) in zip(axes[0], [("us", "US"), ("cn", "China")]):
        for k, (name, run) in enumerate(runs):
            for j, stage in enumerate(STAGES):
                if multi:
                    colour, style = scenario_style(k)[0], LINESTYLES[j]
                    label = f"{name}: {stage}"
                else:
                    colour, style, label = OKABE_ITO[j + 1], "-", stage
                band(ax, run["summary"], f"stock.{cc}.{stage}", colour, label, style)
        years_axis(ax, "people", f"{country}: researchers by career stage")
        draw_policies(ax, policies)
        if multi:
            multi_legend(ax, [n for n, _ in runs], STAGES)
        else:
            ax.legend(fontsize=7, loc="center left")
    fig.suptitle("Stocks by stage (mean and 95% band over replications)" + footnote)
    figs.append(("stocks.png", "Stocks by stage", fig))

    fig, axes = new_fig(1, 1, 9, 4.8)
    ax = axes[0][0]
    for k, (name, run) in enumerate(runs):
        colour = scenario_style(k)[0] if multi else OKABE_ITO[5]
        band(ax, run["summary"], FLOW_ACADEMIC, colour,
             name if multi else "simulated mean (95% band)")
    target_points(ax, runs[0][1]["targets"], FLOW_ACADEMIC)
    years_axis(ax, "people/year", "US-to-China switches of academics"
               " (flows.us_to_cn_academic)" + footnote)
    draw_policies(ax, policies)
    ax.legend(fontsize=8, loc="lower right")
    figs.append(("flows_academic.png", "US-to-China academic flows", fig))

    fig, axes = new_fig(2, 2, 12, 8)
    for ax, metric in zip(axes.flat, SURVEY):
        for k, (name, run) in enumerate(runs):
            colour = scenario_style(k)[0] if multi else OKABE_ITO[5]
            band(ax, run["summary"], metric, colour, name if multi else "simulated")
        target_points(ax, runs[0][1]["targets"], metric)
        years_axis(ax, "share", metric)
        draw_policies(ax, policies)
        ax.legend(fontsize=7, loc="lower right")
    fig.suptitle("Survey shares among US academics (mean and 95% band)" + footnote)
    figs.append(("survey.png", "Survey shares", fig))

    fig, axes = new_fig(1, 2, 13, 4.8)
    panels = [(axes[0][0], ["output.papers_us", "output.papers_cn"], "Papers by country"),
              (axes[0][1], ["output.papers_joint"], "Joint US-China papers")]
    for ax, metrics, title in panels:
        for k, (name, run) in enumerate(runs):
            for j, metric in enumerate(metrics):
                short = {"output.papers_us": "US", "output.papers_cn": "China",
                         "output.papers_joint": "joint"}[metric]
                if multi:
                    colour, style, label = scenario_style(k)[0], LINESTYLES[j], f"{name}: {short}"
                else:
                    colour, style, label = OKABE_ITO[j + 5], "-", short
                band(ax, run["summary"], metric, colour, label, style)
        years_axis(ax, "papers/year", title)
        draw_policies(ax, policies)
        if multi:
            multi_legend(ax, [n for n, _ in runs], [m.split("_")[-1] for m in metrics])
        else:
            ax.legend(fontsize=7, loc="center left")
    fig.suptitle("Research output (mean and 95% band)" + footnote)
    figs.append(("output.png", "Research output", fig))
    return figs


def single_policies(run):
    return [(n, a, b, "0.35") for n, a, b in run["policies"]]


def union_policies(names, runs):
    """Policies of all scenarios: grey when every scenario has it, else in
    the colour of the first scenario that has it, named after it."""
    have = [(k, runs[n]["policies"]) for k, n in enumerate(names) if n in runs]
    out, seen = [], set()
    for k, pols in have:
        for p in pols:
            if p in seen:
                continue
            seen.add(p)
            if all(p in q for _, q in have):
                out.append((p[0], p[1], p[2], "0.35"))
            else:
                out.append((f"{p[0]} ({names[k]})", p[1], p[2], scenario_style(k)[0]))
    return out


def comparison_figures(cmp):
    names, runs = cmp["scenarios"], cmp["runs"]
    policies = union_policies(names, runs)
    metrics = [m for m in HEADLINE if m in cmp["diff"]]
    ncols = 3
    nrows = max(1, math.ceil(len(metrics) / ncols))
    fig, axes = new_fig(nrows, ncols, 15, 3.4 * nrows + 0.8)
    for ax, metric in zip(axes.flat, metrics):
        for k, name in enumerate(names):
            d = cmp["diff"][metric].get(name)
            if not d:
                continue
            ys = sorted(d)
            colour, style = scenario_style(k)
            ax.fill_between(ys, [d[y][1] for y in ys], [d[y][2] for y in ys],
                            color=colour, alpha=0.18, lw=0)
            ax.plot(ys, [d[y][0] for y in ys], style, color=colour, lw=1.6, label=name)
        ax.axhline(0, color=OKABE_ITO[0], lw=0.8)
        years_axis(ax, unit_of(metric), metric)
        draw_policies(ax, policies)
        ax.legend(fontsize=7, loc="lower left")
    for ax in list(axes.flat)[len(metrics):]:
        ax.set_visible(False)
    fig.suptitle(f"Difference from the reference '{cmp['reference']}' "
                 "(paired mean and 95% band)")
    figs = [("difference.png", "Differences from the reference", fig)]
    present = [(n, runs[n]) for n in names if n in runs]
    if present:
        for fname, title, f in run_figures(present, policies, " - scenarios overlaid"):
            figs.append((fname, title + " (scenarios overlaid)", f))
    return figs


def final_values(sw, metric):
    year = max(y for m, y in sw["points"] if m == metric)
    return year, sw["points"][(metric, year)]


def sweep_figures(sw, only_metric):
    import numpy as np
    metrics = [only_metric] if only_metric else sw["metrics"]
    for m in metrics:
        if not any(mm == m for mm, _ in sw["points"]):
            raise InputError(f"sweep.csv has no metric '{m}'")
    params, figs = sw["params"], []
    if sw["method"] == "grid" and len(params) == 2:
        metrics_h = metrics[:12]
        ncols = min(3, len(metrics_h))
        nrows = math.ceil(len(metrics_h) / ncols)
        fig, axes = new_fig(nrows, ncols, 5.2 * ncols, 4.4 * nrows + 0.6)
        for ax, m in zip(axes.flat, metrics_h):
            year, pts = final_values(sw, m)
            xs = sorted({p[0][0] for p in pts})
            ys = sorted({p[0][1] for p in pts})
            z = np.full((len(ys), len(xs)), np.nan)
            for v, mean in pts:
                z[ys.index(v[1]), xs.index(v[0])] = mean
            im = ax.imshow(z, origin="lower", aspect="auto", cmap="viridis")
            ax.set_xticks(range(len(xs)), [f"{x:g}" for x in xs])
            ax.set_yticks(range(len(ys)), [f"{y:g}" for y in ys])
            ax.set_xlabel(params[0])
            ax.set_ylabel(params[1], fontsize=8)
            ax.set_title(f"{m}, {year}", fontsize=10)
            fig.colorbar(im, ax=ax, label=f"mean ({unit_of(m)})")
            if len(xs) * len(ys) <= 100:
                lo, hi = np.nanmin(z), np.nanmax(z)
                for i in range(len(ys)):
                    for j in range(len(xs)):
                        if not np.isnan(z[i, j]):
                            light = hi > lo and (z[i, j] - lo) / (hi - lo) > 0.6
                            ax.text(j, i, f"{z[i, j]:.3g}", ha="center", va="center",
                                    fontsize=7, color="black" if light else "white")
        for ax in list(axes.flat)[len(metrics_h):]:
            ax.set_visible(False)
        fig.suptitle(f"Sweep '{sw['name']}': final kept year, mean over replications")
        figs.append(("sweep_heatmap.png", "Grid heatmap", fig))
    else:
        for m in metrics[:12]:
            year, pts = final_values(sw, m)
            ncols = min(3, len(params))
            nrows = math.ceil(len(params) / ncols)
            fig, axes = new_fig(nrows, ncols, 4.6 * ncols, 3.8 * nrows + 0.6)
            for j, (ax, p) in enumerate(zip(axes.flat, params)):
                ax.scatter([v[j] for v, _ in pts], [mean for _, mean in pts], s=10,
                           alpha=0.6, color=OKABE_ITO[5], edgecolor="none")
                ax.set_xlabel(p, fontsize=8)
                ax.set_ylabel(f"{m} ({unit_of(m)})", fontsize=8)
                ax.grid(alpha=0.3, lw=0.5)
            for ax in list(axes.flat)[len(params):]:
                ax.set_visible(False)
            fig.suptitle(f"Sweep '{sw['name']}' ({sw['method']}): {m} in {year} "
                         "against each parameter (point means)")
            figs.append((f"sweep_scatter_{safe(m)}.png", f"{m} against each parameter", fig))
    if sw["sens"]:
        figs.append(tornado(sw))
    return figs


def safe(s):
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in s)


def tornado(sw):
    """Bars of S1 and ST with their bootstrap intervals, parameters ranked
    by ST, one panel per metric (its last year in sensitivity.csv)."""
    import numpy as np
    metrics = []
    for r in sw["sens"]:
        if r["metric"] not in metrics:
            metrics.append(r["metric"])
    ncols = min(2, len(metrics))
    nrows = math.ceil(len(metrics) / ncols)
    k = len(sw["params"])
    fig, axes = new_fig(nrows, ncols, 6.5 * ncols, (0.45 * k + 1.6) * nrows + 0.6)
    for ax, m in zip(axes.flat, metrics):
        year = max(r["year"] for r in sw["sens"] if r["metric"] == m)
        rows = [r for r in sw["sens"] if r["metric"] == m and r["year"] == year]
        rows.sort(key=lambda r: -1 if math.isnan(r["ST"]) else r["ST"])
        y = np.arange(len(rows))
        for off, idx, colour in ((-0.2, "S1", OKABE_ITO[5]), (0.2, "ST", OKABE_ITO[1])):
            v = np.array([r[idx] for r in rows])
            lo = np.array([r[idx + "_lo"] for r in rows])
            hi = np.array([r[idx + "_hi"] for r in rows])
            err = np.vstack([np.clip(v - lo, 0, None), np.clip(hi - v, 0, None)])
            ax.barh(y + off, np.nan_to_num(v), height=0.38, color=colour,
                    xerr=np.nan_to_num(err), capsize=3,
                    label={"S1": "first order S1", "ST": "total order ST"}[idx])
        ax.set_yticks(y, [r["parameter"] for r in rows], fontsize=8)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_xlabel("Sobol index (share of variance), 95% bootstrap interval")
        ax.set_title(f"{m}, {year}", fontsize=10)
        ax.legend(fontsize=8, loc="lower right")
        ax.grid(axis="x", alpha=0.3, lw=0.5)
    for ax in list(axes.flat)[len(metrics):]:
        ax.set_visible(False)
    fig.suptitle("Sensitivity: Sobol indices ranked by total order")
    return ("sweep_tornado.png", "Sobol indices", fig)


def weighted_hist(ax, vals, w, lo, hi, colour):
    """A weighted density histogram over the prior range [lo, hi]."""
    finite = not (math.isnan(lo) or math.isnan(hi)) and hi > lo
    rng = (lo, hi) if finite else None
    ax.hist(vals, bins=20, range=rng, weights=w, density=True, color=colour,
            alpha=0.75, edgecolor="white", lw=0.5)
    if finite:
        ax.set_xlim(lo, hi)


def calibration_figures(cal):
    import numpy as np
    params, w = cal["params"], np.array(cal["weights"])
    w = w / w.sum()
    figs = []
    ncols = min(3, len(params))
    nrows = math.ceil(len(params) / ncols)
    fig, axes = new_fig(nrows, ncols, 4.6 * ncols, 3.6 * nrows + 0.6)
    for ax, p in zip(axes.flat, params):
        s = cal["summary"].get(p, {})
        lo, hi = s.get("prior_lo", math.nan), s.get("prior_hi", math.nan)
        weighted_hist(ax, cal["post"][p], w, lo, hi, OKABE_ITO[5])
        if s and not math.isnan(s["mean"]):
            ax.axvline(s["mean"], color=OKABE_ITO[1], lw=1.5, label="posterior mean")
            ax.axvspan(s["p2_5"], s["p97_5"], color=OKABE_ITO[1], alpha=0.12,
                       label="95% interval")
            ax.legend(fontsize=7)
        ax.set_xlabel(p + (f"  (prior: {s['prior']})" if s else ""), fontsize=8)
        ax.set_ylabel("posterior density")
        ax.grid(alpha=0.3, lw=0.5)
    for ax in list(axes.flat)[len(params):]:
        ax.set_visible(False)
    fig.suptitle(f"Calibration '{cal['name']}': weighted posterior, "
                 "x axis = prior range")
    figs.append(("posterior.png", "Posterior by parameter", fig))

    k = len(params)
    if k >= 2:
        size = min(2.4 * k, 26)
        fig, axes = new_fig(k, k, size, size)
        sz = 8 + 60 * w / w.max()
        alpha = np.clip(0.15 + 0.85 * w / w.max(), 0, 1)
        colours = np.zeros((len(w), 4))
        colours[:, :3] = (0.0, 0.447, 0.698)  # Okabe-Ito blue
        colours[:, 3] = alpha
        for i in range(k):
            for j in range(k):
                ax = axes[i][j]
                si = cal["summary"].get(params[i], {})
                sj = cal["summary"].get(params[j], {})
                if j > i:
                    ax.set_visible(False)
                    continue
                if i == j:
                    weighted_hist(ax, cal["post"][params[i]], w, si.get("prior_lo", math.nan),
                                  si.get("prior_hi", math.nan), OKABE_ITO[5])
                    ax.set_yticks([])
                else:
                    ax.scatter(cal["post"][params[j]], cal["post"][params[i]], s=sz,
                               c=colours, edgecolor="none")
                    for lim, s in ((ax.set_xlim, sj), (ax.set_ylim, si)):
                        if s and s["prior_hi"] > s["prior_lo"]:
                            lim(s["prior_lo"], s["prior_hi"])
                if i == k - 1:
                    ax.set_xlabel(params[j], fontsize=7)
                if j == 0 and i > 0:
                    ax.set_ylabel(params[i], fontsize=7)
                ax.tick_params(labelsize=6)
        fig.suptitle("Posterior pairs (point size and opacity by weight)")
        figs.append(("pairs.png", "Posterior pairs", fig))

    fig, axes = new_fig(1, 2, 12, 4.4)
    gens = [g for g in cal["gens"] if math.isfinite(g["tolerance"]) and g["tolerance"] > 0]
    ax = axes[0][0]
    ax.plot([g["generation"] for g in gens], [g["tolerance"] for g in gens], "o-",
            color=OKABE_ITO[5], label="tolerance")
    if gens:
        ax.set_yscale("log")
    ax.set_xlabel("generation")
    ax.set_ylabel("tolerance (distance, log scale)")
    ax.set_title("Tolerance by generation", fontsize=10)
    ax.grid(alpha=0.3, lw=0.5, which="both")
    ax.legend(fontsize=8)
    ax = axes[0][1]
    ax.plot([g["generation"] for g in cal["gens"]],
            [g["acceptance_rate"] for g in cal["gens"]], "s-", color=OKABE_ITO[1],
            label="acceptance rate")
    ax.set_xlabel("generation")
    ax.set_ylabel("share of proposals accepted")
    ax.set_title("Acceptance rate by generation", fontsize=10)
    ax.grid(alpha=0.3, lw=0.5)
    ax.legend(fontsize=8)
    for a in axes[0]:
        from matplotlib.ticker import MaxNLocator
        a.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle("ABC-SMC progress")
    figs.append(("tolerance.png", "Tolerance by generation", fig))
    return figs


# ---------------------------------------------------------------- report

def fmt(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "&ndash;"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.3g}"


def table(tid, head, rows):
    out = [f'<table id="{tid}"><thead><tr>']
    out += [f"<th>{html.escape(h)}</th>" for h in head]
    out.append("</tr></thead><tbody>")
    for r in rows:
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def targets_table(items):
    """items: [(scenario or None, target)]."""
    multi = any(s for s, _ in items)
    head = (["scenario"] if multi else []) + [
        "metric", "year", "observed", "simulated mean [95% interval]", "result"]
    rows = []
    for s, t in items:
        res = {"TRUE": '<span class="met">met</span>',
               "FALSE": '<span class="missed">missed</span>'}.get(t["met"], "not evaluated")
        rows.append(([html.escape(s)] if multi else []) + [
            html.escape(t["metric"]), str(t["year"]), fmt(t["observed"]),
            f"{fmt(t['mean'])} [{fmt(t['lo'])}, {fmt(t['hi'])}]", res])
    if not rows:
        return '<p id="targets">No calibration targets.</p>'
    return table("targets", head, rows)


def headline_table(items):
    """items: [(scenario or None, run)]; final year of each run."""
    multi = any(s for s, _ in items)
    head = (["scenario"] if multi else []) + ["metric", "year", "unit",
                                              "mean [95% interval]"]
    rows = []
    for s, run in items:
        for m in HEADLINE:
            ys, mean, lo, hi = series(run["summary"], m)
            if ys:
                rows.append(([html.escape(s)] if multi else []) + [
                    html.escape(m), str(ys[-1]), unit_of(m),
                    f"{fmt(mean[-1])} [{fmt(lo[-1])}, {fmt(hi[-1])}]"])
    return table("headline", head, rows)


def diff_table(cmp):
    rows = []
    for m in HEADLINE:
        for s in cmp["scenarios"]:
            d = cmp["diff"].get(m, {}).get(s)
            if not d:
                continue
            y = max(d)
            mean, lo, hi, rel = d[y]
            rows.append([html.escape(s), html.escape(m), str(y), unit_of(m),
                         f"{fmt(mean)} [{fmt(lo)}, {fmt(hi)}]",
                         "&ndash;" if math.isnan(rel) else f"{100 * rel:+.1f}%"])
    return table("headline", ["scenario", "metric", "year", "unit",
                              f"difference from {cmp['reference']} [95% interval]",
                              "relative"], rows)


CSS = """
body{font-family:sans-serif;max-width:1300px;margin:1em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:0.9em}
th,td{border:1px solid #bbb;padding:0.2em 0.6em;text-align:left}
th{background:#eee}
.met{color:#009E73;font-weight:bold}.missed{color:#D55E00;font-weight:bold}
figure{margin:1em 0 2em}img{max-width:100%;height:auto;border:1px solid #ddd}
figcaption{font-size:0.9em;color:#444}
"""


def png_size(data):
    """Width and height from a PNG's IHDR chunk."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise RuntimeFailure("matplotlib wrote something that is not a PNG")
    return struct.unpack(">II", data[16:24])


def report_html(title, intro, sections, figures):
    """sections: [(heading, html)]; figures: [(file, caption, png bytes)]."""
    out = ["<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
           f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>",
           f"<h1>{html.escape(title)}</h1>", intro]
    for heading, body in sections:
        out.append(f"<h2>{html.escape(heading)}</h2>{body}")
    out.append("<h2>Figures</h2>")
    for fname, caption, data in figures:
        w, h = png_size(data)
        b64 = base64.b64encode(data).decode("ascii")
        out.append(f'<figure><img src="data:image/png;base64,{b64}" width="{w}" '
                   f'height="{h}" alt="{html.escape(caption)}"><figcaption>'
                   f"{html.escape(caption)} (plots/{html.escape(fname)})"
                   "</figcaption></figure>")
    out.append("</body></html>\n")
    return "".join(out)


def para(text):
    return f"<p>{html.escape(text)}</p>" if text else ""


def build(d, kind, args):
    """Loads DIR and draws: (figures, title, intro html, sections)."""
    if kind == "run":
        run = load_run(d)
        figs = run_figures([(run["name"], run)], single_policies(run), "")
        sections = [("Calibration targets", targets_table([(None, t) for t in run["targets"]])),
                    ("Headline metrics, final year", headline_table([(None, run)])),
                    ("Policies", policy_list(run["policies"]))]
        return figs, f"talentsim run: {run['name']}", para(run["description"]), sections
    if kind == "comparison":
        cmp = load_comparison(d)
        figs = comparison_figures(cmp)
        runs = [(n, cmp["runs"][n]) for n in cmp["scenarios"] if n in cmp["runs"]]
        intro = "".join(f"<p><b>{html.escape(n)}</b>: {html.escape(r['description'])}</p>"
                        for n, r in runs)
        sections = [("Differences from the reference, final year", diff_table(cmp)),
                    ("Calibration targets",
                     targets_table([(n, t) for n, r in runs for t in r["targets"]]))]
        return figs, f"talentsim comparison against {cmp['reference']}", intro, sections
    if kind == "sweep":
        sw = load_sweep(d)
        figs = sweep_figures(sw, args.metric)
        npts = len({tuple(v) for pts in sw["points"].values() for v, _ in pts})
        info = table("design", ["method", "points", "parameters", "metrics"],
                     [[html.escape(sw["method"]), str(npts),
                       html.escape(", ".join(sw["params"])),
                       html.escape(", ".join(sw["metrics"]))]])
        return figs, f"talentsim sweep: {sw['name']}", para(sw["description"]), [("Design", info)]
    cal = load_calibration(d)
    figs = calibration_figures(cal)
    srows = [[html.escape(p), html.escape(s["prior"]),
              f"[{fmt(s['prior_lo'])}, {fmt(s['prior_hi'])}]", fmt(s["mean"]), fmt(s["sd"]),
              f"[{fmt(s['p2_5'])}, {fmt(s['p97_5'])}]"] for p, s in cal["summary"].items()]
    grows = [[fmt(g["generation"]), fmt(g["tolerance"]), fmt(g["acceptance_rate"]),
              fmt(g["ess"]), fmt(g["evaluations"]), fmt(g["seconds"])] for g in cal["gens"]]
    sections = [("Posterior", table("headline", ["parameter", "prior", "prior range",
                                                 "mean", "sd", "95% interval"], srows)),
                ("Generations", table("generations", COLS["generations.csv"], grows))]
    return figs, f"talentsim calibration: {cal['name']}", para(cal["description"]), sections


def policy_list(policies):
    if not policies:
        return "<p>No policies.</p>"
    return table("policies", ["policy", "from", "to"],
                 [[html.escape(n), str(a), str(b)] for n, a, b in policies])


def write_outputs(d, figs, title, intro, sections):
    """Saves the figures into a temporary directory and the report into a
    temporary file, then renames both into place (plots/ first)."""
    import matplotlib.pyplot as plt
    pid = os.getpid()
    tmpdir = os.path.join(d, f".plots.tmp.{pid}")
    tmpreport = os.path.join(d, f".report.html.tmp.{pid}")
    olddir = os.path.join(d, f".plots.old.{pid}")
    try:
        os.mkdir(tmpdir)
        shown = []
        for fname, caption, fig in figs:
            path = os.path.join(tmpdir, fname)
            fig.savefig(path, dpi=DPI)
            plt.close(fig)
            with open(path, "rb") as f:
                shown.append((fname, caption, f.read()))
        with open(tmpreport, "w", encoding="utf-8") as f:
            f.write(report_html(title, intro, sections, shown))
            f.flush()
            os.fsync(f.fileno())
        final = os.path.join(d, "plots")
        if os.path.isdir(final):
            os.rename(final, olddir)
        os.rename(tmpdir, final)
        os.rename(tmpreport, os.path.join(d, "report.html"))
        shutil.rmtree(olddir, ignore_errors=True)
        return len(shown)
    except OSError as e:
        raise RuntimeFailure(f"{d}: cannot write the plots: {e.strerror or e}")
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
        if os.path.exists(tmpreport):
            os.unlink(tmpreport)
        if os.path.isdir(olddir) and not os.path.exists(os.path.join(d, "plots")):
            os.rename(olddir, os.path.join(d, "plots"))


def import_matplotlib():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot  # noqa: F401
        import numpy  # noqa: F401
        import yaml  # noqa: F401
    except ImportError as e:
        raise RuntimeFailure(f"{e.name or 'matplotlib'} is not installed for "
                             f"{sys.executable}; {INSTALL_HINT}")
    matplotlib.rcParams.update({"figure.autolayout": False, "font.size": 9,
                                "axes.titlesize": 10})


class Stop(Exception):
    pass


def on_signal(signum, frame):
    raise Stop(signum)


def main(argv):
    ap = argparse.ArgumentParser(
        prog=PROG, description="Figures (DIR/plots/*.png) and a self-contained "
        "report (DIR/report.html) of a run, comparison, sweep or calibration.")
    ap.add_argument("dir", metavar="DIR", help="results directory")
    ap.add_argument("--metric", help="sweeps: the only metric to draw")
    ap.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    args = ap.parse_args(argv)
    d = args.dir.rstrip("/") or "/"
    signal.signal(signal.SIGTERM, on_signal)
    try:
        if not os.path.isdir(d):
            raise InputError(f"{d}: no such directory")
        kind = detect_kind(d)
        import_matplotlib()
        figs, title, intro, sections = build(d, kind, args)
        for _, _, fig in figs:
            fig.tight_layout(rect=(0, 0, 1, 0.95))
        n = write_outputs(d, figs, title, intro, sections)
    except InputError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    except RuntimeFailure as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 1
    except (Stop, KeyboardInterrupt) as e:
        signum = e.args[0] if isinstance(e, Stop) else signal.SIGINT
        print(f"{PROG}: interrupted; nothing written", file=sys.stderr)
        return 128 + int(signum)
    if not args.quiet:
        print(f"{kind}: {n} figures in {d}/plots/, report in {d}/report.html")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
