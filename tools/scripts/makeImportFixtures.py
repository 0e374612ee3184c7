"""Writes the fixtures of `npc-faces import` (tools/test/import/fixtures/): small generators with random weights in
NVIDIA's and rosinality's layouts, written by their own code, and the outputs their own generators compute on fixed
latents, stored as numbers.

Run manually (never by the test suite), with Debian's python3-torch:
  NPC_FACES_STYLEGAN2_ADA=/path/to/stylegan2-ada-pytorch \
  NPC_FACES_ROSINALITY=/path/to/stylegan2-pytorch \
  /usr/bin/python3 tools/scripts/makeImportFixtures.py tools/test/import/fixtures

Upstream code is imported from the folders named by the environment variables and never copied into this
repository. Every fixture is deterministic (torch.manual_seed).

Also usable as a module by the parity check (tools/scripts/importParity.py): `nvidia_generator`, `randomize`.
"""
import argparse
import copy
import json
import os
import pickle
import sys

import numpy as np
import torch


def randomize(module, seed):
    """Gives the parameters that start at zero (biases, noise strengths, w_avg) random values, so that no term of the
    generator vanishes; weights, constants and noise buffers are random already (randn at construction)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in list(module.named_parameters()) + list(module.named_buffers()):
            r = torch.randn(p.shape, generator=g)
            if name.endswith("noise_strength") or name.endswith("noise.weight"):
                p.copy_(r * 0.3)
            elif "w_avg" in name:
                p.copy_(r * 0.5)
            elif name.endswith("bias"):
                p.add_(r * 0.2)
    return module


def nvidia_generator(checkout, resolution, z_dim, w_dim, c_dim, mapping_layers, channel_base, channel_max, architecture="skip", conv_clamp=None, num_fp16_res=0, seed=0):
    sys.path.insert(0, checkout)
    import dnnlib
    torch.manual_seed(seed)
    # Built as train.py builds it (EasyDict kwargs, construct_class_by_name), so the pickle holds what real snapshots hold.
    kwargs = dnnlib.EasyDict(class_name="training.networks.Generator", z_dim=z_dim, w_dim=w_dim,
                             mapping_kwargs=dnnlib.EasyDict(num_layers=mapping_layers),
                             synthesis_kwargs=dnnlib.EasyDict(channel_base=channel_base, channel_max=channel_max, num_fp16_res=num_fp16_res, conv_clamp=conv_clamp, architecture=architecture))
    G = dnnlib.util.construct_class_by_name(**kwargs, c_dim=c_dim, img_resolution=resolution, img_channels=3).eval().requires_grad_(False)
    return randomize(G, seed + 1), dnnlib


def nvidia_discriminator(checkout, resolution, channel_base, channel_max, c_dim):
    sys.path.insert(0, checkout)
    import dnnlib
    kwargs = dnnlib.EasyDict(class_name="training.networks.Discriminator", block_kwargs=dnnlib.EasyDict(), mapping_kwargs=dnnlib.EasyDict(), epilogue_kwargs=dnnlib.EasyDict(mbstd_group_size=4),
                             channel_base=channel_base, channel_max=channel_max, num_fp16_res=0, conv_clamp=None)
    return dnnlib.util.construct_class_by_name(**kwargs, c_dim=c_dim, img_resolution=resolution, img_channels=3).eval().requires_grad_(False)


def dump_without_source(path, value, *networks):
    """NVIDIA's persistent classes pickle their module's Python source (`module_src`). Fixtures must not carry NVIDIA's
    code into this repository: while dumping, the source string is a placeholder (the importer never reads it)."""
    classes = {type(m) for n in networks for m in n.modules() if hasattr(type(m), "_orig_module_src")}
    saved = {c: c._orig_module_src for c in classes}
    try:
        for c in classes:
            c._orig_module_src = "# NVIDIA source omitted from npc-faces test fixtures\n"
        with open(path, "wb") as f:
            pickle.dump(value, f)
    finally:
        for c, src in saved.items():
            c._orig_module_src = src


def latents(seed, n, z_dim, c_dim):
    g = torch.Generator().manual_seed(seed)
    z = torch.randn([n, z_dim], generator=g)
    c = torch.zeros([n, c_dim])
    for i in range(n):
        if c_dim:
            c[i, i % c_dim] = 1
    return z, c


def nvidia_reference(G, z, c, psi):
    """NVIDIA's own forward pass in float32 (force_fp32), with the file's constant noise."""
    with torch.no_grad():
        return G(z, c, truncation_psi=psi, noise_mode="const", force_fp32=True)


def write_json(path, value):
    with open(path, "w") as f:
        json.dump(value, f, separators=(",", ":"))


def rounded(t):
    # float32 values as the shortest decimals that read back to the same float32.
    return [float(np.format_float_positional(np.float32(v), unique=True)) for v in t.reshape(-1).tolist()]


def nvidia_fixtures(out, checkout):
    cases = [
        # name, resolution, z, w, c, mapping, cbase, cmax, architecture, conv_clamp, fp16 res
        ("nvidia-skip-64", 64, 16, 16, 0, 2, 256, 32, "skip", 256, 2),
        ("nvidia-cond-clamp-32", 32, 12, 16, 3, 3, 256, 16, "skip", 0.5, 0),
        ("nvidia-resnet-32", 32, 16, 16, 0, 1, 256, 16, "resnet", None, 0),
        ("nvidia-orig-16", 16, 8, 8, 0, 2, 128, 16, "orig", None, 0),
    ]
    for seed, (name, res, zd, wd, cd, ml, cb, cm, arch, clamp, fp16) in enumerate(cases):
        G, dnnlib = nvidia_generator(checkout, res, zd, wd, cd, ml, cb, cm, arch, clamp, fp16, seed=100 + seed)
        snapshot = dict(training_set_kwargs=dict(dnnlib.EasyDict(class_name="training.dataset.ImageFolderDataset", path="faces.zip", resolution=res, use_labels=cd > 0)))
        snapshot["G"] = copy.deepcopy(G)
        if name == "nvidia-skip-64":
            snapshot["D"] = nvidia_discriminator(checkout, res, cb, cm, cd)
        snapshot["G_ema"] = G
        file = f"network-snapshot-000{120 + seed}.pkl" if name == "nvidia-skip-64" else f"{name}.pkl"
        dump_without_source(os.path.join(out, file), snapshot, *[v for v in snapshot.values() if isinstance(v, torch.nn.Module)])
        z, c = latents(7 + seed, 2, zd, cd)
        psi = 0.7
        img = nvidia_reference(G, z, c, psi)
        write_json(os.path.join(out, f"{name}.reference.json"), dict(
            file=file, resolution=res, psi=psi, z=rounded(z), c=rounded(c), shape=list(img.shape), image=rounded(img)))
        print(name, file, os.path.getsize(os.path.join(out, file)), "bytes")
    # A discriminator alone: must be refused.
    D = nvidia_discriminator(checkout, 16, 128, 16, 0)
    dump_without_source(os.path.join(out, "nvidia-discriminator-only.pkl"), dict(D=D), D)


def rosinality_generator(checkout, size, style_dim, n_mlp, lr_mlp, channels, seed):
    """rosinality's Generator with the channel counts given (its own are 512 up to 32 px, too large for fixtures)."""
    import torch.utils.cpp_extension
    # rosinality's op/ compiles CUDA kernels at import; on the CPU its forward uses the pure PyTorch paths instead.
    torch.utils.cpp_extension.load = lambda *args, **kwargs: None
    sys.path.insert(0, checkout)
    from model import Generator

    class SizedGenerator(Generator):
        @property
        def channels(self):
            return channels

        @channels.setter
        def channels(self, value):
            pass

    torch.manual_seed(seed)
    g = SizedGenerator(size, style_dim, n_mlp, lr_mlp=lr_mlp).eval()
    return randomize(g, seed + 1)


