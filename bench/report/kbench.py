#!/usr/bin/python3
"""bench/report/kbench.py: the benchmark result files (docs/performance.md, "Result files") and
the report built from them. Python 3 standard library only; the charts are drawn by gnuplot.

  kbench.py add FILE --bench B --id ID --label L --unit U --better higher|lower --value V
            [--peer-name N --peer-value V] [--target ratio_max=1.3|ratio_min=..|max=..|min=..]
            [--quick]
      appends one run's value (and the peer's) to figure ID of FILE, creating both as needed.
  kbench.py point FILE --bench B --curve ID --title T --x X --y Y [--log-x] --series S X Y
      adds (or replaces) the point at X of series S of curve ID.
  kbench.py note FILE --bench B TEXT
  kbench.py merge FROM_FILE INTO_FILE
      one run's file (a C benchmark's) into the file of all runs: values appended per figure,
      points per series, notes kept once.
  kbench.py machine DIR before|after [--quick] [--runs N]
      records the machine in DIR/machine.json: CPU model, cores, memory, kernel, load average
      (before and after the run), library and peer versions, the commit.
  kbench.py report DIR [--log FILE...]
      DIR/report.json and DIR/report.md (and DIR/*.svg) from DIR/*.json and DIR/machine.json.
  kbench.py baseline DIR OUT --note TEXT
      OUT (bench/results/baseline.json) from DIR/report.json: the machine and the CPU-per-operation
      figures (median, min, max, runs) with TEXT saying how they were measured.
  kbench.py check REPORT_OR_DIR BASELINE [--threshold 0.2]
      prints every *_cpu_us_per_* figure whose median moved by more than the threshold against
      the baseline; informative: exit 0 unless a file cannot be read.
Every figure's median, min and max are over its runs' values; ratio = our median / the peer's.
"""
import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys

CPU_MARK = "_cpu_us_per_"


def fail(msg):
    print(f"kbench: {msg}", file=sys.stderr)
    sys.exit(2)


def load(path, bench=None, quick=False):
    """The result file at path, or a new one for bench."""
    if os.path.exists(path):
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            fail(f"{path}: not a result file: {e}")
        if not isinstance(doc, dict) or not isinstance(doc.get("figures", []), list):
            fail(f"{path}: not a result file: no figures list")
    else:
        doc = {"bench": bench or os.path.basename(path).rsplit(".", 1)[0], "quick": quick}
    doc.setdefault("figures", [])
    doc.setdefault("curves", [])
    doc.setdefault("notes", [])
    return doc


def save(path, doc):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def find(items, key, value):
    for item in items:
        if item.get(key) == value:
            return item
    return None


def parse_target(text):
    if not text:
        return None
    kind, _, value = text.partition("=")
    if kind not in ("ratio_max", "ratio_min", "max", "min"):
        fail(f"--target {text}: expected ratio_max=, ratio_min=, max= or min=")
    try:
        return {kind: float(value)}
    except ValueError:
        fail(f"--target {text}: '{value}' is not a number")


def number(text, what):
    try:
        v = float(text)
    except ValueError:
        fail(f"{what} '{text}' is not a number")
    if v != v:
        fail(f"{what} is NaN")
    return v


def add_figure(doc, fig_in):
    """Merges one figure (values, peer values) into doc."""
    fig = find(doc["figures"], "id", fig_in["id"])
    if fig is None:
        fig = {k: v for k, v in fig_in.items() if k not in ("values", "peer")}
        fig["values"] = []
        doc["figures"].append(fig)
    else:  # label, unit, target: the latest run's words
        for k in ("label", "unit", "better", "target"):
            if k in fig_in:
                fig[k] = fig_in[k]
    fig["values"].extend(fig_in.get("values", []))
    peer = fig_in.get("peer")
    if peer:
        mine = fig.setdefault("peer", {"name": peer.get("name", "peer"), "values": []})
        mine["name"] = peer.get("name", mine["name"])
        mine["values"].extend(peer.get("values", []))


