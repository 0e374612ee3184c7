/**
 * ONNX autodiff benchmark (issue 14): GFLOP/s of a 3×3 convolution layer (64 → 64 channels, 32×32, batch 8) on
 * onnxruntime-node, forward and forward + backward (gradient graph built by the trainer's ONNX autodiff), and the
 * alternatives the Conv gradient rule chose between. Layers are chained with distinct weights fed as graph inputs,
 * so graph optimisation "all" can neither merge repeated work (common-subexpression elimination) nor fold the
 * weights' transposes into constants, and the per-run overhead and layout reorders are amortised.
 */
import { AddGradients, OnnxGraphBuilder, PruneUnusedNodes, SerializeOnnxModel, type AddGradientsOptions } from "@npc-faces/trainer";
import { existsSync } from "node:fs";
import { InferenceSession, Tensor } from "onnxruntime-node";
import { FormatTable, MedianMsAsync } from "./benchUtil.js";

/** Shape of the benchmarked layer. */
export interface ConvBenchShape {
  readonly batch: number;
  readonly channels: number;
  readonly size: number;
  readonly layers: number;
}

/** The layer the issue names: 64 channels, 32×32, batch 8 (4 chained layers per run). */
export const DefaultConvBenchShape: ConvBenchShape = { batch: 8, channels: 64, size: 32, layers: 4 };

const ConvAttributes = { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } };

function Values(n: number, seed: number, scale: number): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 4294967296 - 0.5) * scale;
  });
}

/** FLOPs of one 3×3 conv layer's forward (multiply-adds count 2). */
export function ConvLayerFlops(shape: ConvBenchShape): number {
  return 2 * shape.batch * shape.channels * shape.channels * 9 * shape.size * shape.size;
}

interface Graph {
  readonly bytes: Uint8Array;
  readonly feeds: Record<string, Tensor>;
}

/** A chain of conv layers; with `backward`, the loss Σ r·y and its gradients wrt every weight. */
function ConvChain(shape: ConvBenchShape, backward: AddGradientsOptions | null): Graph {
  const { batch: N, channels: C, size: S, layers } = shape;
  const g = new OnnxGraphBuilder();
  const feeds: Record<string, Tensor> = {};
  const x = g.addInput("x", "float", [N, C, S, S]);
  feeds.x = new Tensor("float32", Values(N * C * S * S, 1, 2), [N, C, S, S]);
  let h = x;
  const weights: string[] = [];
  for (let l = 0; l < layers; l++) {
    const w = g.addInput(`w${l}`, "float", [C, C, 3, 3]);
    feeds[w] = new Tensor("float32", Values(C * C * 9, 10 + l, 2 / Math.sqrt(C * 9)), [C, C, 3, 3]);
    weights.push(w);
    h = g.node("Conv", [h, w], ConvAttributes);
  }
  if (!backward) {
    g.addOutput(h, "y", "float", [N, C, S, S]);
  } else {
    const r = g.addInput("r", "float", [N, C, S, S]);
    feeds.r = new Tensor("float32", Values(N * C * S * S, 99, 2), [N, C, S, S]);
    const loss = g.node("ReduceSum", [g.node("Mul", [h, r])], { keepdims: { int: 0 } });
    const { gradients } = AddGradients(g, loss, weights, backward);
    g.addOutput(loss, "loss", "float", []);
    for (const w of weights) g.addOutput(gradients.get(w)!, `${w}_grad`, "float", [C, C, 3, 3]);
  }
  return { bytes: SerializeOnnxModel(g.build({ name: "conv_chain", producerName: "bench", producerVersion: "0" })), feeds };
}

/**
 * A chain of StyleGAN2 synthesis layers as the exporter writes them (styles from w by an affine, modulation on the
 * activations, 3×3 conv, demodulation from the squared weights, noise, bias, leaky ReLU × √2); with `backward`,
 * gradients wrt every weight, affine and bias. FLOPs are counted for the convs only (the rest is elementwise).
 */
