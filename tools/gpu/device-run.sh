#!/usr/bin/env bash
# Runs on the device machine (PyTorch + CUDA, no .NET), from the repository root, with .gpuwork/cartridges-cli.tar.xz
# carried there (tools/gpu/pack.sh makes it). Writes everything it measures under $OUT (default .gpuwork/out).
#
#   run: command "bash tools/gpu/device-run.sh", carry [".gpuwork/cartridges-cli.tar.xz"]
#
# 1. TorchSharp's packaged binding (built against libtorch 2.10) is tried against the machine's libtorch; if it does not
#    load, TorchSharp's src/Native (packed by pack.sh from the tag of the version the project uses) is built with CMake
#    against torch.utils.cmake_prefix_path and used instead.
# 2. `cartridges bench gpu` on the small preset and a ~1B Llama-shaped random model: parity (CUDA f32 and bf16 against
#    CPU f32) and speed; then tools/gpu/torch_reference.py times PyTorch on the same weights and card.
set -euo pipefail
work=.gpuwork
out="${OUT:-$work/out}"
mkdir -p "$work/run" "$out"
tar -C "$work/run" -xJf "$work/cartridges-cli.tar.xz"
app="$work/run/publish"
torch_lib=$(python3 -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
export LD_LIBRARY_PATH="$torch_lib:$app:${LD_LIBRARY_PATH:-}"
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
cli() { "$app/cartridges" "$@"; }
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(0))' | tee "$out/versions.txt"

if ! cli model init-random --arch llama --preset tiny --out "$work/probe" >"$out/binding.txt" 2>&1 \
   || ! cli bench gpu --model "$work/probe" --candidates cuda:f32 --speed false >>"$out/binding.txt" 2>&1; then
  echo "packaged libLibTorchSharp.so does not work with this libtorch; building TorchSharp's native library" | tee -a "$out/binding.txt"
  src="$work/run/TorchSharpNative/Native"
  [[ -d "$src" ]] || { echo "no TorchSharp sources packed (TORCHSHARP_SRC=… tools/gpu/pack.sh)" | tee -a "$out/binding.txt"; exit 1; }
  prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
  cmake -S "$src" -B "$work/native-build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" >>"$out/binding.txt" 2>&1
  cmake --build "$work/native-build" >>"$out/binding.txt" 2>&1
  cp "$(find "$work/native-build" -name 'libLibTorchSharp.so' | head -1)" "$app/"
  cli bench gpu --model "$work/probe" --candidates cuda:f32 --speed false >>"$out/binding.txt" 2>&1
fi

cli model init-random --arch llama --preset small --seed 1 --out "$work/small"
cli bench gpu --model "$work/small" --candidates cuda:f32,cuda:bf16 --batches 1,8,32,128 | tee "$out/bench-gpu-small.txt"
python3 tools/gpu/torch_reference.py --model "$work/small" --batches 1,8,32,128 | tee "$out/torch-small.txt"
cli model init-random --arch llama --preset 1b --seed 1 --dtype bf16 --out "$work/1b"
cli bench gpu --model "$work/1b" --candidates cuda:bf16 --batches 1,8,32,128 | tee "$out/bench-gpu-1b.txt"
python3 tools/gpu/torch_reference.py --model "$work/1b" --batches 1,8,32,128 | tee "$out/torch-1b.txt"
