#!/bin/bash
# The keyed-data sweep (docs/pretraining.md, "Keyed data"), run on a GPU machine from the repository root:
#   cartridges data records-sequences --fact-style keyed --out .gpuwork \
#     --counts 6000 6000 5000 4000 3000 3000 2500 2500 2000 2000 1500 1500 1200 1200 1000 1000 800 800 800 800 \
#              600 600 600 600 500 500 500 500 400 400 400 400 300 300 300 300 300 300 300 300 300 300 300 300 300 300 300 300
#     (here: pools of 1-48-record keyed documents, half of them recall drills; .gpuwork is git-ignored, carry it)
#   bash tools/gpu-research/sweep-keyed.sh 420     (there; the runs share the GPU for WALL seconds)
# Writes every run's curve to $OUT/all.jsonl and the best runs' weights (bf16, HF names) to $OUT.
set -u
W=${1:-420}
S=tools/gpu-research/records_mirror.py
mkdir -p /tmp/runs
python3 $S --name smoke --steps 30 --every 10 --wall 40 --out /tmp/smoke || exit 1
C="python3 $S --wall $W --cur gate --start 4 --max 48 --cw 0.1 --every 200 --steps 40000"
$C --name k-d64-L2 --d 64 --H 4 --ff 192 --L 2 --lr 1e-2 &
$C --name k-d128-L2 --d 128 --H 4 --ff 384 --L 2 --lr 5e-3 &
$C --name k-d128-L3 --d 128 --H 4 --ff 384 --L 3 --lr 5e-3 &
$C --name k-d128-L4 --d 128 --H 4 --ff 384 --L 4 --lr 3e-3 &
$C --name k-d192-L2 --d 192 --H 6 --ff 576 --L 2 --lr 3e-3 &
$C --name k-d128-L2-tps16k --d 128 --H 4 --ff 384 --L 2 --lr 5e-3 --tps 16384 &
$C --name k-d128-L2-start1 --d 128 --H 4 --ff 384 --L 2 --lr 5e-3 --start 1 &
$C --name k-d256-L2 --d 256 --H 8 --ff 768 --L 2 --lr 2e-3 &
wait
cat /tmp/runs/*.jsonl > "$OUT/all.jsonl"
python3 tools/gpu-research/summarize_runs.py
