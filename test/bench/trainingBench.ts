/**
 * Training throughput, both engines side by side in one run (issue 14): the tfjs engine on WASM (this thread, and 2
 * data-parallel worker threads) and the onnxruntime engine on onnxruntime-node's CPU provider, on game64 and on
 * npc64 (npc-faces 0.1's default model's preset), batch 8, Gmain + Dmain (R1 and the path length moved off the
 * measured steps, as they run every 16th and 4th; no augmentation). Prints images/s, ms and process CPU seconds per step, the GFLOP/s
 * achieved (convs and FCs: per image 4 G forwards (G step: forward + 2 backward; D step: forward) + 9 D forwards (G
 * step: 3; D step: 3 on fakes + 3 on reals)), that as a share of onnxruntime's conv peak measured in this run, and
 * the ratio of the engines. When
 * a stylegan2-ada-pytorch checkout is configured (nvidiaReference.ts), NVIDIA's PyTorch training step with game64's
 * sizes is measured in the same run too (otherwise "not measured").
 */
import { DiscriminatorFlopsPerImage, GeneratorFlopsPerFace, GeneratorPresets, InitializeTfjsBackendAsync, OrtTrainingRun, ParallelTrainingRun, ResolveTrainingOptions, TrainingRun, type TrainingData } from "@npc-faces/trainer";
import { MeasureConvPeakAsync } from "./autodiffBench.js";
import { MeasureNvidiaAsync, NotMeasuredLine } from "./nvidiaReference.js";

const Batch = 8;

function SyntheticData(resolution: number): TrainingData {
  const count = 16;
  const images = new Uint8Array(count * resolution * resolution * 3);
  for (let i = 0; i < images.length; i++) images[i] = (i * 2654435761) >>> 24;
  return { count, resolution, images, labelNames: [], labels: null };
}

/**
 * The median step time and the mean process CPU seconds of `steps` steps after one warm-up step (which builds sessions
 * and runs the step-0 R1). The median, for both engines: other work on a shared machine only ever slows a step down,
 * and one slowed step moves a mean of a few steps by several per cent.
 */
async function MeasureAsync(step: () => unknown, steps: number): Promise<{ seconds: number; cpuSeconds: number; steps: number }> {
  await step();
  const cpu0 = process.cpuUsage();
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    await step();
    times.push((performance.now() - t0) / 1000);
  }
  const cpu = process.cpuUsage(cpu0);
  times.sort((a, b) => a - b);
  const median = steps % 2 ? times[(steps - 1) / 2] : (times[steps / 2 - 1] + times[steps / 2]) / 2;
  return { seconds: median, cpuSeconds: (cpu.user + cpu.system) / 1e6 / steps, steps };
}

/** Runs the benchmark and returns printable lines. */
export async function RunTrainingBenchAsync(steps = 3): Promise<string[]> {
  // (`steps` of the tfjs engine; the onnxruntime engine runs 5 × steps.)
  await InitializeTfjsBackendAsync("wasm");
  const peak = await MeasureConvPeakAsync();
  const lines = [`onnxruntime conv peak (3x3 conv forward, 64 channels 32x32, batch 8, 2 threads, measured in this run): ${peak.toFixed(0)} GFLOP/s`];
  const ortGame64: number[] = [];
  const tfjsGame64: number[] = [];
  for (const preset of ["game64", "npc64"] as const) {
    const config = GeneratorPresets[preset];
    const data = SyntheticData(config.resolution);
    const flopsPerImage = 4 * GeneratorFlopsPerFace(config) + 9 * DiscriminatorFlopsPerImage(config);
    const options = (engine: "tfjs" | "ort", workers: number) => ResolveTrainingOptions({ preset, batch: Batch, aug: "none", r1Interval: 1_000_000, plWeight: 0, workers, engine });
    const rows: { label: string; ips: number }[] = [];
    const report = (label: string, t: { seconds: number; cpuSeconds: number; steps: number }) => {
      const ips = Batch / t.seconds;
      const gflops = (ips * flopsPerImage) / 1e9;
      rows.push({ label, ips });
      lines.push(
        `training ${preset} batch ${Batch}, ${label}: ${ips.toFixed(2)} images/s (median step ${(t.seconds * 1000).toFixed(0)} ms of ${t.steps}, ${t.cpuSeconds.toFixed(1)} CPU s/step)`,
        `  ${gflops.toFixed(1)} GFLOP/s achieved = ${((100 * gflops) / peak).toFixed(0)}% of the conv peak (${(flopsPerImage / 1e9).toFixed(2)} GFLOP per image: 4 G + 9 D forwards)`,
      );
    };

    // First: measured after the tfjs engine in the same process it ran ~15% slower (1077 vs 904 ms a step).
    const ort = new OrtTrainingRun(options("ort", 1), data, { device: "cpu" });
    await ort.prepareAsync();
    // Its steps are short: more of them, so that memory-arena growth in the first runs weighs less.
    report("onnxruntime engine, CPU provider", await MeasureAsync(() => ort.trainStepAsync(), 5 * steps));
    await ort.disposeAsync();
    const single = new TrainingRun(options("tfjs", 1), data);
    report("tfjs engine, wasm 1 thread", await MeasureAsync(() => single.trainStep(), steps));
    single.dispose();
    const parallel = await ParallelTrainingRun.CreateAsync(options("tfjs", 2), data, null);
    report("tfjs engine, wasm 2 worker threads", await MeasureAsync(() => parallel.trainStepAsync(), steps));
    await parallel.disposeAsync();

    const best = Math.max(rows[1].ips, rows[2].ips);
    lines.push(`  ${preset}: onnxruntime / tfjs (its faster configuration, measured side by side): ${(rows[0].ips / best).toFixed(2)}x`);
    if (preset === "game64") {
      ortGame64.push(rows[0].ips);
      tfjsGame64.push(rows[1].ips, rows[2].ips);
    }
  }

  const game64 = GeneratorPresets.game64;
  const nvidia = await MeasureNvidiaAsync({ train: [{ name: "game64", config: game64, batch: Batch, steps }] });
  if (!nvidia.measured) return [...lines, NotMeasuredLine(nvidia)];
  const reference = nvidia.train[0];
  lines.push(
    `${nvidia.label}, game64's sizes, batch ${Batch}, Gmain + Dmain (measured in this run): ${reference.imagesPerSecond.toFixed(2)} images/s (${(reference.secondsPerStep * 1000).toFixed(0)} ms/step, ${reference.cpuSecondsPerStep.toFixed(1)} CPU s/step)`,
    `  npc-faces / NVIDIA: onnxruntime engine ${(ortGame64[0] / reference.imagesPerSecond).toFixed(2)}x, tfjs engine ${tfjsGame64.map((ips) => (ips / reference.imagesPerSecond).toFixed(2)).join("x (1 thread), ")}x (2 worker threads)`,
  );
  return lines;
}