def add_curve(doc, curve_in):
    curve = find(doc["curves"], "id", curve_in["id"])
    if curve is None:
        curve = {k: v for k, v in curve_in.items() if k != "series"}
        curve["series"] = []
        doc["curves"].append(curve)
    for s_in in curve_in.get("series", []):
        s = find(curve["series"], "name", s_in["name"])
        if s is None:
            s = {"name": s_in["name"], "points": []}
            curve["series"].append(s)
        for x, y in s_in.get("points", []):
            s["points"] = [p for p in s["points"] if p[0] != x] + [[x, y]]
        s["points"].sort(key=lambda p: p[0])


def add_notes(doc, notes):
    for n in notes:
        if n not in doc["notes"]:
            doc["notes"].append(n)


def cmd_add(a):
    doc = load(a.file, a.bench, a.quick)
    fig = {"id": a.id, "label": a.label, "unit": a.unit, "better": a.better,
           "values": [number(a.value, "--value")]}
    if a.peer_value is not None:
        fig["peer"] = {"name": a.peer_name or "peer", "values": [number(a.peer_value, "--peer-value")]}
    target = parse_target(a.target)
    if target:
        fig["target"] = target
    add_figure(doc, fig)
    save(a.file, doc)


def cmd_point(a):
    doc = load(a.file, a.bench, a.quick)
    add_curve(doc, {"id": a.curve, "title": a.title, "x": a.x, "y": a.y, "log_x": a.log_x,
                    "series": [{"name": a.series, "points": [[number(a.px, "x"), number(a.py, "y")]]}]})
    save(a.file, doc)


def cmd_note(a):
    doc = load(a.file, a.bench, a.quick)
    add_notes(doc, [" ".join(a.text)])
    save(a.file, doc)


def cmd_merge(a):
    src = load(a.src)
    doc = load(a.into, src.get("bench"), src.get("quick", False))
    doc["quick"] = bool(src.get("quick", doc.get("quick")))
    for fig in src["figures"]:
        add_figure(doc, fig)
    for curve in src["curves"]:
        add_curve(doc, curve)
    add_notes(doc, src["notes"])
    save(a.into, doc)


# ---- the machine ----

def first_line(cmd):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    out = (r.stdout.strip() or r.stderr.strip()).splitlines()
    return out[0].strip() if out and r.returncode == 0 else None


def machine_facts():
    m = {"host": os.uname().nodename, "kernel": f"{os.uname().sysname} {os.uname().release}",
         "cores": os.cpu_count()}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    m["cpu_model"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo", encoding="utf-8") as f:
            kb = int(f.readline().split()[1])
            m["memory"] = f"{kb / 1048576:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    v = {}
    for name, pc in (("nghttp2", "libnghttp2"), ("libevent", "libevent"), ("SQLite", "sqlite3"),
                     ("hiredis", "hiredis"), ("jansson", "jansson"), ("libcurl", "libcurl")):
        ver = first_line(["pkg-config", "--modversion", pc])
        if ver:
            v[name] = ver
    for name, cmd in (("OpenSSL", ["openssl", "version"]), ("redis-server", ["redis-server", "--version"]),
                      ("nginx", ["/usr/sbin/nginx", "-v"]), ("h2load", ["h2load", "--version"]),
                      ("gnuplot", ["gnuplot", "--version"]), ("gcc", ["gcc", "--version"])):
        ver = first_line(cmd)
        if ver:
            v[name] = ver
    try:  # stunnel prints its version on stderr and exits 1 without a config
        r = subprocess.run(["stunnel4", "-version"], capture_output=True, text=True, timeout=10)
        line = next((l for l in r.stderr.splitlines() if l.startswith("stunnel")), None)
        if line:
            v["stunnel4"] = line.strip()
    except (OSError, subprocess.TimeoutExpired):
        pass
    m["versions"] = v
    m["commit"] = first_line(["git", "-C", os.path.dirname(os.path.abspath(__file__)), "describe",
                              "--always", "--dirty"])
    return m


def loadavg():
    with open("/proc/loadavg", encoding="utf-8") as f:
        return " ".join(f.read().split()[:3])


def cmd_machine(a):
    path = os.path.join(a.dir, "machine.json")
    m = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            m = json.load(f)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if a.phase == "before":
        m.update(machine_facts())
        m.update({"load_before": loadavg(), "started": now, "quick": a.quick, "runs": a.runs})
    else:
        m.update({"load_after": loadavg(), "finished": now})
    save(path, m)


# ---- the report ----

def summary(values):
    vals = [v for v in values if isinstance(v, (int, float))]
    if not vals:
        return None
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals), "runs": len(vals)}


