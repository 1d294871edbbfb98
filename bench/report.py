#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""bench/report.py - turn the "@@" result lines of bench/run-guest.sh into
markdown tables with ratios against kgc.

Usage: report.py [--native FILE] [--vm FILE] [--out FILE]

Each FILE holds the output of one run-guest.sh run (native: on the host;
vm: the .out file of the VM). Repetitions are reduced to their median; the
spread (max - min over the median) is shown where it matters. Nothing here
passes or fails: a missing figure prints as "n/a" with the reason.
"""

import argparse
import statistics
import sys

KGC = "kgc-noscan"
KGC_UNINIT = "kgc-uninit"
KGC_NOGC, KGC_UNINIT_NOGC = "kgc-noscan-nogc", "kgc-uninit-nogc"
ALLOC_ORDER = ["kgc-noscan", "kgc-uninit", "kgc-conservative", KGC_NOGC,
               KGC_UNINIT_NOGC, "mimalloc",
               "jemalloc",
               "tcmalloc", "glibc", "mimalloc-calloc", "jemalloc-calloc",
               "tcmalloc-calloc", "glibc-calloc"]
GC_ORDER = ["kgc", "boehm", "go"]
GC_NAMES = {"kgc": "kgc", "boehm": "Boehm GC", "go": "Go"}


def parse(path):
    """Result records, the env record and raw passthrough blocks."""
    recs, env, raw = [], {}, {}
    cur = None
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if cur is not None and not line.startswith("@@ raw end="):
                raw[cur].append(line)
                continue
            if not line.startswith("@@ "):
                continue
            parts = line[3:].split()
            kind, kv = parts[0], {}
            for p in parts[1:]:
                if "=" in p:
                    k, v = p.split("=", 1)
                    kv[k] = v
            if kind == "raw" and "begin" in kv:
                cur = kv["begin"]
                raw[cur] = []
            elif kind == "raw":
                cur = None
            elif kind == "env":
                env = kv
            else:
                kv["_kind"] = kind
                recs.append(kv)
    return recs, env, raw


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def best(vals):
    vals = [v for v in vals if v is not None]
    return min(vals) if vals else None


def spread(vals):
    vals = [v for v in vals if v is not None]
    if len(vals) < 2:
        return None
    m = statistics.median(vals)
    return (max(vals) - min(vals)) / m * 100 if m else None


def fmt(v, nd=1, na="n/a"):
    if v is None:
        return na
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{nd}f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "n/a"
    return f"{a / b:.2f}"


def table(head, rows):
    out = ["| " + " | ".join(head) + " |",
           "|" + "|".join("---" if i == 0 else "---:"
                          for i in range(len(head))) + "|"]
    for r in rows:
        out.append("| " + " | ".join(r) + " |")
    return out


# ---- allocation --------------------------------------------------------------

def alloc_groups(recs, mode):
    """(impl, threads) -> list of records of @mode."""
    g = {}
    for r in recs:
        if r["_kind"] != "alloc" or r.get("mode") != mode:
            continue
        g.setdefault((r["impl"], int(r["threads"])), []).append(r)
    return g


def alloc_cell(g, impl, threads, key="ns"):
    rs = g.get((impl, threads), [])
    vals = [num(r.get(key)) for r in rs if "na" not in r]
    if not vals:
        na = [r["na"] for r in rs if "na" in r]
        return None, None, (na[0] if na else None)
    # Times: the best run (least disturbed); counts: the median.
    return (best(vals) if key == "ns" else med(vals)), spread(vals), None


def alloc_table(recs, mode, where):
    g = alloc_groups(recs, mode)
    if not g:
        return [], {}
    impls = [i for i in ALLOC_ORDER if any(k[0] == i for k in g)]
    impls += sorted({k[0] for k in g} - set(impls))
    threads = sorted({k[1] for k in g})
    head = ["allocator"]
    for t in threads:
        head += [f"ns/alloc, {t} thr", "× kgc"]
    if mode == "fresh":
        head += ["faults /10⁶ allocs"]
    head += ["kgc ioctls /10⁶ allocs"]
    base = {t: alloc_cell(g, KGC, t)[0] for t in threads}
    base_uninit = {t: alloc_cell(g, KGC_UNINIT, t)[0] for t in threads}
    rows, figures = [], {}
    for impl in impls:
        row = [impl]
        # malloc() peers against kgc_alloc_uninit(), the others against
        # kgc_alloc_noscan(): like for like, zeroed or not.
        plain = not impl.startswith("kgc") and not impl.endswith("-calloc")
        for t in threads:
            b = base_uninit[t] if plain and base_uninit[t] else base[t]
            v, sp, na = alloc_cell(g, impl, t)
            figures[(impl, t)] = v
            if v is None:
                row += [f"n/a ({na})" if na else "n/a", "n/a"]
            else:
                cell = fmt(v)
                if sp is not None and sp >= 10:
                    cell += f" (±{sp / 2:.0f}%)"
                row += [cell, ratio(v, b)]
        if mode == "fresh":
            row.append(fmt(alloc_cell(g, impl, threads[0],
                                      "minflt_per_m")[0], 0))
        sc = alloc_cell(g, impl, threads[0], "syscalls_per_m")[0]
        row.append(fmt(sc, 0, "–") if impl.startswith("kgc") else "–")
        rows.append(row)
    return table(head, rows), figures


# ---- GC workloads --------------------------------------------------------------

def gc_groups(recs, bench):
    g, params, na, checks = {}, None, {}, {}
    for r in recs:
        if r["_kind"] == "fail" and r.get("cmd", "").startswith(bench + "_"):
            impl = r["cmd"][len(bench) + 1:]
            gc = r.get("args", "").rsplit("_", 1)[-1]
            na.setdefault(("fail", impl, gc), []).append(r.get("rc"))
            continue
        if r["_kind"] != "gc":
            continue
        if "na" in r:
            if r.get("bench", bench) == bench:
                na[(r.get("impl"), r.get("gc"))] = r["na"]
            continue
        if r.get("bench") != bench:
            continue
        g.setdefault((r["impl"], r["gc"]), []).append(r)
        checks.setdefault(r["check"], []).append(r)
        params = {k: v for k, v in r.items()
                  if k in ("depth", "depths", "array", "nodes")}
    return g, params, na, checks


def gc_table(recs, bench):
    g, params, na, checks = gc_groups(recs, bench)
    if not g and not na:
        return [], {}, None
    head = ["runtime", "GC", "wall ms", "× kgc", "GCs", "max pause µs",
            "total pause ms", "peak RSS MiB", "× kgc"]
    # The right answer: the checksum most runs agree on.
    good = max(checks, key=lambda c: len(checks[c])) if checks else None
    rows, fig = [], {}
    for gc in ("on", "off"):
        base_rs = g.get(("kgc", gc), [])
        bw = best([num(r["wall_ms"]) for r in base_rs])
        brss = med([num(r["peak_rss_kb"]) for r in base_rs])
        for impl in GC_ORDER:
            rs = g.get((impl, gc), [])
            name = GC_NAMES[impl] + (" (GOGC=off)" if gc == "off" and
                                     impl != "boehm" else
                                     " (GC_disable)" if gc == "off" else "")
            wrong = sum(1 for r in rs if r["check"] != good)
            fails = na.get(("fail", impl, gc), [])
            notes = []
            if wrong:
                notes.append(f"**wrong result** in {wrong} of {len(rs)}")
            if fails:
                notes.append(f"**{len(fails)} run(s) failed**: exit "
                             + ", ".join(sorted(set(fails))))
            if notes:
                name += " (" + "; ".join(notes) + ")"
            if not rs:
                why = na.get((impl, gc))
                rows.append([name, gc, f"n/a ({why})" if why else "n/a"] +
                            ["n/a"] * 6)
                continue
            w = best([num(r["wall_ms"]) for r in rs])
            sp = spread([num(r["wall_ms"]) for r in rs])
            ngc = med([num(r["num_gc"]) for r in rs])
            pmax = med([num(r["pause_max_us"]) for r in rs])
            ptot = med([num(r["pause_total_ms"]) for r in rs])
            rss = med([num(r["peak_rss_kb"]) for r in rs])
            lost = sum(int(r.get("lost", "0")) for r in rs)
            fig[(impl, gc)] = dict(wall=w, pmax=pmax, rss=rss)
            wcell = fmt(w) + (f" (±{sp / 2:.0f}%)" if sp and sp >= 10
                              else "")
            pcell = fmt(pmax) + (f" ({lost} lost)" if lost else "")
            if gc == "off":
                ngc_cell, pcell, ptcell = "0", "–", "–"
            else:
                ngc_cell = fmt(ngc, 0)
                ptcell = fmt(ptot, 2)
            rows.append([name, gc, wcell, ratio(w, bw), ngc_cell, pcell,
                         ptcell, fmt(rss / 1024 if rss else None),
                         ratio(rss, brss)])
    bad = None
    if len(checks) > 1:
        bad = f"Checksums differ: {good} is right; " + "; ".join(
            f"{c} from " + ", ".join(sorted({f"{r['impl']} gc={r['gc']}"
                                             for r in rs}))
            for c, rs in checks.items() if c != good)
    return table(head, rows), fig, (params, bad)


# ---- the report ------------------------------------------------------------------

ALLOC_NOTES = {
    "ring": [
        "Ring: each thread keeps a ring of {slots} live objects (16-512 B, "
        "uniform random, the same sequence for every allocator) and per "
        "step drops the oldest and allocates a new one, writing its first "
        "word. Malloc peers call free(); kgc overwrites the slot through "
        "KGC_STORE and leaves the object to the collector (GOGC=100), so "
        "kgc's figure includes the collector's cost.",
        "kgc-noscan: kgc_alloc_noscan(), zeroed objects (like calloc); "
        "kgc-uninit: kgc_alloc_uninit(), contents unspecified (like "
        "malloc or GC_malloc_atomic); kgc-conservative: "
        "kgc_alloc_conservative() (like GC_MALLOC, writes pointer bits). "
        "× kgc = the row's time over its like-for-like kgc row's: malloc "
        "rows over kgc-uninit's, *-calloc and kgc rows over kgc-noscan's "
        "(above 1: kgc is faster).",
    ],
    "fresh": [
        "Fresh: every allocation comes from memory the allocator never "
        "handed out before (nothing is freed; {fresh} allocations per "
        "thread): kgc runs with the collector off (GOGC=off), which is how "
        "its allocation path can be timed without a collector. Every "
        "allocator pays first-touch page faults (how many: the faults "
        "column; kgc's are served by kgc.ko's fault handler in the VM). "
        "Faults are expensive on this host and under TCG: they dominate "
        "these figures, which is why the ring table is the fast-path one.",
        "kgc ioctls /10⁶ allocs: system calls libkgc made (almost all "
        "KGC_IOC_REFILL: each gives the used-up spans back and brings a "
        "batch of new ones; 16-512 B objects spread over 25 size classes, "
        "mostly of one-page spans).",
    ],
}

NATIVE_KGC_NOTE = (
    "Native kgc rows run libkgc over an in-process stand-in for kgc.ko "
    "(bench/native_kernel.c; this host has no /dev/kgc): the ioctls are "
    "function calls, so the native rows time libkgc's user-space path only. "
    "In ring mode the stand-in has no collector: it hands a span given back "
    "out again once the working set's worth of spans came back after it "
    "(GOGC=100's footprint, objects zeroed on reuse), i.e. a collector that "
    "costs nothing — a lower bound for kgc. The stand-in serialises refills "
    "with one mutex (adaptive, spinning before it sleeps, as the module's "
    "heap mutex does), which the 2-thread rows feel.")

NOGC_NOTE = (
    "kgc-noscan-nogc, kgc-uninit-nogc: libkgc with the collector off, over "
    "the in-process stand-in for kgc.ko of the native rows "
    "(bench/native_kernel.c, spans recycled as described there), run in "
    "this VM next to the malloc peers: libkgc's allocation path under TCG "
    "without the kernel's costs (refill system calls, faults, marking, "
    "sweeping), which the kgc-noscan and kgc-uninit rows include.")

GC_NOTES = [
    "kgc: precise allocation (a kgc_type marking the node's two pointer "
    "words), stores through KGC_STORE, roots on the stack. Boehm GC: "
    "GC_MALLOC (GC_MALLOC_ATOMIC for the array), Debian's libgc defaults "
    "(parallel marking). Go: static binary (CGO_ENABLED=0), GOGC=100. "
    "Wall time from the first allocation to the end; × kgc = the row's "
    "figure over kgc's in the same GC mode.",
    "Pauses: Go — MemStats.PauseNs, per cycle (sweep-termination + "
    "mark-termination stop-the-world); kgc — per cycle, mark-start "
    "handshake (request to last acknowledgement) + mark termination "
    "(request to release), from kgc_read_stats() (pause_ns); Boehm — per collection, "
    "world stopped (GC_EVENT_PRE_STOP_WORLD to POST_START_WORLD). Rings of "
    "256 entries are polled every 2²⁰ nodes; \"lost\" counts cycles that "
    "were overwritten unseen.",
    "Peak RSS: VmHWM (kgc heap pages are in it; kgc.ko's own kernel "
    "metadata is not). GC off: GOGC=off / GC_disable(), the allocation "
    "cost alone; it also shows what runs while kgc has no collector.",
]


def emit_alloc(out, recs, where, env):
    figs = {}
    for mode in ("ring", "fresh"):
        t, f = alloc_table(recs, mode, where)
        figs[mode] = f
        if not t:
            continue
        out.append(f"#### {'Steady state (ring)' if mode == 'ring' else 'Fresh memory (nothing freed)'} — {where}")
        out.append("")
        out += t
        out.append("")
        slots = next((r.get("slots") for r in recs if r.get("slots")), None)
        for n in ALLOC_NOTES[mode]:
            out.append("- " + n.format(
                slots=env.get("slots") or slots or "10000",
                fresh=env.get("alloc_fresh", "?")))
        if where == "native":
            out.append("- " + NATIVE_KGC_NOTE)
        elif mode == "ring" and any(KGC_NOGC in k for k in f):
            out.append("- " + NOGC_NOTE)
        out.append("")
    return figs


def emit_gc(out, recs, where, bench, title):
    t, fig, extra = gc_table(recs, bench)
    if not t:
        return {}
    params, bad = extra
    p = " ".join(f"{k}={v}" for k, v in (params or {}).items())
    out.append(f"#### {title} — {where} ({p})")
    out.append("")
    out += t
    out.append("")
    if bad:
        out.append(f"- **{bad}**")
        out.append("")
    return fig


def goal_lines(where, af, bt, gb):
    lines = []
    for mode in ("ring", "fresh"):
        f = af.get(mode, {})
        for t in (1, 2):
            k, m = f.get((KGC, t)), f.get(("mimalloc", t))
            u, mc = f.get((KGC_UNINIT, t)), f.get(("mimalloc-calloc", t))
            if m is None:
                continue
            s = f"- {where}, {mode}, {t} thread{'s' if t > 1 else ''}: "
            if u is not None:
                s += f"kgc-uninit / mimalloc = {ratio(u, m)}"
            else:
                s += f"kgc-noscan / mimalloc = {ratio(k, m)}"
            if mc is not None:
                s += f", kgc-noscan / mimalloc-calloc = {ratio(k, mc)}"
            lines.append(s + " (goal ≤ 1)")
            kn, un = f.get((KGC_NOGC, t)), f.get((KGC_UNINIT_NOGC, t))
            if mode == "ring" and (kn is not None or un is not None):
                lines.append(
                    f"- {where}, ring, collector off (stand-in), {t} "
                    f"thread{'s' if t > 1 else ''}: kgc-uninit-nogc / "
                    f"mimalloc = {ratio(un, m)}, kgc-noscan-nogc / "
                    f"mimalloc-calloc = {ratio(kn, mc)} (goal ≤ 1)")
    for name, fig in (("binary-trees", bt), ("GCBench", gb)):
        k, b, g = (fig.get((i, "on")) for i in ("kgc", "boehm", "go"))
        kw = k["wall"] if k else None
        kp = k["pmax"] if k else None
        lines.append(
            f"- {where}, {name}: kgc / Boehm wall = "
            f"{ratio(kw, b['wall'] if b else None)} (goal < 1); "
            f"kgc / Go max pause = {ratio(kp, g['pmax'] if g else None)} "
            f"(goal < 1)")
    return lines


def phase_rows(lines):
    """phase_bench's table: impl -> {column: value} (numbers or "never")."""
    rows, cols = {}, None
    for line in lines:
        f = line.split()
        if not f or line.startswith("#"):
            continue
        if f[0] == "impl":
            cols = f[1:]
        elif cols and len(f) == len(cols) + 1:
            rows[f[0]] = {c: (num(v) if num(v) is not None else v)
                          for c, v in zip(cols, f[1:])}
    return rows


