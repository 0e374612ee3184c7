/**
 * The generator and the discriminator as ONNX graph pieces for training on onnxruntime, built from the same
 * description as the tfjs networks and the exporter ({@link GeneratorParameterSpecs}, {@link SynthesisLayers},
 * {@link DiscriminatorParameterSpecs}) and computing the same math as ../networks (NCHW here, NHWC there).
 *
 * Parameters are graph INPUTS holding the stored (un-gained) values, conv weights in ONNX's OIHW layout
 * (./parameterLayout.ts): the graph multiplies by the gain itself, so the gradients it returns are those of the
 * stored values — the numbers the tfjs engine's optimiser sees, up to the layout.
 */
import { type GeneratorConfig, type ParameterSpec, ChannelsAt, GeneratorParameterSpecs, NumWs, SynthesisLayers } from "../networks/architecture.js";
import { DiscriminatorCmapDim, DiscriminatorLabelHead, DiscriminatorParameterSpecs, type DiscriminatorConvDown, type DiscriminatorSpecOptions } from "../networks/discriminatorArchitecture.js";
import { ActivationGain, LeakyReluSlope, NormalizeEpsilon } from "../networks/generatorNetwork.js";
import { DemodulationEpsilon } from "../networks/modulatedConv2d.js";
import { MinibatchStdGroup } from "../networks/discriminatorNetwork.js";
import type { OnnxGraphBuilder } from "../export/onnxGraphBuilder.js";
import { OnnxParameterShape } from "./parameterLayout.js";

/** Parameters of one network declared as graph inputs (ONNX layout: ./parameterLayout.ts), with their effective (gained) values on demand. */
export class GraphParameters {
  private readonly specs = new Map<string, ParameterSpec>();
  private readonly effective = new Map<string, string>();

  /** Declares every spec as a float input named after the parameter. */
  constructor(private readonly g: OnnxGraphBuilder, specs: readonly ParameterSpec[]) {
    for (const spec of specs) {
      g.addInput(spec.name, "float", OnnxParameterShape(spec));
      this.specs.set(spec.name, spec);
    }
  }

  /** Names of the trainable parameters (the inputs gradients are taken with respect to), in spec order. */
  get trainable(): string[] {
    return [...this.specs.values()].filter((s) => s.trainable).map((s) => s.name);
  }

  /**
   * Stored value x gain (conv weights: OIHW), times `scale`: a constant factor of the layer's input folded into its
   * weight (a Mul on the weight instead of on the activations; see the activation gains below).
   */
  param(name: string, scale = 1): string {
    const spec = this.specs.get(name);
    if (!spec) throw new Error(`training graph: no parameter "${name}"`);
    const key = `${name}|${scale}`;
    let t = this.effective.get(key);
    if (!t) {
      const factor = spec.gain * scale;
      t = factor === 1 ? name : this.g.node("Mul", [name, this.g.constFloat([factor], [])]);
      this.effective.set(key, t);
    }
    return t;
  }

  /** The parameter's gain, for layers that apply it to a tensor smaller than the parameter (the input is `name` itself). */
  gain(name: string): number {
    const spec = this.specs.get(name);
    if (!spec) throw new Error(`training graph: no parameter "${name}"`);
    return spec.gain;
  }
}

/** Small helpers shared by both networks. */
class Ops {
  constructor(readonly g: OnnxGraphBuilder) {}

  /** The leaky ReLU without its gain (callers fold ActivationGain into the next layer's weights or styles). */
  leakyRelu(x: string): string {
    return this.g.node("LeakyRelu", [x], { alpha: { float: LeakyReluSlope } });
  }

  /** The leaky ReLU with its gain: lrelu(x)·√2. */
  lrelu(x: string): string {
    return this.g.node("Mul", [this.leakyRelu(x), this.g.constFloat([ActivationGain], [])]);
  }