def rosinality_fixtures(out, checkout):
    cases = [
        # name, size, style_dim, n_mlp, channels (min(base / r, max) with base 512, max 32), latent_avg recorded
        ("rosinality-64", 64, 16, 3, {4: 32, 8: 32, 16: 32, 32: 16, 64: 8}, True),
        ("rosinality-noavg-16", 16, 8, 2, {4: 16, 8: 16, 16: 8}, False),
    ]
    for seed, (name, size, style_dim, n_mlp, channels, with_avg) in enumerate(cases):
        g = rosinality_generator(checkout, size, style_dim, n_mlp, 0.01, channels, 200 + 10 * seed)
        z, _ = latents(11 + seed, 2, style_dim, 0)
        psi = 0.7 if with_avg else 1.0
        with torch.no_grad():
            mean = g.mean_latent(256)
            img, _ = g([z], truncation=psi, truncation_latent=mean, randomize_noise=False)
        ckpt = {"g_ema": g.state_dict(), "args": argparse.Namespace(size=size, latent=style_dim, n_mlp=n_mlp, channel_multiplier=2)}
        if with_avg:
            ckpt["latent_avg"] = mean[0]
        torch.save(ckpt, os.path.join(out, f"{name}.pt"))
        write_json(os.path.join(out, f"{name}.reference.json"), dict(
            file=f"{name}.pt", resolution=size, psi=psi, z=rounded(z), c=[], shape=list(img.shape), image=rounded(img)))
        print(name, os.path.getsize(os.path.join(out, f"{name}.pt")), "bytes")
        if not with_avg:
            # The same checkpoint in torch's legacy (pre-1.6, not zip) format.
            legacy = name.replace("noavg", "legacy")
            torch.save(ckpt, os.path.join(out, f"{legacy}.pt"), _use_new_zipfile_serialization=False)
            write_json(os.path.join(out, f"{legacy}.reference.json"), dict(
                file=f"{legacy}.pt", resolution=size, psi=psi, z=rounded(z), c=[], shape=list(img.shape), image=rounded(img)))
    # A discriminator alone (rosinality's layout: "d" only): must be refused.
    torch.save({"d": {"convs.0.0.weight": torch.zeros(2, 3, 1, 1)}}, os.path.join(out, "rosinality-discriminator-only.pt"))


