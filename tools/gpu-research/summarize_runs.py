# Shared tail of the GPU sweep scripts: print every run's last probe and copy the best runs' weights to $OUT.
# A run's score is its curriculum level plus its exact match at the largest probed size.
import glob
import json
import os
import shutil

best = []
for f in glob.glob('/tmp/runs/*.jsonl'):
    probes = [json.loads(l) for l in open(f) if '"probe"' in l]
    if not probes:
        continue
    last = probes[-1]
    name = os.path.basename(f)[:-6]
    largest = max(int(k[1:]) for k in last['probe'] if k.startswith('w'))
    best.append((last['level'] + last['probe'].get(f"w{largest}", 0), name))
    print(name, last['step'], last['level'], last['probe'])
for _, name in sorted(best, reverse=True)[:4]:
    shutil.copy(f'/tmp/runs/{name}.safetensors', os.environ['OUT'])
