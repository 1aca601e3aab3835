#!/bin/bash
# The curriculum sweep of docs/pretraining.md, run on a GPU machine from the repository root:
#   cartridges data records-sequences --out .gpuwork     (here; .gpuwork is git-ignored, carry it)
#   bash tools/gpu-research/sweep.sh 380                 (there; 10 runs share the GPU for WALL seconds)
# Writes every run's curve to $OUT/all.jsonl and the five best models' weights to $OUT.
set -u
W=${1:-390}
S=tools/gpu-research/records_mirror.py
mkdir -p /tmp/runs
python3 $S --name smoke --steps 30 --every 10 --wall 40 --out /tmp/smoke || exit 1
C="python3 $S --wall $W"
$C --name a-ramp-cw1 --cur ramp --cw 1.0 --steps 8000 &
$C --name b-ramp-cw01 --cur ramp --cw 0.1 --steps 8000 &
$C --name c-gate-L2-lr1e2 --cur gate --L 2 --lr 1e-2 --cw 0.1 --start 1 --steps 20000 &
$C --name d-gate-L4 --cur gate --cw 0.1 --start 1 --steps 20000 &
$C --name e-gate-L4-lr1e3 --cur gate --lr 1e-3 --cw 0.1 --start 1 --steps 20000 &
$C --name f-gate-d192 --cur gate --d 192 --H 6 --ff 512 --lr 2e-3 --cw 0.1 --start 1 --steps 20000 &
$C --name g-mix --cur mix --cw 0.1 --steps 8000 &
$C --name h-gate-d64-L2 --cur gate --d 64 --H 2 --ff 256 --L 2 --lr 1e-2 --cw 0.1 --start 1 --steps 20000 &
$C --name i-gate-tps16k --cur gate --tps 16384 --cw 0.1 --start 1 --steps 20000 &
$C --name j-gate-cw1 --cur gate --cw 1.0 --start 1 --steps 20000 &
wait
cat /tmp/runs/*.jsonl > "$OUT/all.jsonl"
python3 - <<'PY'
import json, glob, shutil, os
best = []
for f in glob.glob('/tmp/runs/*.jsonl'):
    probes = [json.loads(l) for l in open(f) if '"probe"' in l]
    if not probes: continue
    p = probes[-1]['probe']; name = os.path.basename(f)[:-6]
    best.append(((p.get('w5', 0) + p.get('w10', 0)) / 2 + p.get('w1', 0) / 10, name)); print(name, probes[-1]['step'], p)
for s, n in sorted(best, reverse=True)[:5]: shutil.copy(f'/tmp/runs/{n}.safetensors', os.environ['OUT'])
PY