def verdict(fig, med, ratio):
    """'met', 'not met' or None (no target, or nothing to judge it by)."""
    t = fig.get("target") or {}
    checks = []
    if "ratio_max" in t and ratio is not None:
        checks.append(ratio <= t["ratio_max"])
    if "ratio_min" in t and ratio is not None:
        checks.append(ratio >= t["ratio_min"])
    if "max" in t and med is not None:
        checks.append(med <= t["max"])
    if "min" in t and med is not None:
        checks.append(med >= t["min"])
    if not checks:
        return None
    return "met" if all(checks) else "not met"


def target_text(t):
    if not t:
        return ""
    (kind, v), = t.items()
    return {"ratio_max": f"ratio ≤ {v:g}", "ratio_min": f"ratio ≥ {v:g}",
            "max": f"≤ {v:g}", "min": f"≥ {v:g}"}[kind]


def fmt(v):
    if v is None:
        return "–"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def summarize(doc):
    """Figures with median/min/max, the peer's, ratio and verdict."""
    out = []
    for fig in doc.get("figures", []):
        s = summary(fig.get("values", []))
        row = {"id": fig.get("id"), "label": fig.get("label", fig.get("id")),
               "unit": fig.get("unit", ""), "better": fig.get("better"), "values": fig.get("values", [])}
        if s:
            row.update(s)
        peer = fig.get("peer")
        if peer:
            ps = summary(peer.get("values", []))
            row["peer"] = {"name": peer.get("name", "peer"), "values": peer.get("values", [])}
            if ps:
                row["peer"].update(ps)
                if s and ps["median"]:
                    row["ratio"] = s["median"] / ps["median"]
        if fig.get("target"):
            row["target"] = fig["target"]
            row["verdict"] = verdict(fig, row.get("median"), row.get("ratio"))
        out.append(row)
    return out


def svg_name(curve_id):
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in curve_id) + ".svg"


def gp_quote(text):
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def draw(curve, path):
    """One SVG per curve, with gnuplot; False when gnuplot is missing or fails."""
    gnuplot = shutil.which("gnuplot")
    series = [s for s in curve.get("series", []) if s.get("points")]
    if not gnuplot or not series:
        return False
    lines = ["set terminal svg size 720,420 dynamic noenhanced font 'sans,11' background '#ffffff'",
             f"set output {gp_quote(path)}",
             f"set title {gp_quote(curve.get('title', curve.get('id')))}",
             f"set xlabel {gp_quote(curve.get('x', 'x'))}",
             f"set ylabel {gp_quote(curve.get('y', 'y'))}",
             "set grid", "set key outside bottom center horizontal", "set yrange [0:*]"]
    if curve.get("log_x"):
        lines += ["set logscale x 10", "set format x '%.0s%c'"]  # 10k, 100k, 1M
    if curve.get("log_y"):
        lines += ["set logscale y 10", "set yrange [*:*]"]
    plots = [f"'-' using 1:2 with linespoints lw 2 title {gp_quote(s['name'])}" for s in series]
    lines.append("plot " + ", ".join(plots))
    for s in series:
        lines += [f"{x!r} {y!r}" for x, y in s["points"]] + ["e"]
    r = subprocess.run([gnuplot], input="\n".join(lines) + "\n", text=True, capture_output=True,
                       timeout=60)
    if r.returncode != 0:
        print(f"kbench: gnuplot failed for {curve.get('id')}: {r.stderr.strip()[:300]}", file=sys.stderr)
        return False
    return True


