#!/bin/bash
# The binding-stage sweep (docs/pretraining.md, "Binding stage"), run on a GPU machine from the repository root.
# Documents state one fact kind per record, so only the surname tells records apart; the two wordings differ in which
# key token sits right before the value. Export both pools on the CPU first (git-ignored folders; carry them):
#   for s in keyed keyed-name-next; do
#     cartridges data records-sequences --fact-style $s --facts-per-record 1 --out .gpuwork-$s \
#       --counts 4000 4000 4000 4000 4000 4000 4000 4000 3000 3000 3000 3000 2000 2000 2000 2000
#   done
#   bash tools/gpu-research/sweep-binding.sh 420     (there; the runs share the GPU for WALL seconds)
# Writes every run's curve to $OUT/all.jsonl and the best runs' weights (bf16, HF names) to $OUT.
set -u
W=${1:-420}
S=tools/gpu-research/records_mirror.py
mkdir -p /tmp/runs
python3 $S --name smoke --data .gpuwork-keyed --steps 30 --every 10 --wall 40 --out /tmp/smoke || exit 1
C="python3 $S --wall $W --cur gate --start 4 --max 16 --gate 0.8 --cw 0.1 --every 200 --steps 40000"
for s in keyed keyed-name-next; do
  $C --data .gpuwork-$s --name b-$s-d64-L2 --d 64 --H 4 --ff 192 --L 2 --lr 1e-2 &
  $C --data .gpuwork-$s --name b-$s-d128-L2 --d 128 --H 4 --ff 384 --L 2 --lr 5e-3 &
  $C --data .gpuwork-$s --name b-$s-d128-L2-h2 --d 128 --H 2 --ff 384 --L 2 --lr 5e-3 &
  $C --data .gpuwork-$s --name b-$s-d128-L4 --d 128 --H 4 --ff 384 --L 4 --lr 3e-3 &
done
wait
cat /tmp/runs/*.jsonl > "$OUT/all.jsonl"
python3 tools/gpu-research/summarize_runs.py
