# SPDX-License-Identifier: MIT
"""Draw a libfiberjob trace (Chrome Trace Event JSON from fj_trace_stop or
``JobSystem.trace``) as a per-worker timeline PNG.

    python -m fiberjob.timeline out.json -o out.png [--title TEXT] [--arrows N]

One row per worker; a bar per run of a job, coloured by job name (the most
frequent names get a legend entry; a job run inline inside another's wait is
drawn on top of it, thinner); marks for steals (^), parks (v) and
wake-ups (o); thin lines for the first N flow arrows joining a job's runs
across a yield or wait.  Needs matplotlib (Debian: python3-matplotlib).
"""
import argparse
import collections
import json
import sys
from typing import Dict, List, Optional, Sequence


def load(path: str) -> tuple:
    """The trace's events, grouped: runs, instants, flows and worker names."""
    with open(path) as f:
        events = json.load(f)["traceEvents"]
    runs = [e for e in events if e.get("ph") == "X"]
    instants = [e for e in events if e.get("ph") == "i"]
    starts = {e["id"]: e for e in events if e.get("ph") == "s"}
    flows = [(starts[e["id"]], e) for e in events if e.get("ph") == "f" and e["id"] in starts]
    names = {e["tid"]: e["args"]["name"] for e in events
             if e.get("ph") == "M" and e.get("name") == "thread_name"}
    return runs, instants, flows, names


def nesting(runs: List[dict]) -> Dict[int, int]:
    """Depth of each run within its track: 0, or 1 + that of the run it
    lies inside (a job run inline while another waits)."""
    depth = {}
    by_tid = collections.defaultdict(list)
    for i, e in enumerate(runs):
        by_tid[e["tid"]].append(i)
    for idx in by_tid.values():
        idx.sort(key=lambda i: (runs[i]["ts"], -runs[i]["dur"]))
        open_ends: List[float] = []  # end times of the runs still open, innermost last
        for i in idx:
            start = runs[i]["ts"]
            while open_ends and open_ends[-1] <= start:
                open_ends.pop()
            depth[i] = len(open_ends)
            open_ends.append(start + runs[i]["dur"])
    return depth


def draw(path: str, out: str, title: Optional[str] = None, max_arrows: int = 300) -> int:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs, instants, flows, names = load(path)
    tids = sorted(set(names) | {e["tid"] for e in runs})
    row = {tid: i for i, tid in enumerate(tids)}
    by_name = collections.Counter(e["name"] for e in runs)
    palette = plt.get_cmap("tab10").colors
    colour = {name: palette[i % len(palette)] for i, (name, _) in enumerate(by_name.most_common())}

    fig, ax = plt.subplots(figsize=(12, 1.0 + 0.7 * len(tids)))
    depth = nesting(runs)
    labelled = set()
    for d in sorted(set(depth.values())):
        height = 0.7 * 0.75 ** d
        for name, _ in by_name.most_common():
            spans = collections.defaultdict(list)
            for i, e in enumerate(runs):
                if e["name"] == name and depth[i] == d:
                    spans[e["tid"]].append((e["ts"] / 1000.0, max(e["dur"], 0.05) / 1000.0))
            for tid, bars in spans.items():
                ax.broken_barh(bars, (row[tid] - height / 2, height), facecolors=colour[name],
                               edgecolors="white", linewidth=0.2,
                               label=None if name in labelled else name)
                labelled.add(name)
    marks = {"steal": ("^", "black"), "park": ("v", "red"), "wake": ("o", "green")}
    for kind, (marker, c) in marks.items():
        pts = [(e["ts"] / 1000.0, row[e["tid"]] + 0.42) for e in instants
               if e["name"] == kind and e["tid"] in row]
        if pts:
            xs, ys = zip(*pts)
            ax.scatter(xs, ys, marker=marker, s=14, color=c, label=kind, zorder=3)
    for s, f in flows[:max_arrows]:
        if s["tid"] in row and f["tid"] in row:
            ax.plot([s["ts"] / 1000.0, f["ts"] / 1000.0], [row[s["tid"]], row[f["tid"]]],
                    color="grey", linewidth=0.4, alpha=0.6, zorder=2)
    ax.set_yticks(range(len(tids)))
    ax.set_yticklabels([names.get(t, "worker %s" % t) for t in tids])
    ax.invert_yaxis()
    ax.set_xlabel("time (ms since the trace started)")
    ax.set_title(title or "fiberjob trace: %d runs of %d job names, %d flow arrows" % (
        len(runs), len(by_name), len(flows)))
    handles, labels = ax.get_legend_handles_labels()
    keep = [(h, l) for h, l in zip(handles, labels) if l in marks or by_name.get(l, 0) and
            l in dict(by_name.most_common(8))]
    if keep:
        ax.legend(*zip(*keep), loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return len(runs)


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m fiberjob.timeline", description=__doc__.split("\n\n")[0])
    p.add_argument("trace", help="Chrome Trace Event JSON written by fj_trace_stop")
    p.add_argument("-o", "--output", required=True, help="PNG file to write")
    p.add_argument("--title", help="figure title")
    p.add_argument("--arrows", type=int, default=300, help="flow arrows drawn at most (default 300)")
    args = p.parse_args(argv)
    try:
        n = draw(args.trace, args.output, args.title, args.arrows)
    except ImportError:
        print("fiberjob.timeline needs matplotlib (Debian: python3-matplotlib)", file=sys.stderr)
        return 2
    except (OSError, ValueError, KeyError) as e:
        print("fiberjob.timeline: cannot read %s: %s" % (args.trace, e), file=sys.stderr)
        return 1
    print("%s: %d runs drawn" % (args.output, n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
