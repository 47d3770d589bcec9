#!/usr/bin/env python3
"""bench/chart.py: the benchmark chart, from the benches' own output.

Run a bench with its output saved in bench/results/ (`bench/memory | tee
bench/results/memory.txt`; likewise idle and flood), then `bench/chart.py`
rewrites bench/chart.svg: for each figure, dlite beside the baseline the
bench measured in the same run, as the bench printed them.  A bench whose
output is missing is left out of the chart (and said so on stderr).
`bench/chart.py FILE` writes FILE instead (tests/pkg/t_dist.sh checks that
the committed chart is what the committed outputs give)."""
import os, re, sys

HERE = os.path.dirname(os.path.abspath(__file__))
RES = os.path.join(HERE, "results")

def read(name):
    p = os.path.join(RES, name + ".txt")
    if not os.path.exists(p):
        print(f"chart: no {p}; run bench/{name} | tee {p}", file=sys.stderr)
        return None
    return open(p, encoding="utf-8", errors="replace").read()

def num(pat, text, group=1):
    m = re.search(pat, text, re.M)
    if not m:
        raise SystemExit(f"chart: {pat!r} not in the output: the bench's format changed")
    return float(m.group(group))

rows = []  # (group, label, dlite, baseline, baseline_label, unit)
t = read("memory")
if t:
    idle, peak, after = (num(r"^dlite \(docker[^)]*\)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", t, g) for g in (1, 2, 3))
    floor = num(r"^floor \(bare VM[^)]*\)\s+([\d.]+)", t)
    rows.append(("QEMU memory (bench/memory)", "idle", idle, floor, "bare VM", "MiB"))
    rows.append(("QEMU memory (bench/memory)", "1.2 GiB burst, peak", peak, floor, "bare VM", "MiB"))
    rows.append(("QEMU memory (bench/memory)", "60 s after the burst", after, idle, "dlite idle", "MiB"))
t = read("idle")
if t:
    q = num(r"^QEMU, dlite VM\s+([\d.]+)", t)
    f = num(r"^QEMU, floor[^\d]*([\d.]+)", t)
    rows.append(("idle CPU (bench/idle)", "QEMU, 60 s idle", q, f, "bare VM", "% of a core"))
t = read("flood")
if t:
    base, this = t.split("== this", 1)
    g = "under flood (bench/flood)"
    grew = r"daemon\.log grew by (\d+) bytes"
    rows.append((g, "daemon.log growth", num(grew, this) / 1024, num(grew, base) / 1024, "main", "KiB"))
    rows.append((g, "container connections that reached the agent",
                 num(r"container flood: connects=\d+ established=(\d+)", this),
                 num(r"container flood: connects=\d+ established=(\d+)", base), "main", ""))
    rows.append((g, "docker calls answered of 40, silent connections held",
                 num(r"docker answered (\d+) of 40", this), num(r"docker answered (\d+) of 40", base), "main", ""))
if not rows:
    raise SystemExit("chart: no bench output in bench/results/")

W, LW, BH, GAP = 900, 330, 14, 10
y, parts, last = 40, [], None
for grp, label, a, b, bl, unit in rows:
    if grp != last:
        y += 18
        parts.append(f'<text x="10" y="{y}" font-weight="bold">{grp}</text>')
        y += 8
        last = grp
    m = max(a, b) or 1
    for val, who, color in ((a, "dlite", "#2b6cb0"), (b, bl, "#a0aec0")):
        w = (W - LW - 140) * val / m
        parts.append(f'<text x="{LW - 6}" y="{y + 11}" text-anchor="end" font-size="11">'
                     f'{label if who == "dlite" else ""} {who}</text>')
        parts.append(f'<rect x="{LW}" y="{y}" width="{w:.1f}" height="{BH}" fill="{color}"/>')
        parts.append(f'<text x="{LW + w + 4:.1f}" y="{y + 11}" font-size="11">{val:,.3g} {unit}</text>')
        y += BH + 2
    y += GAP
svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{y + 10}" '
       f'font-family="sans-serif" font-size="12">\n'
       f'<rect width="100%" height="100%" fill="white"/>\n'
       f'<text x="10" y="20" font-size="14">dlite beside the baseline each bench measured in the same run '
       f'(TCG, 2 shared cores)</text>\n' + "\n".join(parts) + "\n</svg>\n")
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "chart.svg")
with open(out + ".tmp", "w") as f:
    f.write(svg)
os.replace(out + ".tmp", out)
print(f"chart: {out}: {len(rows)} figures")
