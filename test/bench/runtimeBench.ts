/**
 * Runtime benchmark (issue 2): per preset and batch size, ms per face and faces/s through FaceGenerator on
 * onnxruntime-node, against the floor = GFLOP per face / the peak GFLOP/s onnxruntime-node reaches on this
 * machine for a large 3x3 convolution (measured in the same run); and, when a stylegan2-ada-pytorch checkout is
 * configured (nvidiaReference.ts), NVIDIA's generator with the same sizes, also measured in this run.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { FaceGenerator, type FaceRequest } from "@npc-faces/runtime";
import { CreateNodeBackend } from "@npc-faces/runtime/node";
import {
  CountParameters,
  ExportGeneratorOnnx,
  GeneratorFlopsPerFace,
  GetGeneratorPreset,
  InitializeGeneratorWeights,
  OnnxGraphBuilder,
  SerializeOnnxModel,
  UnsupervisedControls,
  type GeneratorConfig,
} from "@npc-faces/trainer";
import { WriteFileAtomicAsync } from "@npc-faces/tools";
import { InferenceSession, Tensor } from "onnxruntime-node";
import { FormatTable, MedianMsAsync } from "./benchUtil.js";
import { MeasureNvidiaAsync, NotMeasuredLine } from "./nvidiaReference.js";

/**
 * Convolution shapes tried for the peak: [batch, channels, size] (wide-and-small to narrow-and-large, as in the
 * generators, and a batched one; measured here the wide ones are fastest). The fastest one defines the floor.
 */
const PeakConvShapes: [number, number, number][] = [
  [1, 512, 16],
  [1, 256, 32],
  [1, 128, 64],
  [1, 64, 128],
  [1, 64, 256],
  [8, 128, 32],
];
/**
 * Convolutions chained per measurement: onnxruntime converts convolutions to its blocked (NCHWc) layout and
 * reorders at the graph's edges; one isolated conv pays that reorder and under-reports the peak (measured
 * here: ~45 vs ~75 GFLOP per CPU-second), a chain amortises it like the generator does.
 */
const PeakConvChain = 4;

/** Peak GFLOP/s of onnxruntime-node (CPU EP, default threads) on a plain 3x3 convolution with constant weights. */
export async function MeasurePeakConvGflopsAsync(): Promise<{ gflops: number; shape: string }> {
  let best = { gflops: 0, shape: "" };
  for (const [n, c, s] of PeakConvShapes) {
    const g = new OnnxGraphBuilder();
    let y = g.addInput("x", "float", [n, c, s, s]);
    const weights = new Float32Array(c * c * 9).map((_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
    for (let i = 0; i < PeakConvChain; i++) {
      const w = g.addInitializer("w", "float", [c, c, 3, 3], weights);
      y = g.node("Conv", [y, w], { pads: { ints: [1, 1, 1, 1] }, kernel_shape: { ints: [3, 3] } });
    }
    g.addOutput(y, "y", "float", [n, c, s, s]);
    const model = SerializeOnnxModel(g.build({ name: "peak_conv", producerName: "npc-faces-bench", producerVersion: "0" }));
    const session = await InferenceSession.create(model, { executionProviders: ["cpu"], graphOptimizationLevel: "all" });
    const input = new Tensor("float32", new Float32Array(n * c * s * s).fill(0.5), [n, c, s, s]);
    const ms = await MedianMsAsync(() => session.run({ x: input }), { warmup: 2, minRuns: 5, minMs: 1500 });
    await session.release();
    const gflops = (PeakConvChain * 2 * 9 * c * c * s * s * n) / (ms * 1e6);
    if (gflops > best.gflops) best = { gflops, shape: `${n}x${c}x${s}x${s}` };
  }
  return best;
}

const ExportedThisRun = new Map<string, Uint8Array>();

/**
 * Untrained model of a preset, exported afresh once per bench run (so the figures always measure the current
 * exporter) and written to `.tmp/bench-models/<preset>-untrained.onnx` for sections that need a file.
 */
export async function PresetModelAsync(preset: string, config: GeneratorConfig): Promise<Uint8Array> {
  const cached = ExportedThisRun.get(preset);
  if (cached) return cached;
  const weights = InitializeGeneratorWeights(config, 1);
  const bytes = ExportGeneratorOnnx({
    config,
    weights,
    name: `${preset} (untrained, bench)`,
    controls: UnsupervisedControls(config, weights, 4),
    provenance: { trained: false, licenses: [], credits: [], kimg: 0, tool: "npc-faces bench" },
  });
  const dir = join(process.cwd(), ".tmp", "bench-models");
  mkdirSync(dir, { recursive: true });
  await WriteFileAtomicAsync(join(dir, `${preset}-untrained.onnx`), bytes);
  ExportedThisRun.set(preset, bytes);
  return bytes;
}

/** Runs the runtime benchmark and returns the lines to print. */
export async function RunRuntimeBenchAsync(presets = ["npc64", "npc64wide", "npc64fine", "npc128", "game64", "game128", "paper256"], batches = [1, 8]): Promise<string[]> {
  const peak = await MeasurePeakConvGflopsAsync();
  const rows: (string | number)[][] = [["preset", "params (M)", "GFLOP/face", "batch", "ms/face", "faces/s", "floor ms/face", "x floor"]];
  const ours = new Map<string, number>();
  for (const preset of presets) {
    const config = GetGeneratorPreset(preset);
    const gflop = GeneratorFlopsPerFace(config) / 1e9;
    const generator = await FaceGenerator.loadAsync(await PresetModelAsync(preset, config), { backend: CreateNodeBackend(), maxBatch: Math.max(...batches) });
    for (const batch of batches) {
      const requests: FaceRequest[] = Array.from({ length: batch }, (_, i) => ({ seed: 1000 + i, psi: 0.7 }));
      const ms = (await MedianMsAsync(() => generator.generateAsync(requests), { warmup: 1, minRuns: 3, minMs: 2000 })) / batch;
      const floorMs = (gflop / peak.gflops) * 1000;
      rows.push([preset, CountParameters(config) / 1e6, gflop, batch, ms, 1000 / ms, floorMs, ms / floorMs]);
      ours.set(`${preset}/${batch}`, ms);
    }
    await generator.disposeAsync();
  }
  const nvidia = await MeasureNvidiaAsync({ generate: presets.map((name) => ({ name, config: GetGeneratorPreset(name), batches })) });
  const comparison = nvidia.measured
    ? [
        `${nvidia.label}, the same sizes (fp32, this CPU, measured in this run):`,
        ...FormatTable([
          ["preset", "batch", "NVIDIA ms/face", "npc-faces ms/face", "NVIDIA / npc-faces"],
          ...nvidia.generate.map((g) => [g.preset, g.batch, g.msPerFace, ours.get(`${g.preset}/${g.batch}`)!, g.msPerFace / ours.get(`${g.preset}/${g.batch}`)!]),
        ]),
      ]
    : [NotMeasuredLine(nvidia)];
  return [
    `Runtime (onnxruntime-node CPU, default threads): peak 3x3 conv ${peak.gflops.toFixed(1)} GFLOP/s (best of ${PeakConvShapes.length} shapes, ${PeakConvChain} chained convs: ${peak.shape})`,
    ...FormatTable(rows),
    "x floor = measured ms/face / (GFLOP per face / peak GFLOP/s); goal <= 1.5 at batch 8.",
    ...comparison,
  ];
}