class _Evil:
    """Pickles as a call of os.system: what a hostile file looks like. The importer must refuse it unexecuted."""

    def __reduce__(self):
        return (os.system, ("echo this must never run",))


def hostile_fixtures(out, checkout):
    # A pickle that would run a shell command when loaded with Python's pickle.
    with open(os.path.join(out, "hostile-os-system.pkl"), "wb") as f:
        pickle.dump({"G_ema": _Evil()}, f)
    # A torch.save zip whose data.pkl does the same.
    torch.save({"g_ema": {"style.1.weight": torch.zeros(2, 2)}, "args": _Evil()}, os.path.join(out, "hostile-os-system.pt"))
    if checkout:
        # An NVIDIA snapshot whose G_ema is a discriminator: an unknown generator class.
        D = nvidia_discriminator(checkout, 16, 128, 16, 0)
        dump_without_source(os.path.join(out, "nvidia-wrong-class.pkl"), dict(G_ema=D), D)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(2)
    if os.environ.get("NPC_FACES_STYLEGAN2_ADA"):
        nvidia_fixtures(out, os.environ["NPC_FACES_STYLEGAN2_ADA"])
    if os.environ.get("NPC_FACES_ROSINALITY"):
        rosinality_fixtures(out, os.environ["NPC_FACES_ROSINALITY"])
    hostile_fixtures(out, os.environ.get("NPC_FACES_STYLEGAN2_ADA"))


if __name__ == "__main__":
    main()