  /**
   * x·W·(gain·inputScale) + b; `inputScale` is a constant factor of x. The factor scales the product ([n, out])
   * rather than the weight ([in, out], e.g. 8192×512 in D): a smaller Mul forward and backward.
   */
  fc(x: string, p: GraphParameters, name: string, inputScale = 1): string {
    const weight = `${name}.weight`;
    const factor = p.gain(weight) * inputScale;
    const product = this.g.node("MatMul", [x, weight]);
    const scaled = factor === 1 ? product : this.g.node("Mul", [product, this.g.constFloat([factor], [])]);
    return this.g.node("Add", [scaled, p.param(`${name}.bias`)]);
  }

  /** x * rsqrt(mean(x^2 over axis 1) + 1e-8). */
  normalize(x: string): string {
    const g = this.g;
    const meanSq = g.node("ReduceMean", [g.node("Mul", [x, x])], { axes: { ints: [1] }, keepdims: { int: 1 } });
    return g.node("Mul", [x, g.node("Reciprocal", [g.node("Sqrt", [g.node("Add", [meanSq, g.constFloat([NormalizeEpsilon], [])])])])]);
  }

  /** [C] -> [1, C, 1, 1], for per-channel biases and scales of NCHW maps. */
  channels(x: string): string {
    return this.g.node("Reshape", [x, this.g.constInt64([1, -1, 1, 1])]);
  }

  /** [N, C] -> [N, C, 1, 1]. */
  perSampleChannels(x: string): string {
    return this.g.node("Unsqueeze", [x, this.g.constInt64([2, 3])]);
  }

  /**
   * Up2x of ../networks/filteredResampling.ts (bilinear, half-pixel centres: the [1,3,3,1] filter with edge clamping)
   * as a MatMul per axis with a constant [size, 2·size] matrix: its gradient is again two MatMuls. Measured forward +
   * backward at batch 8 against `Resize` and its per-channel-conv gradient: 13.4 vs 14.2 ms at 32 channels 64×64,
   * 4.4 vs 7.3 ms at 64 channels 32×32.
   */
  up2x(x: string, size: number): string {
    return this.separable(x, UpMatrix(size), 2 * size, size);
  }

  /**
   * Down2x: the [1,3,3,1]/8 filter with edge clamping at stride 2, as a MatMul per axis with a constant [size, size/2]
   * matrix. Measured forward + backward at batch 8 against edge padding and a per-channel 4×4 stride-2 Conv (whose
   * gradient needs zero insertion): 12.7 vs 50.3 ms at 32 channels 64×64, 1.9 vs 16.9 ms at 128 channels 16×16.
   */
  down2x(x: string, size: number): string {
    return this.separable(x, DownMatrix(size), size / 2, size);
  }

  /** The zero-padded [1,3,3,1] blur, size -> size + 1, as a MatMul per axis. */
  blur(x: string, size: number): string {
    return this.separable(x, BlurMatrix(size), size + 1, size);
  }

  /** x [.., size, size] -> M·x·Mᵀ [.., rows, rows] for a constant row-major [rows, size] matrix M. */
  private separable(x: string, m: Float64Array, rows: number, size: number): string {
    const g = this.g;
    const alongW = g.node("MatMul", [x, g.constFloat(Array.from(Transposed(m, rows, size)), [size, rows])]);
    return g.node("MatMul", [g.constFloat(Array.from(m), [rows, size]), alongW]);
  }
}

/**
 * The blur before a stride-2 conv (BlurZeroPadded of ../networks/discriminatorNetwork.ts) along one axis as a
 * [size + 1, size] matrix: y[j] = (x[j-2] + 3x[j-1] + 3x[j] + x[j+1]) / 8, zero outside.
 */
function BlurMatrix(size: number): Float64Array {
  const m = new Float64Array((size + 1) * size);
  [1, 3, 3, 1].forEach((tap, t) => {
    for (let j = 0; j <= size; j++) {
      const i = j + t - 2;
      if (i >= 0 && i < size) m[j * size + i] += tap / 8;
    }
  });
  return m;
}

