/**
 * Training throughput on wasm: game64, batch 8, a few steps after warm-up (R1 off the measured steps, as it
 * runs every 16th), in this thread and on 2 data-parallel worker threads. Prints images/s, the GFLOP/s achieved
 * (convs and FCs: per image 4 x G forward (G step: forward + 2 backward; D step: forward) + 9 x D forward (G step:
 * 3; D step: 3 on fakes + 3 on reals)), the process CPU seconds per step (the machine may be shared: CPU time
 * shows what the step costs) and, when a stylegan2-ada-pytorch checkout is configured (nvidiaReference.ts), the
 * ratio to NVIDIA's PyTorch training step with game64's sizes measured in the same run (otherwise "not measured").
 */
import { DiscriminatorFlopsPerImage, GeneratorFlopsPerFace, GeneratorPresets, InitializeTfjsBackendAsync, ParallelTrainingRun, ResolveTrainingOptions, TrainingRun, type TrainingData } from "@npc-faces/trainer";
import { MeasureNvidiaAsync, NotMeasuredLine } from "./nvidiaReference.js";

/** Runs the benchmark and returns printable lines. */
export async function RunTrainingBenchAsync(steps = 3): Promise<string[]> {
  await InitializeTfjsBackendAsync("wasm");
  const config = GeneratorPresets.game64;
  const r = config.resolution;
  const count = 16;
  const images = new Uint8Array(count * r * r * 3);
  for (let i = 0; i < images.length; i++) images[i] = (i * 2654435761) >>> 24;
  const data: TrainingData = { count, resolution: r, images, labelNames: [], labels: null };
  const flopsPerImage = 4 * GeneratorFlopsPerFace(config) + 9 * DiscriminatorFlopsPerImage(config);
  const lines: string[] = [];
  const measured: number[] = [];
  const report = (label: string, seconds: number, cpuSeconds: number) => {
    const ips = (steps * 8) / seconds;
    measured.push(ips);
    lines.push(
      `training game64 batch 8 wasm (${label}): ${ips.toFixed(2)} images/s (${((seconds / steps) * 1000).toFixed(0)} ms/step, ${(cpuSeconds / steps).toFixed(1)} CPU s/step, over ${steps} steps)`,
      `  ${((ips * flopsPerImage) / 1e9).toFixed(1)} GFLOP/s achieved (${(flopsPerImage / 1e9).toFixed(2)} GFLOP per image: 4 G + 9 D forwards)`,
    );
  };
  const measure = async (step: () => unknown) => {
    await step(); // warm-up (includes the step-0 R1)
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) await step();
    const cpu = process.cpuUsage(cpu0);
    return { seconds: (performance.now() - t0) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
  };

  const single = new TrainingRun(ResolveTrainingOptions({ preset: "game64", batch: 8, aug: "none", r1Interval: 1000000, workers: 1 }), data);
  const one = await measure(() => single.trainStep());
  single.dispose();
  report("1 thread", one.seconds, one.cpuSeconds);

  const parallel = await ParallelTrainingRun.CreateAsync(ResolveTrainingOptions({ preset: "game64", batch: 8, aug: "none", r1Interval: 1000000, workers: 2 }), data, null);
  const two = await measure(() => parallel.trainStepAsync());
  await parallel.disposeAsync();
  report("2 worker threads", two.seconds, two.cpuSeconds);

  const nvidia = await MeasureNvidiaAsync({ train: [{ name: "game64", config, batch: 8, steps }] });
  if (!nvidia.measured) return [...lines, NotMeasuredLine(nvidia)];
  const reference = nvidia.train[0];
  lines.push(
    `${nvidia.label}, game64's sizes, batch 8, Gmain + Dmain (measured in this run): ${reference.imagesPerSecond.toFixed(2)} images/s (${(reference.secondsPerStep * 1000).toFixed(0)} ms/step, ${reference.cpuSecondsPerStep.toFixed(1)} CPU s/step)`,
    `  npc-faces / NVIDIA: ${measured.map((ips) => (ips / reference.imagesPerSecond).toFixed(2)).join("x (1 thread), ")}x (2 worker threads)`,
  );
  return lines;
}
