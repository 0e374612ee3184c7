/**
 * The StyleGAN2 residual discriminator in tfjs, built from {@link DiscriminatorParameterSpecs}: filtered
 * down-sampling ({@link Down2x}), minibatch standard deviation, projection conditioning. Every conv goes through
 * {@link Conv2dSame}, so it trains (and is differentiated twice for R1) on every backend.
 */
import { FillStandardNormal, SeedStream } from "@npc-faces/runtime";
import { tf } from "../backends/tfjsBackend.js";
import { type GeneratorConfig, type ParameterSpec } from "./architecture.js";
import { Conv2dSame } from "./conv2dSame.js";
import { DiscriminatorCmapDim, DiscriminatorParameterSpecs, MinibatchStdGroupSize, type DiscriminatorConvDown, type DiscriminatorSpecOptions } from "./discriminatorArchitecture.js";
import { Down2x } from "./filteredResampling.js";
import { LeakyReluAnyOrder } from "./leakyRelu.js";
import { MatMul } from "./matMul.js";
import { ActivationGain, LeakyReluSlope, NormalizeEpsilon } from "./generatorNetwork.js";

/** Stored discriminator parameters by name (raw values, before `gain`). */
export type DiscriminatorWeights = Map<string, Float32Array>;

/** Offset of the discriminator's parameter-init streams (`SeedStream.ParameterInit(offset + index)`), clear of the generator's. */
export const DiscriminatorInitStreamOffset = 0x8000;

/** Deterministic initial weights (as the generator's: seeded standard normals x scale, or constants). */
export function InitializeDiscriminatorWeights(config: GeneratorConfig, seed: number, options: DiscriminatorSpecOptions = {}): DiscriminatorWeights {
  const weights: DiscriminatorWeights = new Map();
  DiscriminatorParameterSpecs(config, options).forEach((spec, index) => {
    const values = new Float32Array(spec.shape.reduce((a, b) => a * b, 1));
    if (spec.init.kind === "normal") {
      FillStandardNormal(seed, SeedStream.ParameterInit(DiscriminatorInitStreamOffset + index), values);
      if (spec.init.scale !== 1) for (let i = 0; i < values.length; i++) values[i] *= spec.init.scale;
    } else {
      values.fill(spec.init.value);
    }
    weights.set(spec.name, values);
  });
  return weights;
}

function Lrelu<T extends tf.Tensor>(x: T): T {
  return LeakyReluAnyOrder(x, LeakyReluSlope, ActivationGain); // R1 differentiates D twice
}

/** Largest group size <= {@link MinibatchStdGroupSize} that divides the batch. */
export function MinibatchStdGroup(n: number): number {
  for (let g = Math.min(MinibatchStdGroupSize, n); g > 1; g--) if (n % g === 0) return g;
  return 1;
}

/**
 * Minibatch standard deviation (stylegan2-ada, one channel): sample i is grouped with i + k * N/G; the std over
 * each group, averaged over H, W, C, is appended as a constant channel. [N, H, W, C] -> [N, H, W, C + 1].
 */
export function MinibatchStd(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const g = MinibatchStdGroup(n);
    const y = tf.reshape(x, [g, n / g, h * w * c]);
    const centred = tf.sub(y, tf.mean(y, 0, true));
    const std = tf.sqrt(tf.add(tf.mean(tf.square(centred), 0), 1e-8)); // [n/g, hwc]
    const perGroup = tf.mean(std, 1); // [n/g]
    const perSample = tf.reshape(tf.tile(tf.reshape(perGroup, [1, n / g]), [g, 1]), [n, 1, 1, 1]);
    return tf.concat([x, tf.tile(perSample, [1, h, w, 1])], 3) as tf.Tensor4D;
  });
}

/** The discriminator as tfjs variables (stored values; gains applied in the forward pass). */
export class DiscriminatorNetwork {
  readonly config: GeneratorConfig;
  readonly specs: readonly ParameterSpec[];
  readonly variables: ReadonlyMap<string, tf.Variable>;
  private readonly gains = new Map<string, number>();
  private readonly progressive: boolean;
  private readonly convDown: DiscriminatorConvDown;
  private readonly mappingLayers: number;
  /**
   * False while D's weights are constants of the backward pass (the generator step): its convolutions then skip
   * their filter gradients (returned as zeros), ~1/13 of a training step's convolution work.
   */
  weightGradients = true;