function ModulatedChain(shape: ConvBenchShape, backward: AddGradientsOptions | null): Graph {
  const { batch: N, channels: C, size: S, layers } = shape;
  const g = new OnnxGraphBuilder();
  const feeds: Record<string, Tensor> = {};
  const input = (name: string, dims: number[], seed: number, scale: number): string => {
    feeds[name] = new Tensor("float32", Values(dims.reduce((a, b) => a * b, 1), seed, scale), dims);
    return g.addInput(name, "float", dims);
  };
  let h = input("x", [N, C, S, S], 1, 2);
  const w = input("w", [N, C], 2, 2);
  const noise = input("noise", [N, 1, S, S], 3, 2);
  const axes23 = g.constInt64([2, 3]);
  const params: string[] = [];
  for (let l = 0; l < layers; l++) {
    const weight = input(`w${l}`, [C, C, 3, 3], 10 + l, 2 / Math.sqrt(C * 9));
    const affine = input(`a${l}`, [C, C], 20 + l, 2 / Math.sqrt(C));
    const bias = input(`b${l}`, [1, C, 1, 1], 30 + l, 0.2);
    params.push(weight, affine, bias);
    const s = g.node("Add", [g.node("MatMul", [w, affine]), g.constFloat([1], [])]);
    const conv = g.node("Conv", [g.node("Mul", [h, g.node("Unsqueeze", [s, axes23])]), weight], ConvAttributes);
    const wsq = g.node("Transpose", [g.node("ReduceSum", [g.node("Mul", [weight, weight]), axes23], { keepdims: { int: 0 } })], { perm: { ints: [1, 0] } });
    const demod = g.node("Reciprocal", [g.node("Sqrt", [g.node("Add", [g.node("MatMul", [g.node("Mul", [s, s]), wsq]), g.constFloat([1e-8], [])])])]);
    let y = g.node("Add", [g.node("Mul", [conv, g.node("Unsqueeze", [demod, axes23])]), g.node("Mul", [noise, g.constFloat([0.1], [])])]);
    y = g.node("Add", [y, bias]);
    h = g.node("Mul", [g.node("LeakyRelu", [y], { alpha: { float: 0.2 } }), g.constFloat([Math.SQRT2], [])]);
  }
  if (!backward) g.addOutput(h, "y", "float", [N, C, S, S]);
  else {
    const r = input("r", [N, C, S, S], 99, 2);
    const loss = g.node("ReduceSum", [g.node("Mul", [h, r])], { keepdims: { int: 0 } });
    const { gradients } = AddGradients(g, loss, params, backward);
    g.addOutput(loss, "loss", "float", []);
    for (const p of params) g.addOutput(gradients.get(p)!, `${p}_grad`, "float", feeds[p].dims as number[]);
  }
  return { bytes: SerializeOnnxModel(PruneUnusedNodes(g.build({ name: "modulated_chain", producerName: "bench", producerVersion: "0" }))), feeds };
}

/** The input gradient of one layer alone: the rule's Conv with the flipped, transposed kernel, or ConvTranspose. */
function InputGradient(shape: ConvBenchShape, form: "conv" | "convTranspose"): Graph {
  const { batch: N, channels: C, size: S } = shape;
  const g = new OnnxGraphBuilder();
  const dy = g.addInput("dy", "float", [N, C, S, S]);
  const w = g.addInput("w", "float", [C, C, 3, 3]);
  let dx: string;
  if (form === "convTranspose") dx = g.node("ConvTranspose", [dy, w], ConvAttributes);
  else {
    const flipped = g.node("Slice", [w, g.constInt64([-1, -1]), g.constInt64([-4, -4]), g.constInt64([2, 3]), g.constInt64([-1, -1])]);
    dx = g.node("Conv", [dy, g.node("Transpose", [flipped], { perm: { ints: [1, 0, 2, 3] } })], ConvAttributes);
  }
  g.addOutput(dx, "dx", "float", [N, C, S, S]);
  const feeds = {
    dy: new Tensor("float32", Values(N * C * S * S, 3, 2), [N, C, S, S]),
    w: new Tensor("float32", Values(C * C * 9, 4, 0.1), [C, C, 3, 3]),
  };
  return { bytes: SerializeOnnxModel(g.build({ name: "input_grad", producerName: "bench", producerVersion: "0" })), feeds };
}

