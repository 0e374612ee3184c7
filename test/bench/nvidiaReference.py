"""Measures NVIDIA's StyleGAN2-ADA (PyTorch, CPU) with the project's preset sizes, for `npm run bench`.

Run by test/bench/nvidiaReference.ts with one JSON argument:
  {"checkout": <stylegan2-ada-pytorch folder>, "threads": 2,
   "generate": [{"name", "resolution", "zDim", "wDim", "mappingLayers", "channelBase", "channelMax", "batches": [1, 8]}],
   "train": [{... the same sizes, "batch": 8, "steps": 3}], "minSeconds": 2}
Prints one JSON object: {"torch", "threads", "generate": [{"preset", "batch", "msPerFace"}],
"train": [{"preset", "batch", "imagesPerSecond", "secondsPerStep", "cpuSecondsPerStep"}]}.

Only NVIDIA's modules are imported from the checkout (never copied into this repository). Everything runs in
fp32 on the CPU, without the CUDA plugins (their reference implementations are used on the CPU).
"""
import json
import statistics
import sys
import time


def median_ms(fn, min_runs, min_seconds):
    fn()  # warm-up
    times = []
    start = time.perf_counter()
    while len(times) < min_runs or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def make_networks(networks, p, with_d):
    # The project's preset sizes: channels at resolution r = min(channelBase / r, channelMax), as NVIDIA's.
    sizes = dict(channel_base=p["channelBase"], channel_max=p["channelMax"], num_fp16_res=0, conv_clamp=None)
    G = networks.Generator(z_dim=p["zDim"], c_dim=0, w_dim=p["wDim"], img_resolution=p["resolution"], img_channels=3,
                           mapping_kwargs=dict(num_layers=p["mappingLayers"]), synthesis_kwargs=sizes)
    D = networks.Discriminator(c_dim=0, img_resolution=p["resolution"], img_channels=3, **sizes) if with_d else None
    return G, D


def main():
    request = json.loads(sys.argv[1])
    sys.path.insert(0, request["checkout"])
    import torch
    from training import networks
    from training.loss import StyleGAN2Loss

    torch.set_num_threads(request["threads"])
    torch.manual_seed(0)
    result = {"torch": torch.__version__, "threads": torch.get_num_threads(), "generate": [], "train": []}

    with torch.no_grad():
        for p in request["generate"]:
            G, _ = make_networks(networks, p, False)
            G.eval().requires_grad_(False)
            for batch in p["batches"]:
                z = torch.randn([batch, p["zDim"]])
                ms = median_ms(lambda: G(z, None, truncation_psi=0.7, noise_mode="const"), 3, request["minSeconds"])
                result["generate"].append({"preset": p["name"], "batch": batch, "msPerFace": ms / batch})

    for p in request["train"]:
        # One training step as NVIDIA's training loop runs it without the lazy regularisers: the Gmain phase, then
        # Dmain, each followed by its Adam step (as the project's bench, which leaves R1 out of the measured steps).
        G, D = make_networks(networks, p, True)
        G.train().requires_grad_(False)
        D.train().requires_grad_(False)
        loss = StyleGAN2Loss(device=torch.device("cpu"), G_mapping=G.mapping, G_synthesis=G.synthesis, D=D)
        opt_g = torch.optim.Adam(G.parameters(), lr=0.0025, betas=(0, 0.99), eps=1e-8)
        opt_d = torch.optim.Adam(D.parameters(), lr=0.0025, betas=(0, 0.99), eps=1e-8)
        batch = p["batch"]
        r = p["resolution"]
        real = torch.rand([batch, 3, r, r]) * 2 - 1
        c = torch.zeros([batch, 0])

        def step():
            for phase, module, opt in (("Gmain", G, opt_g), ("Dmain", D, opt_d)):
                opt.zero_grad(set_to_none=True)
                module.requires_grad_(True)
                loss.accumulate_gradients(phase=phase, real_img=real, real_c=c, gen_z=torch.randn([batch, p["zDim"]]), gen_c=c, sync=True, gain=1)
                module.requires_grad_(False)
                opt.step()

        step()  # warm-up
        t0 = time.perf_counter()
        cpu0 = time.process_time()
        for _ in range(p["steps"]):
            step()
        seconds = time.perf_counter() - t0
        cpu_seconds = time.process_time() - cpu0
        result["train"].append({"preset": p["name"], "batch": batch, "imagesPerSecond": p["steps"] * batch / seconds,
                                "secondsPerStep": seconds / p["steps"], "cpuSecondsPerStep": cpu_seconds / p["steps"]})

    print(json.dumps(result))


if __name__ == "__main__":
    main()