  constructor(config: GeneratorConfig, weights: DiscriminatorWeights, options: DiscriminatorSpecOptions = {}) {
    this.config = config;
    this.progressive = options.progressive ?? false;
    this.convDown = options.convDown ?? "filterFirst";
    this.mappingLayers = options.mappingLayers ?? 0;
    this.specs = DiscriminatorParameterSpecs(config, options);
    CheckWeights(this.specs, weights);
    const variables = new Map<string, tf.Variable>();
    for (const spec of this.specs) {
      const initial = tf.tensor(weights.get(spec.name)!, spec.shape as number[], "float32");
      variables.set(spec.name, tf.variable(initial, spec.trainable));
      initial.dispose();
      this.gains.set(spec.name, spec.gain);
    }
    this.variables = variables;
  }

  /** Effective value of a parameter: stored x gain. */
  readonly param = (name: string): tf.Tensor => {
    const v = this.variables.get(name);
    if (!v) throw new Error(`discriminator has no parameter "${name}"`);
    const gain = this.gains.get(name)!;
    return gain === 1 ? v : tf.mul(v, gain);
  };

  private conv(x: tf.Tensor4D, name: string, bias = true): tf.Tensor4D {
    const y = Conv2dSame(x, this.param(`${name}.weight`) as tf.Tensor4D, { filterGradient: this.weightGradients });
    return bias ? (tf.add(y, this.param(`${name}.bias`)) as tf.Tensor4D) : y;
  }

  /** conv1 of a block: 3x3, halving the resolution as `convDown` says. */
  private convDownsample(x: tf.Tensor4D, name: string): tf.Tensor4D {
    if (this.convDown === "filterFirst") return this.conv(Down2x(x), name);
    // The stride-2 conv's outputs are the stride-1 "same" conv's at the odd positions of the blurred (r + 1) map.
    // tfjs has no strided conv with gradients of every order on wasm, so this computes all positions (4x the work:
    // the onnxruntime engine, which trains, runs the strided conv itself).
    const [n, r] = x.shape;
    const full = this.conv(BlurZeroPadded(x), name); // [n, r + 1, r + 1, cOut]
    const cOut = full.shape[3];
    const odd = tf.slice(full, [0, 1, 1, 0], [n, r, r, cOut]);
    const rows = tf.slice(tf.reshape(odd, [n * (r / 2), 2, r, cOut]), [0, 0, 0, 0], [n * (r / 2), 1, r, cOut]);
    const both = tf.slice(tf.reshape(rows, [n * (r / 2), r / 2, 2, cOut]), [0, 0, 0, 0], [n * (r / 2), r / 2, 1, cOut]);
    return tf.reshape(both, [n, r / 2, r / 2, cOut]);
  }

  private fc(x: tf.Tensor2D, name: string): tf.Tensor2D {
    return tf.add(MatMul(x, this.param(`${name}.weight`) as tf.Tensor2D), this.param(`${name}.bias`)) as tf.Tensor2D;
  }

