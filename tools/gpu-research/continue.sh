#!/bin/bash
# Second stage of docs/pretraining.md's GPU sweep: continue the best first-stage model (.gpuwork/init.safetensors)
# with the gated curriculum up to 12 records, at 16k and 32k tokens per step, for WALL seconds.
set -u
W=${1:-240}
mkdir -p /tmp/runs
C="python3 tools/gpu-research/records_mirror.py --wall $W --init .gpuwork/init.safetensors --cur gate --start 1 --gate 0.6 --max 12 --cw 0.1 --steps 20000 --every 250"
$C --name k-cont-16k --tps 16384 &
$C --name l-cont-32k --tps 32768 &
wait
cat /tmp/runs/*.jsonl > "$OUT/all2.jsonl"
cp /tmp/runs/*.safetensors "$OUT/"
