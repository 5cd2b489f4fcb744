#!/usr/bin/env python3
"""Reads one callgrind profile (bench/keyrequest/callgrind.sh) and prints kedge-ausfd's cost per
key request: the instructions of the window divided by the calls of the key request's handler
(`retrieve`), per library (self), kedge's own functions (inclusive: with the libraries they
call) and the top functions (inclusive and self). --line prints the one-line figures."""
import argparse
import collections
import os
import re
import sys

HANDLER = "retrieve"


def parse(path):
    """self[(ob, fn)], calls[(ob, fn)] (times called), edges[(caller, callee)] = inclusive Ir."""
    names = {}
    self_cost = collections.Counter()
    calls = collections.Counter()
    edges = collections.Counter()
    edge_calls = collections.Counter()
    ob = fn = cob = cfn = None
    pending_call = 0  # the next cost line is a call's inclusive cost
    total = 0
    comp = re.compile(r"^(ob|fl|fi|fe|fn|cob|cfi|cfl|cfn)=(?:\((\d+)\))?\s*(.*)$")

    def name(kind, ident, text):
        key = ("ob" if kind in ("ob", "cob") else "fn" if kind in ("fn", "cfn") else "fl", ident)
        if ident is None:
            return text
        if text:
            names[key] = text
        return names.get(key, "?")

    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            c = line[0]
            if c.isdigit() or c in "+-*":
                parts = line.split()
                cost = int(parts[1]) if len(parts) > 1 else 0
                if pending_call:
                    callee = (cob or ob, cfn)
                    calls[callee] += pending_call
                    if callee != (ob, fn):
                        edges[((ob, fn), callee)] += cost
                        edge_calls[((ob, fn), callee)] += pending_call
                    pending_call = 0
                    cob = None
                else:
                    self_cost[(ob, fn)] += cost
                continue
            m = comp.match(line)
            if m:
                kind, ident, text = m.group(1), m.group(2), m.group(3)
                n = name(kind, ident, text)
                if kind == "ob":
                    ob = n
                elif kind == "fn":
                    fn = n
                    cob = None
                elif kind == "cob":
                    cob = n
                elif kind == "cfn":
                    cfn = n
                continue
            if line.startswith("calls="):
                pending_call = int(line[6:].split()[0])
            elif line.startswith("totals:") or line.startswith("summary:"):
                total = int(line.split()[1])
    if not total:
        total = sum(self_cost.values())
    parse.edge_calls = edge_calls
    return self_cost, calls, edges, total


def inclusive(self_cost, edges):
    out = collections.Counter(self_cost)
    for (caller, _), cost in edges.items():
        out[caller] += cost
    return out


def short(ob):
    return os.path.basename(ob or "?")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("profile")
    ap.add_argument("--line", action="store_true")
    ap.add_argument("--top", type=int, default=40)
    a = ap.parse_args()
    self_cost, calls, edges, total = parse(a.profile)
    n = sum(v for (ob, fn), v in calls.items() if fn == HANDLER)
    per = lambda v: v / n if n else 0.0
    fcalls = lambda name: sum(v for (ob, fn), v in calls.items() if fn == name)
    if a.line:
        print("instr_per_req=%.0f calls=%d malloc_per_req=%.2f passes_per_req=%.3f "
              "writes_per_req=%.3f" % (per(total), n, per(fcalls("malloc")),
                                       per(fcalls("epoll_wait")), per(fcalls("write"))))
        return
    print("instructions per key request: %.0f (%d in the window, %d calls of %s)" %
          (per(total), total, n, HANDLER))
    print("\nby library, self (instructions per request, share):")
    by_ob = collections.Counter()
    for (ob, fn), v in self_cost.items():
        by_ob[short(ob)] += v
    for ob, v in by_ob.most_common():
        if v * 1000 >= total:
            print("  %-40s %8.0f %5.1f%%" % (ob, per(v), 100.0 * v / total))
    ours = {ob for (ob, fn) in self_cost if short(ob).startswith("kedge-")}
    inc = inclusive(self_cost, edges)
    print("\nkedge's own functions, inclusive (what each costs with the libraries it calls):")
    mine = [(v, k) for k, v in inc.items() if k[0] in ours]
    for v, (ob, fn) in sorted(mine, reverse=True)[:a.top]:
        print("  %-48s %8.0f %5.1f%% %7.2f" % (fn[:48], per(v), 100.0 * v / total,
                                              per(calls[(ob, fn)])))
    print("\ntop %d functions, inclusive (per request, share, calls per request, library):" % a.top)
    for (ob, fn), v in inc.most_common(a.top):
        print("  %-48s %8.0f %5.1f%% %7.2f  %s" % (fn[:48], per(v), 100.0 * v / total,
                                                  per(calls[(ob, fn)]), short(ob)))
    print("\ntop %d functions, self:" % a.top)
    for (ob, fn), v in self_cost.most_common(a.top):
        print("  %-48s %8.0f %5.1f%% %7.2f  %s" % (fn[:48], per(v), 100.0 * v / total,
                                                  per(calls[(ob, fn)]), short(ob)))


if __name__ == "__main__":
    sys.exit(main())
