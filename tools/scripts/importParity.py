"""Writes a full-size generator with random weights in NVIDIA's or rosinality's layout, and what that project's own
generator computes for it, for the upstream parity check of `npc-faces import`
(tools/test/import/importUpstreamParity.test.ts runs this; nothing it writes is committed).

  NPC_FACES_STYLEGAN2_ADA=/path/to/stylegan2-ada-pytorch NPC_FACES_ROSINALITY=/path/to/stylegan2-pytorch \
  /usr/bin/python3 tools/scripts/importParity.py OUT_DIR nvidia|rosinality RESOLUTION

Writes OUT_DIR/<kind>-<resolution>.pkl|.pt, .json (file, z, psi, shape, seconds) and .image.f32 (the float32 image,
little-endian, [N, 3, R, R]). Sizes as the projects' own configurations: NVIDIA z = w = 512, 8 mapping layers,
channel_base 16384 below 512 px and 32768 from 512 px (its `auto`/paper configs), channel_max 512, conv_clamp 256,
fp16 on the 4 highest resolutions (computed in float32: force_fp32); rosinality style_dim 512, n_mlp 8,
channel_multiplier 2.
"""
import json
import os
import sys
import time

import numpy as np
import torch
import torch.utils.cpp_extension

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from makeImportFixtures import dump_without_source, latents, nvidia_generator, nvidia_reference, randomize  # noqa: E402


def main():
    out, kind, resolution = sys.argv[1], sys.argv[2], int(sys.argv[3])
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(int(os.environ.get("NPC_FACES_TORCH_THREADS", "2")))
    z, c = latents(1234, 1, 512, 0)
    psi = 0.7
    base = f"{kind}-{resolution}"
    if kind == "nvidia":
        G, _ = nvidia_generator(os.environ["NPC_FACES_STYLEGAN2_ADA"], resolution, 512, 512, 0, 8, 16384 if resolution < 512 else 32768, 512, "skip", 256, 4, seed=resolution)
        file = f"{base}.pkl"
        dump_without_source(os.path.join(out, file), dict(G_ema=G), G)
        start = time.perf_counter()
        img = nvidia_reference(G, z, c, psi)
    elif kind == "rosinality":
        torch.utils.cpp_extension.load = lambda *args, **kwargs: None  # its CUDA ops compile at import; CPU paths are pure PyTorch
        sys.path.insert(0, os.environ["NPC_FACES_ROSINALITY"])
        from model import Generator
        torch.manual_seed(resolution)
        g = randomize(Generator(resolution, 512, 8, channel_multiplier=2).eval(), resolution + 1)
        with torch.no_grad():
            mean = g.mean_latent(4096)
        file = f"{base}.pt"
        torch.save({"g_ema": g.state_dict(), "latent_avg": mean[0]}, os.path.join(out, file))
        start = time.perf_counter()
        with torch.no_grad():
            img, _ = g([z], truncation=psi, truncation_latent=mean, randomize_noise=False)
    else:
        raise SystemExit(f"unknown kind {kind}")
    seconds = time.perf_counter() - start
    img.numpy().astype("<f4").tofile(os.path.join(out, f"{base}.image.f32"))
    with open(os.path.join(out, f"{base}.json"), "w") as f:
        json.dump(dict(file=file, z=z.reshape(-1).tolist(), psi=psi, shape=list(img.shape), seconds=seconds, torch=torch.__version__), f)


if __name__ == "__main__":
    main()
