# Sums kprof.c's per-block counts by kernel function (System.map): report.py SYSTEM_MAP PROFILE [TOP]
import sys, bisect, collections
sysmap, prof = sys.argv[1], sys.argv[2]
syms = []
for l in open(sysmap):
    a, t, n = l.split()[:3]
    if t in 'tTwW': syms.append((int(a, 16), n))
syms.sort(); addrs = [a for a, _ in syms]
tot = collections.Counter(); grand = 0; grand_all = 0
for l in open(prof):
    va, n, fro, allx = l.split(); va = int(va, 16); n = int(n); fro = int(fro); allx = int(allx)
    i = bisect.bisect_right(addrs, va) - 1
    name = syms[i][1] if i >= 0 else '?'
    tot[name] += n * fro; grand += n * fro; grand_all += n * allx
print(f"kernel insns before first user insn: {grand:,}  (whole run: {grand_all:,})")
for name, c in tot.most_common(int(sys.argv[3]) if len(sys.argv) > 3 else 40):
    print(f"{c:>13,} {100*c/grand:5.1f}%  {name}")
