/**
 * Training throughput on wasm: game64, batch 8, a few steps after warm-up (R1 off the measured steps, as it
 * runs every 16th). Prints images/s, the GFLOP/s achieved (convs and FCs: per image 4 x G forward (G step:
 * forward + 2 backward; D step: forward) + 9 x D forward (G step: 3; D step: 3 on fakes + 3 on reals)) and the
 * ratio to NVIDIA's PyTorch StyleGAN2-ADA on this machine's CPU (0.38 images/s).
 */
import { DiscriminatorFlopsPerImage, GeneratorFlopsPerFace, GeneratorPresets, InitializeTfjsBackendAsync, ResolveTrainingOptions, TrainingRun } from "@npc-faces/trainer";

/** Reference: stylegan2-ada-pytorch, 64x64, channel_base 2048, batch 8, 2 CPU threads (ENVIRONMENT.md). */
export const PyTorchReferenceImagesPerSecond = 0.38;

/** Runs the benchmark and returns printable lines. */
export async function RunTrainingBenchAsync(steps = 3): Promise<string[]> {
  await InitializeTfjsBackendAsync("wasm");
  const config = GeneratorPresets.game64;
  const r = config.resolution;
  const count = 16;
  const images = new Uint8Array(count * r * r * 3);
  for (let i = 0; i < images.length; i++) images[i] = (i * 2654435761) >>> 24;
  const options = ResolveTrainingOptions({ preset: "game64", batch: 8, aug: "none", r1Interval: 1000000 });
  const run = new TrainingRun(options, { count, resolution: r, images, labelNames: [], labels: null });
  run.trainStep(); // warm-up (includes the step-0 R1)
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) run.trainStep();
  const seconds = (performance.now() - t0) / 1000;
  run.dispose();
  const ips = (steps * options.batch) / seconds;
  const flopsPerImage = 4 * GeneratorFlopsPerFace(config) + 9 * DiscriminatorFlopsPerImage(config);
  return [
    `training game64 batch 8 wasm (1 thread): ${ips.toFixed(2)} images/s (${((seconds / steps) * 1000).toFixed(0)} ms/step over ${steps} steps)`,
    `  ${((ips * flopsPerImage) / 1e9).toFixed(1)} GFLOP/s achieved (${(flopsPerImage / 1e9).toFixed(2)} GFLOP per image: 4 G + 9 D forwards)`,
    `  ${(ips / PyTorchReferenceImagesPerSecond).toFixed(1)}x NVIDIA's PyTorch StyleGAN2-ADA on this CPU (${PyTorchReferenceImagesPerSecond} images/s)`,
  ];
}