  /**
   * Scores images NHWC [N, r, r, 3] in about [-1, 1] -> [N, 1] logits (real > fake). `label` [N, labelDim] is
   * required for conditional models. Progressive growing: `resolution` < config.resolution feeds the image at
   * that block, and `alpha` < 1 fades the new top block in (the rest comes from the down-sampled image).
   */
  forward(images: tf.Tensor4D, label?: tf.Tensor2D, progress?: { resolution: number; alpha: number }): tf.Tensor2D {
    return tf.tidy(() => {
      const top = progress?.resolution ?? this.config.resolution;
      const alpha = progress?.alpha ?? 1;
      if (images.shape[1] !== top || images.shape[2] !== top || images.shape[3] !== 3) {
        throw new Error(`discriminator: expected images [N, ${top}, ${top}, 3], got [${images.shape.join(", ")}]`);
      }
      if (top !== this.config.resolution && !this.progressive) throw new Error("discriminator: lower resolutions need a progressive discriminator");
      let x = Lrelu(this.conv(images, `discriminator.b${top}.fromrgb`));
      for (let r = top; r > 4; r /= 2) {
        const name = `discriminator.b${r}`;
        const skip = this.conv(Down2x(x), `${name}.skip`, false);
        const h = Lrelu(this.convDownsample(Lrelu(this.conv(x, `${name}.conv0`)), `${name}.conv1`));
        x = tf.mul(tf.add(skip, h), Math.SQRT1_2) as tf.Tensor4D;
        if (r === top && alpha < 1) {
          // Fade-in: blend with the previous top's path fed from the down-sampled image.
          const low = Lrelu(this.conv(Down2x(images), `discriminator.b${r / 2}.fromrgb`));
          x = tf.add(tf.mul(x, alpha), tf.mul(low, 1 - alpha)) as tf.Tensor4D;
        }
      }
      const n = images.shape[0];
      x = Lrelu(this.conv(MinibatchStd(x), "discriminator.b4.conv"));
      let h = Lrelu(this.fc(tf.reshape(x, [n, -1]) as tf.Tensor2D, "discriminator.b4.fc"));
      h = this.fc(h, "discriminator.b4.out");
      const cmapDim = DiscriminatorCmapDim(this.config);
      if (cmapDim === 0) return h;
      if (!label) throw new Error(`this discriminator is conditional: a label [N, ${this.config.labelDim}] is required`);
      let cmap = this.fc(label, "discriminator.mapping.embed");
      cmap = tf.mul(cmap, tf.rsqrt(tf.add(tf.mean(tf.square(cmap), 1, true), NormalizeEpsilon)));
      for (let i = 0; i < this.mappingLayers; i++) cmap = Lrelu(this.fc(cmap as tf.Tensor2D, `discriminator.mapping.fc${i}`));
      return tf.div(tf.sum(tf.mul(h, cmap), 1, true), Math.sqrt(cmapDim)) as tf.Tensor2D;
    });
  }

  /** Trainable variables in spec order. */
  trainableVariables(): tf.Variable[] {
    return this.specs.filter((s) => s.trainable).map((s) => this.variables.get(s.name)!);
  }

  /** Reads the stored (un-gained) values back. */
  getWeights(): DiscriminatorWeights {
    const out: DiscriminatorWeights = new Map();
    for (const spec of this.specs) out.set(spec.name, Float32Array.from(this.variables.get(spec.name)!.dataSync() as Float32Array));
    return out;
  }

  /** Replaces the stored values. */
  setWeights(weights: DiscriminatorWeights): void {
    CheckWeights(this.specs, weights);
    for (const spec of this.specs) tf.tidy(() => this.variables.get(spec.name)!.assign(tf.tensor(weights.get(spec.name)!, spec.shape as number[], "float32")));
  }

  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
  }
}

/**
 * stylegan2-ada's blur before a stride-2 conv: the [1,3,3,1]/8 filter per axis over the map padded with 2 zeros,
 * [N, r, r, C] -> [N, r + 1, r + 1, C]. Built from pad, slice and add, so it differentiates to any order.
 */
export function BlurZeroPadded(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, r, , c] = x.shape;
    let y = tf.pad(x, [[0, 0], [2, 2], [2, 2], [0, 0]]) as tf.Tensor4D;
    const taps = [1, 3, 3, 1];
    const along = (t: tf.Tensor4D, axis: 1 | 2, outSize: number, otherSize: number): tf.Tensor4D => {
      let sum: tf.Tensor4D | null = null;
      taps.forEach((tap, j) => {
        const begin = axis === 1 ? [0, j, 0, 0] : [0, 0, j, 0];
        const size = axis === 1 ? [n, outSize, otherSize, c] : [n, otherSize, outSize, c];
        const term = tf.mul(tf.slice(t, begin, size), tap / 8) as tf.Tensor4D;
        sum = sum ? (tf.add(sum, term) as tf.Tensor4D) : term;
      });
      return sum!;
    };
    y = along(y, 1, r + 1, r + 4);
    return along(y, 2, r + 1, r + 1);
  });
}

function CheckWeights(specs: readonly ParameterSpec[], weights: DiscriminatorWeights): void {
  for (const spec of specs) {
    const values = weights.get(spec.name);
    const size = spec.shape.reduce((a, b) => a * b, 1);
    if (!values) throw new Error(`discriminator weights: missing parameter "${spec.name}"`);
    if (values.length !== size) throw new Error(`discriminator weights: "${spec.name}" has ${values.length} values, expected ${size}`);
  }
}