/** Down2x along one axis of length `size` as a [size/2, size] matrix: y[i] = (x[2i-1] + 3x[2i] + 3x[2i+1] + x[2i+2]) / 8, clamped. */
function DownMatrix(size: number): Float64Array {
  const half = size / 2;
  const m = new Float64Array(half * size);
  [1, 3, 3, 1].forEach((tap, j) => {
    for (let i = 0; i < half; i++) m[i * size + Math.min(size - 1, Math.max(0, 2 * i - 1 + j))] += tap / 8;
  });
  return m;
}

/** Up2x along one axis of length `size` as a [2·size, size] matrix: 2 × DownMatrix(2·size)ᵀ (the adjoint relation of filteredResampling.ts). */
function UpMatrix(size: number): Float64Array {
  return Transposed(DownMatrix(2 * size), size, 2 * size).map((v) => 2 * v);
}

/** The transpose of a row-major [rows, cols] matrix. */
function Transposed(m: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = m[r * cols + c];
  return t;
}

/** Graph inputs of the generator's latent side (one minibatch). */
export interface LatentInputs {
  /** [n, zDim] */
  readonly z: string;
  /** [n, zDim] */
  readonly zMix: string;
  /** [n, numWs]: 1 where a layer takes zMix's w */
  readonly mix: string;
  /** [n, labelDim] (conditional models) */
  readonly label?: string;
}

/** The generator's training forward pass on a graph (no truncation, noise strength 1, as the tfjs training step). */
export class GeneratorGraph {
  readonly params: GraphParameters;
  private readonly ops: Ops;

  constructor(private readonly g: OnnxGraphBuilder, readonly config: GeneratorConfig) {
    this.params = new GraphParameters(g, GeneratorParameterSpecs(config));
    this.ops = new Ops(g);
  }

  /** Declares the latent inputs for a batch of n (names prefixed with `prefix`). */
  addLatentInputs(n: number, prefix = ""): LatentInputs {
    const { zDim, labelDim } = this.config;
    const g = this.g;
    return {
      z: g.addInput(`${prefix}z`, "float", [n, zDim]),
      zMix: g.addInput(`${prefix}z_mix`, "float", [n, zDim]),
      mix: g.addInput(`${prefix}mix`, "float", [n, NumWs(this.config)]),
      ...(labelDim > 0 ? { label: g.addInput(`${prefix}label`, "float", [n, labelDim]) } : {}),
    };
  }

  /** Declares one noise input [n, 1, r, r] per conv layer (the tfjs engine's [n, r, r, 1] draws have the same memory order). */
  addNoiseInputs(n: number, prefix = ""): string[] {
    return SynthesisLayers(this.config)
      .filter((l) => l.kind === "conv")
      .map((l) => this.g.addInput(`${prefix}noise${l.noiseIndex}`, "float", [n, 1, l.resolution, l.resolution]));
  }

  /** Mapping of both latents in one pass and style mixing: ws [n, numWs, wDim] and w [n, wDim] (the own latent's). */
  ws(latents: LatentInputs, n: number): { ws: string; w: string } {
    const g = this.g;
    const { wDim, labelDim } = this.config;
    let x = this.ops.normalize(g.node("Concat", [latents.z, latents.zMix], { axis: { int: 0 } }));
    if (labelDim > 0) {
      if (!latents.label) throw new Error("training graph: the generator is conditional, a label input is required");
      const labels2 = g.node("Concat", [latents.label, latents.label], { axis: { int: 0 } });
      x = g.node("Concat", [x, this.ops.normalize(this.ops.fc(labels2, this.params, "mapping.embed"))], { axis: { int: 1 } });
    }
    for (let i = 0; i < this.config.mappingLayers; i++) x = this.ops.lrelu(this.ops.fc(x, this.params, `mapping.fc${i}`));
    const both = g.node("Reshape", [x, g.constInt64([2, n, wDim])]);
    const w = g.node("Gather", [both, g.constInt64([0], [])], { axis: { int: 0 } });
    const wMix = g.node("Gather", [both, g.constInt64([1], [])], { axis: { int: 0 } });
    const m = g.node("Unsqueeze", [latents.mix, g.constInt64([2])]);
    const axis1 = g.constInt64([1]);
    const ws = g.node("Add", [
      g.node("Mul", [g.node("Unsqueeze", [w, axis1]), g.node("Sub", [g.constFloat([1], []), m])]),
      g.node("Mul", [g.node("Unsqueeze", [wMix, axis1]), m]),
    ]);
    return { ws, w };
  }