/** The weight gradient of one layer alone (the forward conv and the loss, dead code here, are pruned). */
function WeightGradient(shape: ConvBenchShape, options: AddGradientsOptions): Graph {
  const { batch: N, channels: C, size: S } = shape;
  const g = new OnnxGraphBuilder();
  const x = g.addInput("x", "float", [N, C, S, S]);
  const dy = g.addInput("dy", "float", [N, C, S, S]);
  const w = g.addInput("w", "float", [C, C, 3, 3]);
  const loss = g.node("ReduceSum", [g.node("Mul", [g.node("Conv", [x, w], ConvAttributes), dy])], { keepdims: { int: 0 } });
  const { gradients } = AddGradients(g, loss, [w], options);
  g.addOutput(gradients.get(w)!, "dw", "float", [C, C, 3, 3]);
  const feeds = {
    x: new Tensor("float32", Values(N * C * S * S, 5, 2), [N, C, S, S]),
    dy: new Tensor("float32", Values(N * C * S * S, 6, 2), [N, C, S, S]),
    w: new Tensor("float32", Values(C * C * 9, 7, 0.1), [C, C, 3, 3]),
  };
  return { bytes: SerializeOnnxModel(PruneUnusedNodes(g.build({ name: "weight_grad", producerName: "bench", producerVersion: "0" }))), feeds };
}

/** Median wall milliseconds per run, and the process CPU milliseconds per run (all ORT threads; robust to a shared machine). */
async function TimeAsync(graph: Graph, threads: number, minMs: number, provider: BenchProvider, minRuns = 5): Promise<{ ms: number; cpuMs: number }> {
  const session = await InferenceSession.create(graph.bytes, { graphOptimizationLevel: "all", intraOpNumThreads: threads, interOpNumThreads: 1, executionProviders: [provider] });
  await session.run(graph.feeds); // warm-up, outside the CPU time
  const cpu0 = process.cpuUsage();
  let runs = 0;
  const ms = await MedianMsAsync(() => (runs++, session.run(graph.feeds)), { warmup: 0, minRuns, minMs });
  const cpu = process.cpuUsage(cpu0);
  await session.release();
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000 / runs };
}

/**
 * onnxruntime's conv peak on this machine: GFLOP/s of the chained forward 3×3 convs (64 channels, 32×32, batch 8,
 * 2 threads), the yardstick the training engine's achieved GFLOP/s is compared with.
 */
export async function MeasureConvPeakAsync(minMs = 2000): Promise<number> {
  const t = await TimeAsync(ConvChain(DefaultConvBenchShape, null), 2, minMs, "cpu");
  return (DefaultConvBenchShape.layers * ConvLayerFlops(DefaultConvBenchShape)) / (t.ms * 1e6);
}

/** onnxruntime-node execution provider of a measurement. */
export type BenchProvider = "cpu" | "webgpu";

/** One measured row: milliseconds per run, GFLOP/s (wall) and GFLOP per CPU-second. */
export interface AutodiffBenchRow {
  readonly label: string;
  readonly ms: number;
  readonly gflops: number;
  readonly gflopPerCpuSecond: number;
}

/**
 * Measures forward and forward + backward GFLOP/s of the 3×3 conv layer and the gradient-form alternatives.
 * Backward FLOPs: input gradient (all layers but the first) and weight gradient, each the forward's count.
 */
