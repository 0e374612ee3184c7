#!/usr/bin/env bash
# The training-gpu bench on a Linux x86-64 GPU machine with neither Node, npm nor network (tools/gpu-bench/README.md).
# Unpacks what tools/gpu-bench/pack.mjs put beside this script (node/ and bench/; either may have been unpacked by an
# earlier call on the same machine), the Vulkan loader into a private prefix, names NVIDIA's Vulkan driver, and runs
# the bench with the carried Node. NPC_FACES_BENCH_DEVICE, _PRESET and _STEPS pass through (test/bench/gpuTrainingBench.ts).
# Exit status: 0 measured (or Node alone unpacked), 2 a part is missing, 3 the device did not start (no adapter),
# else the bench's.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=${NPC_FACES_GPU_BENCH_DIR:-/tmp/npc-faces-gpu-bench}
mkdir -p "$work"

# tar -J needs the xz program, which a minimal image may lack; Python's tarfile reads the archive too.
unpack() {
  if command -v xz >/dev/null; then
    tar -xJf "$1" -C "$work"
  else
    python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2], filter="tar")' "$1" "$work"
  fi
}
for part in node bench; do
  if [[ -f $here/$part/$part.tar.xz ]]; then
    rm -rf "${work:?}/$part"
    unpack "$here/$part/$part.tar.xz"
    echo "gpu-bench: unpacked $part into $work/$part"
  fi
done
node=$work/node/bin/node
if [[ ! -x $node ]]; then
  echo "gpu-bench: no Node in $work: carry .gpu-bench/node (in this call, or in an earlier one on the same machine)" >&2
  exit 2
fi
if [[ ! -d $work/bench ]]; then
  echo "gpu-bench: Node is ready in $work; now run again carrying .gpu-bench/bench"
  exit 0
fi

# Dawn loads libvulkan.so.1 (and NVIDIA's driver libGLdispatch.so.0): from the .debs, not installed system-wide.
command -v dpkg >/dev/null || { echo "gpu-bench: dpkg is needed to unpack the Vulkan loader" >&2; exit 2; }
prefix=$work/vulkan
rm -rf "$prefix"
for deb in "$work"/bench/debs/*.deb; do dpkg -x "$deb" "$prefix"; done
export LD_LIBRARY_PATH=$prefix/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

# A driver named by the caller wins; else NVIDIA's (where the container toolkit mounts it, then the usual folders).
if [[ -z ${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-} ]]; then
  for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json; do
    if [[ -f $icd ]]; then
      export VK_DRIVER_FILES=$icd
      break
    fi
  done
fi
others=$(ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json 2>/dev/null | tr '\n' ' ' || true)
echo "gpu-bench: Vulkan driver ${VK_DRIVER_FILES:-${VK_ICD_FILENAMES:-no NVIDIA one found; the loader searches on its own: ${others:-none in /usr/share/vulkan/icd.d or /etc/vulkan/icd.d}}}"
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
if command -v nvidia-smi >/dev/null; then nvidia-smi -L; fi

status=0
"$node" "$work/bench/app/test/dist/bench/trainingGpuMain.js" || status=$?
if [[ $status -eq 3 ]]; then
  echo "gpu-bench: the device did not start (the line above says why); for webgpu: is the Vulkan driver above the GPU's?" >&2
fi
exit "$status"