def phase_goal_lines(where, raw):
    """Issue 6: return under 1.2x live sooner than Go, no throughput loss."""
    lines = []
    for name, what in (("phase_bench", "survivors scattered"),
                       ("phase_bench_block", "survivors in a block")):
        rows = phase_rows(raw.get(name, []))
        k, g, n = rows.get("kgc"), rows.get("go"), rows.get("kgc-noidle")
        if not k:
            continue

        def t12(r):
            v = r.get("t<1.2live") if r else None
            return f"{v:.1f} s" if isinstance(v, float) else (v or "n/a")

        s = (f"- {where}, phase ({what}): under 1.2x live after "
             f"kgc {t12(k)}, Go {t12(g)} (goal: sooner than Go); "
             f"final RSS kgc / Go = "
             f"{ratio(k.get('final'), g.get('final') if g else None)}; "
             f"peak kgc / Go = "
             f"{ratio(k.get('peak'), g.get('peak') if g else None)}")
        if n:
            s += (f"; work kgc / kgc-noidle = "
                  f"{ratio(k.get('work'), n.get('work'))} "
                  f"(goal: no throughput loss)")
        lines.append(s)
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--native")
    ap.add_argument("--vm")
    ap.add_argument("--out")
    ap.add_argument("--command", default="make bench")
    ap.add_argument("--note", action="append", default=[],
                    help="a caveat to print under the environment")
    a = ap.parse_args()

    out = ["## Benchmarks", ""]
    goals = []
    sets = []
    if a.native:
        sets.append(("native", a.native))
    if a.vm:
        sets.append(("VM", a.vm))
    data = {}
    for where, path in sets:
        try:
            data[where] = parse(path)
        except OSError as e:
            out.append(f"- {where}: no results ({e})")
    envs = []
    for where, (recs, env, raw) in data.items():
        envs.append(f"- {where}: " + ", ".join(
            f"{k}={v}" for k, v in env.items() if k != "where"))
    out.append(f"Produced by `{a.command}` (bench/, tools/bench.sh). Times "
               "are the best of the repetitions (the least disturbed run), "
               "with ± half the spread where it is 10% or more; counts, "
               "pauses and RSS are medians. Figures are for comparison within one table only: "
               "QEMU TCG slows code unevenly (measured: glibc malloc ~11x, "
               "Boehm ~4x, Go ~6x), hence the native tables.")
    out.append("")
    out += envs
    out += ["- " + n for n in a.note]
    out.append("")

    out.append("### Small-object allocation (issue 4)")
    out.append("")
    afs = {}
    for where, (recs, env, raw) in data.items():
        afs[where] = emit_alloc(out, recs, where, env)
    out.append("### GC workloads (issue 5)")
    out.append("")
    bts, gbs = {}, {}
    for where, (recs, env, raw) in data.items():
        bts[where] = emit_gc(out, recs, where, "binarytrees", "binary-trees")
        gbs[where] = emit_gc(out, recs, where, "gcbench", "GCBench")
    out += ["- " + n for n in GC_NOTES]
    out.append("")

    for where, (recs, env, raw) in data.items():
        goals += goal_lines(where, afs.get(where, {}), bts.get(where, {}),
                            gbs.get(where, {}))
        goals += phase_goal_lines(where, raw)
    out.append("### Against the goals")
    out.append("")
    out += goals
    out.append("")

    fails = [(w, r) for w, (recs, _, _) in data.items() for r in recs
             if r["_kind"] == "fail"]
    if fails:
        out.append("### Runs that failed")
        out.append("")
        for w, r in fails:
            out.append(f"- {w}: {r.get('cmd')} {r.get('args', '')} "
                       f"exited {r.get('rc')}")
        out.append("")

    for where, (recs, env, raw) in data.items():
        for name, lines in raw.items():
            out.append(f"### {name} — {where}")
            out.append("")
            out.append("```")
            out += lines
            out.append("```")
            out.append("")

    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
