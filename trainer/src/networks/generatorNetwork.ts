/**
 * The StyleGAN2 generator (skip architecture) in tfjs, built from {@link GeneratorParameterSpecs} and
 * {@link SynthesisLayers}. The same code path runs inference and training; the ONNX exporter implements the
 * same math (see docs/model-format.md):
 *
 *  - effective parameter = stored x gain (equalised learning rate)
 *  - mapping: z * rsqrt(mean(z^2) + 1e-8) [, label -> FC -> normalised likewise, concatenated after z],
 *    then `mappingLayers` x (FC, lrelu(0.2) * sqrt(2))
 *  - ws: w = w_avg + psi * (w - w_avg) for z and zMix; ws[:, l] = w * (1 - mix[:, l]) + wMix * mix[:, l];
 *    ws += reshape(controls @ controlDirections)
 *  - synthesis: x = const tiled over N; per layer: style s = ws[:, wIndex] @ A + b;
 *    conv: ModulatedConv2d(x, W, s, demodulate, up) + noise * noiseStrength[n] * noise_strength + bias,
 *    lrelu(0.2) * sqrt(2); torgb: conv1x1(x * s, W) + bias; image = torgb, later up2x(image) + torgb.
 */
import { tf } from "../backends/tfjsBackend.js";
import {
  type GeneratorConfig,
  type GeneratorWeights,
  type ParameterSpec,
  GeneratorParameterSpecs,
  ImportOnlyOptions,
  NumWs,
  SynthesisLayers,
} from "./architecture.js";
import { Up2x } from "./filteredResampling.js";
import { LeakyReluAnyOrder } from "./leakyRelu.js";
import { MatMul } from "./matMul.js";
import { ModulatedConv2d } from "./modulatedConv2d.js";

/** Returns the effective (gained) value of a parameter by name. */
export type GeneratorParameterLookup = (name: string) => tf.Tensor;

/** Negative slope of the leaky ReLU. */
export const LeakyReluSlope = 0.2;
/** Gain after each activation (keeps the second moment of lrelu(0.2) outputs near 1). */
export const ActivationGain = Math.SQRT2;
/** Added under the square root of the 2nd-moment normalisation of z and the embedded label. */
export const NormalizeEpsilon = 1e-8;

/** The generator's inputs, as the ONNX graph's inputs (NHWC noise instead of ONNX's [N, 1, r, r]). */
export interface GeneratorInputs {
  /** [N, zDim] latent of each face. */
  readonly z: tf.Tensor2D;
  /** [N, zDim] latent of the mix seed. */
  readonly zMix: tf.Tensor2D;
  /** [N, numWs] per-layer weight of zMix's w (0 = own w, 1 = mix w). */
  readonly mix: tf.Tensor2D;
  /** [N, 1] truncation psi (1 = none, 0 = w_avg). */
  readonly psi: tf.Tensor2D;
  /** [N, K] amount of each control direction. */
  readonly controls?: tf.Tensor2D;
  /** [K, numWs, wDim] control directions in w space (required with `controls`). */
  readonly controlDirections?: tf.Tensor3D;
  /** [N, labelDim] label of conditional models. */
  readonly label?: tf.Tensor2D;
  /** [N, 1] multiplier of all noise inputs. */
  readonly noiseStrength: tf.Tensor2D;
  /** One [N, r, r, 1] map per conv layer, resolutions as `NoiseResolutions(config)`. */
  readonly noise: readonly tf.Tensor4D[];
}

function Lrelu(x: tf.Tensor): tf.Tensor {
  // Twice differentiable (path-length regularisation differentiates G twice); equals leakyRelu * gain.
  return LeakyReluAnyOrder(x, LeakyReluSlope, ActivationGain);
}

function NormalizeSecondMoment(x: tf.Tensor2D): tf.Tensor2D {
  return tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), 1, true), NormalizeEpsilon)));
}

function FullyConnected(x: tf.Tensor2D, param: GeneratorParameterLookup, name: string): tf.Tensor2D {
  return tf.add(MatMul(x, param(`${name}.weight`) as tf.Tensor2D), param(`${name}.bias`));
}