  /** Synthesis: ws [n, numWs, wDim] and noise maps -> image [n, 3, R, R] in about [-1, 1]. */
  synthesis(ws: string, noise: readonly string[], n: number): string {
    const g = this.g;
    const p = this.params;
    const c4 = ChannelsAt(this.config, 4);
    const constant = g.node("Transpose", [p.param("synthesis.b4.const")], { perm: { ints: [2, 0, 1] } });
    let x = g.node("Expand", [g.node("Unsqueeze", [constant, g.constInt64([0])]), g.constInt64([n, c4, 4, 4])]);
    // The activations x between layers are lrelu(y) WITHOUT the √2 gain: the modulation folds it into the styles
    // (x·√2·s = x·(√2·s), per sample and channel instead of per pixel); the demodulation still uses s.
    let xGain = 1;
    let image = "";
    for (const layer of SynthesisLayers(this.config)) {
      const wl = g.node("Gather", [ws, g.constInt64([layer.wIndex], [])], { axis: { int: 1 } });
      const styles = this.ops.fc(wl, p, `${layer.name}.affine`);
      const weight = `${layer.name}.weight`;
      if (layer.kind === "torgb") {
        const modulation = xGain === 1 ? styles : g.node("Mul", [styles, g.constFloat([xGain], [])]);
        const h = g.node("Mul", [x, this.ops.perSampleChannels(modulation)]);
        const rgb = g.node("Add", [g.node("Conv", [h, p.param(weight)], { kernel_shape: { ints: [1, 1] } }), this.ops.channels(p.param(`${layer.name}.bias`))]);
        image = image ? g.node("Add", [this.ops.up2x(image, layer.resolution / 2), rgb]) : rgb;
        continue;
      }
      // The weight's gain scales the styles ([n, in]) instead of the weight ([out, in, 3, 3]): the same products in the
      // conv and in the demodulation, without weight-sized Muls forward and backward.
      const gain = p.gain(weight);
      let h = g.node("Mul", [x, this.ops.perSampleChannels(g.node("Mul", [styles, g.constFloat([gain * xGain], [])]))]);
      if (layer.up) h = this.ops.up2x(h, layer.resolution / 2);
      let y = g.node("Conv", [h, weight], { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } });
      // Demodulation from the weights: d[n, o] = rsqrt(sum_i (gain·s[n, i])^2 * sum_taps W[o, i, ., .]^2 + eps).
      const wsq = g.node("ReduceSumSquare", [weight], { axes: { ints: [2, 3] }, keepdims: { int: 0 } }); // [out, in]
      const gained = g.node("Mul", [styles, g.constFloat([gain], [])]);
      const sumSq = g.node("Gemm", [g.node("Mul", [gained, gained]), wsq], { transB: { int: 1 } });
      const demod = g.node("Reciprocal", [g.node("Sqrt", [g.node("Add", [sumSq, g.constFloat([DemodulationEpsilon], [])])])]);
      y = g.node("Mul", [y, this.ops.perSampleChannels(demod)]);
      y = g.node("Add", [y, g.node("Mul", [noise[layer.noiseIndex], p.param(`${layer.name}.noise_strength`)])]);
      y = g.node("Add", [y, this.ops.channels(p.param(`${layer.name}.bias`))]);
      x = this.ops.leakyRelu(y);
      xGain = ActivationGain;
    }
    return image;
  }
}

/** The residual discriminator's forward pass on a graph (../networks/discriminatorNetwork.ts, no progressive growing). */
export class DiscriminatorGraph {
  readonly params: GraphParameters;
  private readonly ops: Ops;
  private readonly convDown: DiscriminatorConvDown;
  private readonly mappingLayers: number;
  private readonly labelHead: boolean;