export async function MeasureAutodiffConvAsync(shape: ConvBenchShape = DefaultConvBenchShape, threads = 2, minMs = 1500, provider: BenchProvider = "cpu"): Promise<AutodiffBenchRow[]> {
  const layer = ConvLayerFlops(shape);
  const L = shape.layers;
  const rows: AutodiffBenchRow[] = [];
  const add = (label: string, t: { ms: number; cpuMs: number }, flops: number) =>
    rows.push({ label, ms: t.ms, gflops: flops / (t.ms * 1e6), gflopPerCpuSecond: flops / (t.cpuMs * 1e6) });
  add(`forward (${L} layers)`, await TimeAsync(ConvChain(shape, null), threads, minMs, provider), L * layer);
  const backwardFlops = L * layer + (L - 1) * layer + L * layer;
  add(`forward + backward, weight grad slices+Gemm (${L} layers)`, await TimeAsync(ConvChain(shape, { convWeightGradient: "slices" }), threads, minMs, provider), backwardFlops);
  add(`forward + backward, weight grad one Gemm per tap (${L} layers)`, await TimeAsync(ConvChain(shape, { convWeightGradient: "tapGemms" }), threads, minMs, provider), backwardFlops);
  add(`forward + backward, weight grad as Conv (${L} layers)`, await TimeAsync(ConvChain(shape, { convWeightGradient: "conv" }), threads, minMs, provider), backwardFlops);
  add(`modulated layers forward (${L} layers, conv FLOPs)`, await TimeAsync(ModulatedChain(shape, null), threads, minMs, provider), L * layer);
  add(`modulated layers forward + backward (${L} layers, default options)`, await TimeAsync(ModulatedChain(shape, {}), threads, minMs, provider), backwardFlops);
  {
    const one = { ...shape, layers: 1 };
    add("1 layer: input grad, Conv with flipped kernel", await TimeAsync(InputGradient(one, "conv"), threads, minMs, provider), layer);
    add("1 layer: input grad, ConvTranspose", await TimeAsync(InputGradient(one, "convTranspose"), threads, minMs, provider), layer);
    add("1 layer: weight grad slices+Gemm", await TimeAsync(WeightGradient(one, { convWeightGradient: "slices" }), threads, minMs, provider), layer);
    add("1 layer: weight grad one Gemm per tap", await TimeAsync(WeightGradient(one, { convWeightGradient: "tapGemms" }), threads, minMs, provider), layer);
    add("1 layer: weight grad as Conv", await TimeAsync(WeightGradient(one, { convWeightGradient: "conv" }), threads, minMs, provider), layer);
  }
  return rows;
}

/**
 * `npm run bench -- autodiff`: printable lines. CPU, then the forward and forward + backward on the bundled WebGPU
 * provider when an adapter is found (here: Chromium's SwiftShader, a software GPU, ~0.3 GFLOP/s: one run each after a
 * warm-up, ~1.5 min; inputs are copied from the CPU every run and included in the time).
 */
export async function RunAutodiffBenchAsync(): Promise<string[]> {
  const shape = DefaultConvBenchShape;
  const threads = 2;
  const rows = await MeasureAutodiffConvAsync(shape, threads);
  const lines = [
    `ONNX autodiff, 3x3 conv ${shape.channels}->${shape.channels} ch, ${shape.size}x${shape.size}, batch ${shape.batch}, onnxruntime-node CPU, ${threads} threads, optimisation "all"`,
    ...FormatTable([["graph", "ms/run", "GFLOP/s", "GFLOP/CPU-s"], ...rows.map((r) => [r.label, r.ms, r.gflops, r.gflopPerCpuSecond])]),
  ];
  if (!process.env.VK_ICD_FILENAMES && existsSync(SwiftShaderIcd)) process.env.VK_ICD_FILENAMES = SwiftShaderIcd;
  process.env.XDG_RUNTIME_DIR ??= "/tmp";
  try {
    const gpu = await MeasureWebGpuAsync(shape);
    lines.push(`WebGPU provider (VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? "unset"}):`, ...FormatTable([["graph", "ms/run", "GFLOP/s"], ...gpu.map((r) => [r.label, r.ms, r.gflops])]));
  } catch (error) {
    lines.push(`WebGPU provider: no adapter (${(error as Error).message.split("\n")[0].slice(-120)})`);
  }
  return lines;
}

const SwiftShaderIcd = "/usr/lib/chromium/vk_swiftshader_icd.json";

/** Forward and forward + backward of the conv chain on the WebGPU provider (throws when no adapter is found). */
export async function MeasureWebGpuAsync(shape: ConvBenchShape = DefaultConvBenchShape, minMs = 0, minRuns = 1): Promise<AutodiffBenchRow[]> {
  const layer = ConvLayerFlops(shape);
  const L = shape.layers;
  const rows: AutodiffBenchRow[] = [];
  const forward = await TimeAsync(ConvChain(shape, null), 1, minMs, "webgpu", minRuns);
  rows.push({ label: `forward (${L} layers)`, ms: forward.ms, gflops: (L * layer) / (forward.ms * 1e6), gflopPerCpuSecond: NaN });
  const both = await TimeAsync(ConvChain(shape, {}), 1, minMs, "webgpu", minRuns);
  const flops = (3 * L - 1) * layer;
  rows.push({ label: `forward + backward (${L} layers)`, ms: both.ms, gflops: flops / (both.ms * 1e6), gflopPerCpuSecond: NaN });
  return rows;
}