/**
 * The mapping network: z [N, zDim] (and label [N, labelDim] for conditional models) -> w [N, wDim].
 * `param` gives gained parameters, so this serves both {@link GeneratorNetwork} and plain weight maps.
 */
export function MappingForward(config: GeneratorConfig, param: GeneratorParameterLookup, z: tf.Tensor2D, label?: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    let x = NormalizeSecondMoment(z);
    if (config.labelDim > 0) {
      if (!label) throw new Error(`this generator is conditional: a label [N, ${config.labelDim}] is required`);
      x = tf.concat([x, NormalizeSecondMoment(FullyConnected(label, param, "mapping.embed"))], 1);
    }
    for (let i = 0; i < config.mappingLayers; i++) x = Lrelu(FullyConnected(x, param, `mapping.fc${i}`)) as tf.Tensor2D;
    return x;
  });
}

/**
 * Progressive growing (training only): the image is produced at `resolution` (blocks above it are skipped), and
 * the top block's toRGB contribution is faded in by `alpha` (image = Up2x(lower image) + alpha * toRGB).
 */
export interface GrowthProgress {
  readonly resolution: number;
  readonly alpha: number;
}

/**
 * Synthesis network: ws [N, numWs, wDim], noise maps [N, r, r, 1], noiseStrength [N, 1] -> image [N, H, W, 3].
 * With `progress` (progressive growing) the image is [N, progress.resolution, progress.resolution, 3].
 */
export function SynthesisForward(
  config: GeneratorConfig,
  param: GeneratorParameterLookup,
  ws: tf.Tensor3D,
  noise: readonly tf.Tensor4D[],
  noiseStrength: tf.Tensor2D,
  progress?: GrowthProgress,
): tf.Tensor4D {
  // The tfjs network is npc-faces' own architecture; imported generators' options exist only in the ONNX export.
  const importOnly = ImportOnlyOptions(config);
  if (importOnly.length > 0) throw new Error(`the tfjs generator does not implement ${importOnly.join(", ")} (options of imported generators; see docs/import.md)`);
  const layers = SynthesisLayers(config);
  const numWs = NumWs(config);
  const [n] = ws.shape;
  if (ws.shape[1] !== numWs || ws.shape[2] !== config.wDim) {
    throw new Error(`ws: expected [N, ${numWs}, ${config.wDim}], got [${ws.shape.join(", ")}]`);
  }
  const convs = layers.filter((l) => l.kind === "conv");
  if (noise.length !== convs.length) throw new Error(`noise: expected ${convs.length} maps, got ${noise.length}`);
  for (const l of convs) {
    const s = noise[l.noiseIndex].shape;
    if (s[0] !== n || s[1] !== l.resolution || s[2] !== l.resolution || s[3] !== 1) {
      throw new Error(`noise${l.noiseIndex}: expected [${n}, ${l.resolution}, ${l.resolution}, 1], got [${s.join(", ")}]`);
    }
  }
  return tf.tidy(() => {
    const wPerLayer = tf.unstack(ws, 1) as tf.Tensor2D[];
    const strength = tf.reshape(noiseStrength, [n, 1, 1, 1]);
    const constant = param("synthesis.b4.const");
    let x = tf.tile(tf.expandDims(constant, 0), [n, 1, 1, 1]) as tf.Tensor4D;
    let image: tf.Tensor4D | null = null;
    for (const layer of layers) {
      if (progress && layer.resolution > progress.resolution) break; // layers are in resolution order
      const styles = FullyConnected(wPerLayer[layer.wIndex], param, `${layer.name}.affine`);
      const weight = param(`${layer.name}.weight`) as tf.Tensor4D;
      const bias = param(`${layer.name}.bias`);
      if (layer.kind === "conv") {
        let y = ModulatedConv2d(x, weight, styles, { demodulate: true, up: layer.up });
        const scaledNoise = tf.mul(tf.mul(noise[layer.noiseIndex], strength), param(`${layer.name}.noise_strength`));
        y = tf.add(tf.add(y, scaledNoise), bias);
        x = Lrelu(y) as tf.Tensor4D;
      } else {
        let rgb = tf.add(ModulatedConv2d(x, weight, styles, { demodulate: false, up: false }), bias) as tf.Tensor4D;
        if (progress && progress.alpha < 1 && image !== null && layer.resolution === progress.resolution) rgb = tf.mul(rgb, progress.alpha);
        image = image === null ? rgb : (tf.add(Up2x(image), rgb) as tf.Tensor4D);
      }
    }
    if (image === null) throw new Error("synthesis produced no image (no toRGB layer)");
    return image;
  });
}