  constructor(private readonly g: OnnxGraphBuilder, readonly config: GeneratorConfig, options: DiscriminatorSpecOptions = {}) {
    if (options.progressive) throw new Error("the onnxruntime training engine does not support progressive growing (use --engine tfjs)");
    this.params = new GraphParameters(g, DiscriminatorParameterSpecs(config, options));
    this.ops = new Ops(g);
    this.convDown = options.convDown ?? "filterFirst";
    this.mappingLayers = options.mappingLayers ?? 0;
    this.labelHead = (options.labelHead ?? false) && config.labelDim > 0;
  }

  /** conv(x·inputScale, W) + b, with the constant inputScale folded into W; `stride` 2 = valid, else same padding. */
  private conv(x: string, name: string, k: number, options: { bias?: boolean; inputScale?: number; stride?: number } = {}): string {
    const p = this.params;
    const pad = options.stride === 2 ? 0 : (k - 1) / 2;
    const attributes = { kernel_shape: { ints: [k, k] }, pads: { ints: [pad, pad, pad, pad] }, ...(options.stride === 2 ? { strides: { ints: [2, 2] } } : {}) };
    const y = this.g.node("Conv", [x, p.param(`${name}.weight`, options.inputScale)], attributes);
    return options.bias ?? true ? this.g.node("Add", [y, this.ops.channels(p.param(`${name}.bias`))]) : y;
  }

  /** conv1 of a block at resolution r: 3x3, halving the resolution as `convDown` says. */
  private convDownsample(x: string, name: string, r: number, inputScale: number): string {
    if (this.convDown === "filterFirst") return this.conv(this.ops.down2x(x, r), name, 3, { inputScale });
    return this.conv(this.ops.blur(x, r), name, 3, { inputScale, stride: 2 });
  }

