/**
 * Training throughput of the onnxruntime engine on a GPU: game64, batch 8, on onnxruntime-node's bundled WebGPU
 * provider (Dawn over Vulkan on Linux). A warm-up step (session creation, the step-0 R1), then a few measured steps;
 * prints images/s, ms/step and the GFLOP/s achieved, counted as the training section counts them (per image 4 G + 9
 * D forwards), and the Vulkan driver and GPU it can name. When the provider does not start (no adapter), one line
 * says so and why. tools/gpu-bench carries this section, with Node, to a GPU machine that has neither Node nor network.
 *
 * Environment: NPC_FACES_BENCH_DEVICE (cpu | webgpu | cuda, default webgpu), NPC_FACES_BENCH_PRESET (default game64;
 * tiny for a quick check), NPC_FACES_BENCH_STEPS (measured steps, default 5).
 */
import { spawnSync } from "node:child_process";
import { cpus } from "node:os";
import { DiscriminatorFlopsPerImage, GeneratorFlopsPerFace, OrtDevices, OrtTrainingRun, ResolveTrainingOptions, TrainingGeneratorConfig, type OrtDevice, type TrainingData } from "@npc-faces/trainer";

/** The section's lines, and whether the device started (false: the lines say why not). */
export interface GpuTrainingBench {
  readonly lines: string[];
  readonly ran: boolean;
}

const Batch = 8;

function BenchDevice(): OrtDevice {
  const device = process.env.NPC_FACES_BENCH_DEVICE ?? "webgpu";
  if (!(OrtDevices as readonly string[]).includes(device)) throw new Error(`NPC_FACES_BENCH_DEVICE=${device}: expected one of ${OrtDevices.join(", ")}`);
  return device as OrtDevice;
}

function BenchSteps(): number {
  const steps = Number(process.env.NPC_FACES_BENCH_STEPS ?? "5");
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`NPC_FACES_BENCH_STEPS=${process.env.NPC_FACES_BENCH_STEPS}: expected a positive integer`);
  return steps;
}

/** The first line `nvidia-smi -L` prints, or why there is none. */
function NvidiaGpu(): string {
  const smi = spawnSync("nvidia-smi", ["-L"], { encoding: "utf8", timeout: 10_000 });
  if (smi.error || smi.status !== 0) return "no nvidia-smi";
  return smi.stdout.split("\n")[0].trim();
}

/** What the run can tell about the hardware under `device`. onnxruntime-node does not report Dawn's adapter. */
function DescribeDevice(device: OrtDevice): string {
  if (device === "cpu") return `${cpus().length} x ${cpus()[0]?.model ?? "unknown CPU"}`;
  if (device === "cuda") return NvidiaGpu();
  // The Vulkan loader reads VK_DRIVER_FILES first, then the older VK_ICD_FILENAMES, then its default folders.
  const driver = process.env.VK_DRIVER_FILES ?? process.env.VK_ICD_FILENAMES ?? "the Vulkan loader's default search";
  return `Vulkan driver ${driver}; ${NvidiaGpu()}`;
}

/** Synthetic reals (the training section's), so the figure does not depend on a data set on disk. */
function SyntheticData(resolution: number): TrainingData {
  const count = 16;
  const images = new Uint8Array(count * resolution * resolution * 3);
  for (let i = 0; i < images.length; i++) images[i] = (i * 2654435761) >>> 24;
  return { count, resolution, images, labelNames: [], labels: null };
}

/** Runs the benchmark; `ran` is false when the device did not start. */
export async function MeasureGpuTrainingAsync(): Promise<GpuTrainingBench> {
  const device = BenchDevice();
  const steps = BenchSteps();
  const options = ResolveTrainingOptions({ preset: process.env.NPC_FACES_BENCH_PRESET ?? "game64", batch: Batch, aug: "none", r1Interval: 1000000, workers: 1 });
  const label = `training ${options.preset} batch ${Batch} onnxruntime ${device}`;
  const lines = [`${label} on ${DescribeDevice(device)}`];
  const config = TrainingGeneratorConfig(options, 0);
  const run = new OrtTrainingRun(options, SyntheticData(config.resolution), { device }, null);
  try {
    const t0 = performance.now();
    try {
      await run.prepareAsync();
    } catch (error) {
      lines.push(`  ${device} did not start: ${(error as Error).message}`);
      return { lines, ran: false };
    }
    const t1 = performance.now();
    await run.trainStepAsync(); // warm-up: the R1 and path-length sessions, the step-0 R1
    const t2 = performance.now();
    for (let i = 0; i < steps; i++) await run.trainStepAsync();
    const seconds = (performance.now() - t2) / 1000;
    const ips = (steps * Batch) / seconds;
    const flopsPerImage = 4 * GeneratorFlopsPerFace(config) + 9 * DiscriminatorFlopsPerImage(config);
    lines.push(
      `  ${ips.toFixed(2)} images/s (${((seconds / steps) * 1000).toFixed(0)} ms/step over ${steps} steps; sessions ${((t1 - t0) / 1000).toFixed(1)} s, warm-up step ${((t2 - t1) / 1000).toFixed(1)} s)`,
      `  ${((ips * flopsPerImage) / 1e9).toFixed(2)} GFLOP/s achieved (${(flopsPerImage / 1e9).toFixed(2)} GFLOP per image: 4 G + 9 D forwards)`,
    );
    return { lines, ran: true };
  } finally {
    await run.disposeAsync();
  }
}

/** The `training-gpu` section of `npm run bench`. */
export async function RunGpuTrainingBenchAsync(): Promise<string[]> {
  return (await MeasureGpuTrainingAsync()).lines;
}