def machine_md(m):
    out = ["## Machine", ""]
    rows = [("CPU", m.get("cpu_model")), ("cores", m.get("cores")), ("memory", m.get("memory")),
            ("kernel", m.get("kernel")), ("host", m.get("host")),
            ("load average before", m.get("load_before")), ("load average after", m.get("load_after")),
            ("started", m.get("started")), ("finished", m.get("finished")),
            ("mode", "quick (--quick)" if m.get("quick") else "full"),
            ("runs per figure", m.get("runs")), ("commit", m.get("commit"))]
    for name, version in sorted((m.get("versions") or {}).items()):
        rows.append((name, version))
    out += ["| | |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in rows if v not in (None, "")]
    return out + [""]


def time_table(d, machine):
    """time.tsv (scripts/bench.sh: name, planned_s, actual_s, plan) as report.md's "Time"
    table, planned beside actual, against the budget (docs/performance.md "Time budget")."""
    path = os.path.join(d, "time.tsv")
    if not os.path.exists(path):
        return [], None
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            cells = line.rstrip("\n").split("\t")
            if n == 1 and cells[:1] == ["name"]:
                continue
            if len(cells) != 4:
                fail(f"{path}:{n}: expected name, planned_s, actual_s, plan (tab-separated)")
            rows.append({"name": cells[0], "planned_s": number(cells[1], f"{path}:{n}: planned_s"),
                         "actual_s": number(cells[2], f"{path}:{n}: actual_s"), "plan": cells[3]})
    def secs(v):
        return f"{v:.0f}"
    quick = machine.get("quick", False)
    budget = 180 if quick else 1800
    planned = sum(r["planned_s"] for r in rows)
    actual = sum(r["actual_s"] for r in rows)
    md = ["## Time", "",
          f"Budget: {budget} s ({'quick' if quick else 'full'} run on a quiet 2-core machine). "
          f"Planned {secs(planned)} s ({'within' if planned <= budget else '**over**'} the budget), "
          f"took {secs(actual)} s ({'within' if actual <= budget else '**over**'}), load average "
          f"{machine.get('load_before', '?')} before, {machine.get('load_after', '?')} after: "
          "on a busy machine the actual time is longer than the plan.", "",
          "| benchmark | planned s | actual s | actual / planned | how planned |", "|---|---:|---:|---:|---|"]
    for r in rows:
        ratio = f"{r['actual_s'] / r['planned_s']:.2f}" if r["planned_s"] else ""
        md.append(f"| {r['name']} | {secs(r['planned_s'])} | {secs(r['actual_s'])} | {ratio} | {r['plan']} |")
    md += [f"| **total** | {secs(planned)} | {secs(actual)} | "
           f"{actual / planned:.2f} | |" if planned else f"| **total** | 0 | {secs(actual)} | | |", ""]
    return md, {"budget_s": budget, "planned_s": planned, "actual_s": actual, "benches": rows}


def cmd_report(a):
    d = a.dir
    machine = {}
    if os.path.exists(os.path.join(d, "machine.json")):
        with open(os.path.join(d, "machine.json"), encoding="utf-8") as f:
            machine = json.load(f)
    benches = []
    for name in sorted(os.listdir(d)):
        if not name.endswith(".json") or name in ("machine.json", "report.json", "baseline.json"):
            continue
        benches.append(load(os.path.join(d, name)))
    report = {"machine": machine, "benches": []}
    md = ["# kedge benchmark report", "",
          "Built by `scripts/bench.sh` (bench/report/kbench.py) from the result files in this "
          "directory. Medians over the runs, with min–max; ratio = kedge's median / the peer's "
          "median, both measured in the same run. The machine is shared: CPU per operation "
          "(`*_cpu_us_per_*`) is steadier than rates.", ""]
    md += machine_md(machine)
    met = notmet = 0
    for doc in benches:
        rows = summarize(doc)
        entry = {"bench": doc.get("bench"), "quick": doc.get("quick", False), "figures": rows,
                 "curves": doc.get("curves", []), "notes": doc.get("notes", [])}
        md += [f"## {doc.get('bench')}", ""]
        if rows:
            md += ["| figure | median | min–max | runs | peer (median) | ratio | target | |",
                   "|---|---:|---:|---:|---|---:|---|---|"]
            for r in rows:
                unit = r["unit"]
                peer = r.get("peer")
                peer_txt = f"{peer['name']}: {fmt(peer.get('median'))} {unit}" if peer else ""
                ratio = f"{r['ratio']:.2f}" if "ratio" in r else ""
                v = r.get("verdict") or ""
                met += v == "met"
                notmet += v == "not met"
                md.append(f"| {r['label']} (`{r['id']}`) | {fmt(r.get('median'))} {unit} | "
                          f"{fmt(r.get('min'))}–{fmt(r.get('max'))} | {r.get('runs', 0)} | {peer_txt} | "
                          f"{ratio} | {target_text(r.get('target'))} | {'**not met**' if v == 'not met' else v} |")
            md.append("")
        for curve in entry["curves"]:
            svg = svg_name(curve.get("id", "curve"))
            drawn = draw(curve, os.path.join(d, svg))
            curve["svg"] = svg if drawn else None
            md += [f"### {curve.get('title', curve.get('id'))}", ""]
            if drawn:
                md += [f"![{curve.get('id')}]({svg})", ""]
            md += [f"| {curve.get('x', 'x')} | " + " | ".join(s["name"] for s in curve["series"]) + " |",
                   "|---:|" + "---:|" * len(curve["series"])]
            xs = sorted({p[0] for s in curve["series"] for p in s["points"]})
            for x in xs:
                cells = []
                for s in curve["series"]:
                    y = [p[1] for p in s["points"] if p[0] == x]
                    cells.append(fmt(y[0]) if y else "")
                md.append(f"| {fmt(x)} | " + " | ".join(cells) + " |")
            md += [f"({curve.get('y', 'y')})", ""]
        if entry["notes"]:
            md += [f"- {n}" for n in entry["notes"]] + [""]
        report["benches"].append(entry)
    for log in a.log or []:
        name = os.path.basename(log).rsplit(".", 1)[0]
        if any(b["bench"] == name for b in report["benches"]):
            continue
        # a benchmark that prints only text: its output, so nothing measured is dropped
        with open(log, encoding="utf-8", errors="replace") as f:
            text = f.read().strip()
        md += [f"## {name} (text output only: no result file)", "", "```", text[-6000:], "```", ""]
        report["benches"].append({"bench": name, "text_only": True})
    time_md, report["time"] = time_table(d, machine)
    md += time_md
    md.insert(2, f"Targets: {met} met, {notmet} not met.\n")
    report["targets"] = {"met": met, "not_met": notmet}
    save(os.path.join(d, "report.json"), report)
    with open(os.path.join(d, "report.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(md) + "\n")
    print(f"kbench: {os.path.join(d, 'report.md')}: {len(benches)} result files, {met} targets met, "
          f"{notmet} not met")


# ---- the regression check ----

def cpu_figures(path):
    """{id: (median, label)} of the CPU-per-operation figures of a report, a result directory, a
    result file or a baseline."""
    if os.path.isdir(path):
        rp = os.path.join(path, "report.json")
        if not os.path.exists(rp):
            fail(f"{path}: no report.json (run scripts/bench.sh first)")
        path = rp
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"{path}: cannot read: {e}")
    figs = []
    if isinstance(doc, dict) and "benches" in doc:
        for b in doc["benches"]:
            figs += b.get("figures", [])
    elif isinstance(doc, dict):
        figs = summarize(load(path)) if "figures" in doc else []
    out = {}
    for fig in figs:
        if CPU_MARK not in str(fig.get("id", "")):
            continue
        med = fig.get("median")
        if med is None:
            s = summary(fig.get("values", []))
            med = s and s["median"]
        if med:
            out[fig["id"]] = (med, fig.get("label", fig["id"]), fig.get("unit", "us"))
    return out


def cmd_baseline(a):
    rp = os.path.join(a.dir, "report.json")
    try:
        with open(rp, encoding="utf-8") as f:
            report = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"{rp}: cannot read: {e}")
    keep = ("id", "label", "unit", "better", "median", "min", "max", "runs", "peer", "ratio")
    benches = []
    for b in report.get("benches", []):
        figs = [{k: f[k] for k in keep if k in f} for f in b.get("figures", [])
                if CPU_MARK in str(f.get("id", "")) and f.get("median")]
        if figs:
            benches.append({"bench": b["bench"], "figures": figs})
    save(a.out, {"note": a.note, "machine": report.get("machine", {}), "benches": benches})
    print(f"kbench: {a.out}: {sum(len(b['figures']) for b in benches)} CPU-per-operation figures")


def cmd_check(a):
    now = cpu_figures(a.current)
    base = cpu_figures(a.baseline)
    moved = 0
    print(f"bench-check: CPU per operation against {a.baseline} (threshold {a.threshold * 100:.0f} %)")
    for fid in sorted(set(now) | set(base)):
        if fid not in base:
            print(f"  new       {fid}: {fmt(now[fid][0])} {now[fid][2]} (not in the baseline)")
            continue
        if fid not in now:
            print(f"  missing   {fid}: not measured this time (baseline {fmt(base[fid][0])} {base[fid][2]})")
            continue
        b, c = base[fid][0], now[fid][0]
        change = (c - b) / b
        if abs(change) > a.threshold:
            moved += 1
            word = "SLOWER" if change > 0 else "faster"
            print(f"  {word:9} {fid}: {fmt(b)} -> {fmt(c)} {now[fid][2]} ({change * 100:+.0f} %)")
        else:
            print(f"  same      {fid}: {fmt(b)} -> {fmt(c)} {now[fid][2]} ({change * 100:+.0f} %)")
    print(f"bench-check: {moved} figure(s) moved by more than {a.threshold * 100:.0f} % "
          f"(informative; a shared machine moves figures too: re-run before believing one)")


def main():
    p = argparse.ArgumentParser(prog="kbench.py", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    def common(sp):
        sp.add_argument("file")
        sp.add_argument("--bench")
        sp.add_argument("--quick", action="store_true", default=os.environ.get("KEDGE_BENCH_QUICK") == "1")

    sp = sub.add_parser("add")
    common(sp)
    for opt in ("--id", "--label", "--unit", "--value"):
        sp.add_argument(opt, required=True)
    sp.add_argument("--better", choices=("higher", "lower"), required=True)
    sp.add_argument("--peer-name")
    sp.add_argument("--peer-value")
    sp.add_argument("--target")
    sp.set_defaults(fn=cmd_add)
    sp = sub.add_parser("point")
    common(sp)
    for opt in ("--curve", "--title", "--x", "--y"):
        sp.add_argument(opt, required=True)
    sp.add_argument("--log-x", action="store_true")
    sp.add_argument("--series", required=True)
    sp.add_argument("px")
    sp.add_argument("py")
    sp.set_defaults(fn=cmd_point)
    sp = sub.add_parser("note")
    common(sp)
    sp.add_argument("text", nargs="+")
    sp.set_defaults(fn=cmd_note)
    sp = sub.add_parser("merge")
    sp.add_argument("src")
    sp.add_argument("into")
    sp.set_defaults(fn=cmd_merge)
    sp = sub.add_parser("machine")
    sp.add_argument("dir")
    sp.add_argument("phase", choices=("before", "after"))
    sp.add_argument("--quick", action="store_true")
    sp.add_argument("--runs", type=int)
    sp.set_defaults(fn=cmd_machine)
    sp = sub.add_parser("report")
    sp.add_argument("dir")
    sp.add_argument("--log", nargs="*")
    sp.set_defaults(fn=cmd_report)
    sp = sub.add_parser("baseline")
    sp.add_argument("dir")
    sp.add_argument("out")
    sp.add_argument("--note", required=True)
    sp.set_defaults(fn=cmd_baseline)
    sp = sub.add_parser("check")
    sp.add_argument("current")
    sp.add_argument("baseline")
    sp.add_argument("--threshold", type=float, default=0.2)
    sp.set_defaults(fn=cmd_check)
    a = p.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