  /**
   * The epilogue's conv over c4 + 1 channels (features and the minibatch std), with both the input and the weight
   * padded by zero channels to a multiple of 4: exact, and onnxruntime-node 1.30's WebGPU Conv computes wrong values
   * for input channel counts such as 33 (measured on SwiftShader: relative error ~1 against the CPU provider).
   */
  private epilogueConv(x: string, n: number, cin: number): string {
    const g = this.g;
    const name = "discriminator.b4.conv";
    const extra = (4 - (cin % 4)) % 4;
    if (extra === 0) return this.conv(x, name, 3);
    // (Conv's input gradient here is a ConvTranspose with 516 output channels, which the WebGPU test covers.)
    const padded = g.node("Concat", [x, g.constFloat(new Array<number>(n * extra * 16).fill(0), [n, extra, 4, 4])], { axis: { int: 1 } });
    const weight = g.node("Pad", [this.params.param(`${name}.weight`), g.constInt64([0, 0, 0, 0, 0, extra, 0, 0])]);
    const y = g.node("Conv", [padded, weight], { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } });
    return g.node("Add", [y, this.ops.channels(this.params.param(`${name}.bias`))]);
  }

  /**
   * Minibatch standard deviation (one channel, group of up to 4 samples i, i + n/G, ... of the same pass), appended
   * as the last channel; x holds `passes` batches of n one after the other.
   */
  private minibatchStd(x: string, n: number, passes: number, c: number, size: number): string {
    const g = this.g;
    const groups = MinibatchStdGroup(n);
    const y = g.node("Reshape", [x, g.constInt64([passes, groups, n / groups, c * size * size])]);
    const centred = g.node("Sub", [y, g.node("ReduceMean", [y], { axes: { ints: [1] }, keepdims: { int: 1 } })]);
    const variance = g.node("ReduceMean", [g.node("Mul", [centred, centred])], { axes: { ints: [1] }, keepdims: { int: 0 } });
    const std = g.node("Sqrt", [g.node("Add", [variance, g.constFloat([1e-8], [])])]);
    const perGroup = g.node("ReduceMean", [std], { axes: { ints: [2] }, keepdims: { int: 1 } }); // [passes, n/G, 1]
    const tiled = g.node("Tile", [g.node("Reshape", [perGroup, g.constInt64([passes, 1, n / groups])]), g.constInt64([1, groups, 1])]);
    const perSample = g.node("Reshape", [tiled, g.constInt64([passes * n, 1, 1, 1])]);
    return g.node("Concat", [x, g.node("Expand", [perSample, g.constInt64([passes * n, 1, size, size])])], { axis: { int: 1 } });
  }

  /**
   * Scores images [n, 3, R, R] -> logits [n, 1]; `label` [n, labelDim] for conditional models; `passes` batches of n
   * at once (images [passes·n, 3, R, R], one minibatch std per batch: Dmain scores fakes and reals together, so
   * that each weight is read and each weight gradient summed once). The activations'
   * √2 gains are folded into the weights of the layers that read them, and the residual sum's √½ into the skip's
   * and (with the √2 of its leaky ReLU, giving 1) the main path's: (skip + lrelu(h)·√2)·√½ = skip·√½ + lrelu(h).
   */
  scores(images: string, n: number, label?: string, passes = 1): string {
    return this.scoresAndLabels(images, n, label, passes).scores;
  }

  /**
   * {@link scores}, and with the label head (`labelHead`) its logits `labels` [passes·n, labelDim], one per label
   * column, from the same last hidden layer.
   */
  scoresAndLabels(images: string, n: number, label?: string, passes = 1): { scores: string; labels?: string } {
    const g = this.g;
    const R = this.config.resolution;
    let x = this.ops.leakyRelu(this.conv(images, `discriminator.b${R}.fromrgb`, 1));
    let xGain = ActivationGain; // the value the layers mean is x·xGain
    for (let r = R; r > 4; r /= 2) {
      const name = `discriminator.b${r}`;
      const skip = this.conv(this.ops.down2x(x, r), `${name}.skip`, 1, { bias: false, inputScale: xGain * Math.SQRT1_2 });
      const h = this.ops.leakyRelu(this.conv(x, `${name}.conv0`, 3, { inputScale: xGain }));
      const main = this.ops.leakyRelu(this.convDownsample(h, `${name}.conv1`, r, ActivationGain));
      x = g.node("Add", [skip, main]);
      xGain = 1;
    }
    const c4 = ChannelsAt(this.config, 4);
    if (xGain !== 1) x = g.node("Mul", [x, g.constFloat([xGain], [])]); // the minibatch std needs the true values
    x = this.ops.leakyRelu(this.epilogueConv(this.minibatchStd(x, n, passes, c4, 4), passes * n, c4 + 1));
    // Flatten in the tfjs layout's order (HWC), which the fc weight's rows follow.
    const flat = g.node("Reshape", [g.node("Transpose", [x], { perm: { ints: [0, 2, 3, 1] } }), g.constInt64([passes * n, 16 * c4])]);
    const hidden = this.ops.leakyRelu(this.ops.fc(flat, this.params, "discriminator.b4.fc", ActivationGain));
    const h = this.ops.fc(hidden, this.params, "discriminator.b4.out", ActivationGain);
    const cmapDim = DiscriminatorCmapDim(this.config);
    if (cmapDim === 0) return { scores: h };
    if (!label) throw new Error("training graph: the discriminator is conditional, a label input is required");
    let cmap = this.ops.normalize(this.ops.fc(label, this.params, "discriminator.mapping.embed"));
    for (let i = 0; i < this.mappingLayers; i++) cmap = this.ops.lrelu(this.ops.fc(cmap, this.params, `discriminator.mapping.fc${i}`));
    const projected = g.node("ReduceSum", [g.node("Mul", [h, cmap]), g.constInt64([1])], { keepdims: { int: 1 } });
    const scores = g.node("Mul", [projected, g.constFloat([1 / Math.sqrt(cmapDim)], [])]);
    return this.labelHead ? { scores, labels: this.ops.fc(hidden, this.params, DiscriminatorLabelHead, ActivationGain) } : { scores };
  }
}