/**
 * Per-layer w from two latents' w: truncation toward w_avg, per-layer mixing, control directions.
 * w, wMix [N, wDim]; wAvg [wDim]; mix [N, numWs]; psi [N, 1] -> ws [N, numWs, wDim].
 */
export function ComposeWs(
  config: GeneratorConfig,
  w: tf.Tensor2D,
  wMix: tf.Tensor2D,
  wAvg: tf.Tensor1D,
  mix: tf.Tensor2D,
  psi: tf.Tensor2D,
  controls?: tf.Tensor2D,
  controlDirections?: tf.Tensor3D,
): tf.Tensor3D {
  const numWs = NumWs(config);
  const [n] = w.shape;
  if (mix.shape[0] !== n || mix.shape[1] !== numWs) throw new Error(`mix: expected [${n}, ${numWs}], got [${mix.shape.join(", ")}]`);
  if (psi.shape[0] !== n || psi.shape[1] !== 1) throw new Error(`psi: expected [${n}, 1], got [${psi.shape.join(", ")}]`);
  return tf.tidy(() => {
    const truncate = (v: tf.Tensor2D) => tf.add(wAvg, tf.mul(psi, tf.sub(v, wAvg)));
    const own = tf.expandDims(truncate(w), 1); // [N, 1, wDim]
    const other = tf.expandDims(truncate(wMix), 1);
    const m = tf.expandDims(mix, 2); // [N, numWs, 1]
    // (1 - m) * own + m * other: exactly `other` at m = 1 and exactly `own` at m = 0.
    let ws = tf.add(tf.mul(own, tf.sub(1, m)), tf.mul(other, m)) as tf.Tensor3D;
    if (controls) {
      if (!controlDirections) throw new Error("controls given without controlDirections");
      const k = controls.shape[1];
      const d = controlDirections.shape;
      if (controls.shape[0] !== n || d[0] !== k || d[1] !== numWs || d[2] !== config.wDim) {
        throw new Error(`controls [${controls.shape.join(", ")}] / controlDirections [${d.join(", ")}]: expected [${n}, K] / [K, ${numWs}, ${config.wDim}]`);
      }
      const offset = tf.matMul(controls, tf.reshape(controlDirections, [k, numWs * config.wDim]));
      ws = tf.add(ws, tf.reshape(offset, [n, numWs, config.wDim]));
    }
    return ws;
  });
}

/**
 * The generator as tfjs variables, one per {@link GeneratorParameterSpecs} entry (stored, un-gained values;
 * the gain is applied in the forward pass so optimisers see equalised learning rates).
 */
export class GeneratorNetwork {
  /** The configuration it was built from. */
  readonly config: GeneratorConfig;
  /** Parameter specs in their fixed order. */
  readonly specs: readonly ParameterSpec[];
  /** Variables by parameter name, in spec order. */
  readonly variables: ReadonlyMap<string, tf.Variable>;
  private readonly gains = new Map<string, number>();

