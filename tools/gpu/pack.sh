#!/usr/bin/env bash
# Runs here (a machine with .NET): publishes the CLI self-contained for linux-x64 without libtorch (the device machine's
# PyTorch provides it) and packs it, with TorchSharp's native sources if they were fetched, into .gpuwork/ (ignored),
# small enough to carry to the device machine (64 MiB in all).
#
#   tools/gpu/pack.sh                      # -> .gpuwork/cartridges-cli.tar.xz
#   TORCHSHARP_SRC=/path/to/TorchSharp tools/gpu/pack.sh   # also packs its src/Native for a build on the device
set -euo pipefail
root=$(git rev-parse --show-toplevel)
work="$root/.gpuwork"
rm -rf "$work/publish"
mkdir -p "$work"
dotnet publish "$root/src/Cartridges.Cli" -c Release -r linux-x64 --self-contained true -o "$work/publish" -p:PublishReadyToRun=false >/dev/null
# libtorch and its companions come from the device's PyTorch; keep only TorchSharp's binding (libLibTorchSharp.so).
find "$work/publish" -maxdepth 3 -type f \( -name 'libtorch*.so*' -o -name 'libc10*.so*' -o -name 'libgomp*.so*' -o -name 'libshm*.so*' \
  -o -name 'libbackend_with_compiler.so' -o -name 'libjitbackend_test.so' -o -name 'libnnapi_backend.so' -o -name 'libtorchbind_test.so' \
  -o -name 'libaoti_custom_ops.so' \) ! -name 'libLibTorchSharp.so' -delete
extra=()
if [[ -n "${TORCHSHARP_SRC:-}" ]]; then
  rm -rf "$work/TorchSharpNative"
  mkdir -p "$work/TorchSharpNative"
  cp -r "$TORCHSHARP_SRC/src/Native" "$work/TorchSharpNative/"
  extra=(TorchSharpNative)
fi
tar -C "$work" -cJf "$work/cartridges-cli.tar.xz" publish "${extra[@]}"
rm -rf "$work/publish"
du -h "$work/cartridges-cli.tar.xz"