  /** Creates the variables from stored weights (e.g. `InitializeGeneratorWeights(config, seed)` or a checkpoint). */
  constructor(config: GeneratorConfig, weights: GeneratorWeights) {
    this.config = config;
    this.specs = GeneratorParameterSpecs(config);
    CheckWeights(this.specs, weights);
    const variables = new Map<string, tf.Variable>();
    for (const spec of this.specs) {
      // No variable names: tfjs registers names globally, and several networks may coexist.
      const initial = tf.tensor(weights.get(spec.name)!, spec.shape as number[], "float32");
      variables.set(spec.name, tf.variable(initial, spec.trainable));
      initial.dispose(); // the variable keeps its own reference to the data
      this.gains.set(spec.name, spec.gain);
    }
    this.variables = variables;
  }

  /** Effective value of a parameter: stored x gain. */
  readonly param: GeneratorParameterLookup = (name) => {
    const v = this.variables.get(name);
    if (!v) throw new Error(`generator has no parameter "${name}"`);
    const gain = this.gains.get(name)!;
    return gain === 1 ? v : tf.mul(v, gain);
  };

  /** Trainable variables (all but w_avg), in spec order. */
  trainableVariables(): tf.Variable[] {
    return this.specs.filter((s) => s.trainable).map((s) => this.variables.get(s.name)!);
  }

  /** Mapping network: z [N, zDim] (+ label [N, labelDim]) -> w [N, wDim]. */
  mapping(z: tf.Tensor2D, label?: tf.Tensor2D): tf.Tensor2D {
    return MappingForward(this.config, this.param, z, label);
  }

  /** Synthesis network: ws [N, numWs, wDim], noise [N, r, r, 1] per conv, noiseStrength [N, 1] -> image [N, H, W, 3]. */
  synthesis(ws: tf.Tensor3D, noise: readonly tf.Tensor4D[], noiseStrength: tf.Tensor2D, progress?: GrowthProgress): tf.Tensor4D {
    return SynthesisForward(this.config, this.param, ws, noise, noiseStrength, progress);
  }

  /** Composes ws from the graph-style inputs (truncation, mixing, controls) without running synthesis. */
  composeWs(inputs: Omit<GeneratorInputs, "noise" | "noiseStrength">): tf.Tensor3D {
    return tf.tidy(() => {
      const n = inputs.z.shape[0];
      const label = inputs.label ? tf.concat([inputs.label, inputs.label], 0) : undefined;
      // One mapping pass over both latents.
      const both = this.mapping(tf.concat([inputs.z, inputs.zMix], 0), label);
      const [w, wMix] = tf.split(both, [n, n], 0) as [tf.Tensor2D, tf.Tensor2D];
      return ComposeWs(this.config, w, wMix, this.param("mapping.w_avg") as tf.Tensor1D, inputs.mix, inputs.psi, inputs.controls, inputs.controlDirections);
    });
  }

  /** The whole generator as the ONNX graph computes it (before the 8-bit conversion): image NHWC [N, H, W, 3]. */
  forward(inputs: GeneratorInputs): tf.Tensor4D {
    return tf.tidy(() => this.synthesis(this.composeWs(inputs), inputs.noise, inputs.noiseStrength));
  }

  /** Reads the stored (un-gained) values back. */
  getWeights(): GeneratorWeights {
    const out: GeneratorWeights = new Map();
    for (const spec of this.specs) out.set(spec.name, Float32Array.from(this.variables.get(spec.name)!.dataSync() as Float32Array));
    return out;
  }

  /** Replaces the stored values (same names and sizes as the specs). */
  setWeights(weights: GeneratorWeights): void {
    CheckWeights(this.specs, weights);
    for (const spec of this.specs) {
      tf.tidy(() => this.variables.get(spec.name)!.assign(tf.tensor(weights.get(spec.name)!, spec.shape as number[], "float32")));
    }
  }

  /** Frees the variables. */
  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
  }
}

function CheckWeights(specs: readonly ParameterSpec[], weights: GeneratorWeights): void {
  for (const spec of specs) {
    const values = weights.get(spec.name);
    const size = spec.shape.reduce((a, b) => a * b, 1);
    if (!values) throw new Error(`weights: missing parameter "${spec.name}"`);
    if (values.length !== size) throw new Error(`weights: "${spec.name}" has ${values.length} values, expected ${size} ([${spec.shape.join(", ")}])`);
  }
}
