/**
 * Exports a generator (mapping, truncation, style mixing, named controls, synthesis and RGBA8 conversion) as one
 * ONNX file with the npc-faces metadata document. The graph is built from the same description as the tfjs
 * network ({@link GeneratorParameterSpecs}, {@link SynthesisLayers}); docs/model-format.md documents the result.
 */
import { FormatName, FormatVersion, LatentFromSeed, MetadataKey, ModelMetadataSchema, TensorNames } from "@npc-faces/runtime";
import type { ModelControl, ModelLabel, ModelMetadata } from "@npc-faces/runtime";
import {
  GeneratorParameterSpecs,
  NoiseResolutions,
  NumWs,
  SynthesisLayers,
  ValidateGeneratorConfig,
  type GeneratorConfig,
  type GeneratorWeights,
  type ParameterSpec,
} from "../networks/architecture.js";
import { StampGraphDigest } from "./integrityDigest.js";
import { HwioToOihw } from "../ortTraining/parameterLayout.js";
import { Float16BitsToFloat32, Float32ToFloat16Bits, OnnxGraphBuilder, SerializeOnnxModel } from "./onnxGraphBuilder.js";

/** `producer_version` of exported files: the trainer package version. */
export const ExporterProducerVersion = "0.1.0";
/** `producer_name` of exported files. */
export const ExporterProducerName = "npc-faces";

/** Fixed latents (seeds 0..n-1) whose mean w is a conditional model's truncation centre per label vector. */
export const LabelCentreSamples = 64;

/** A named control to bake into the graph: the metadata entry plus its direction in w space. */
export interface ExportControl extends ModelControl {
  /** Direction in w space, length `wDim`; the graph adds `amount * direction` to the w of each of `layers`. */
  readonly direction: Float32Array;
}

/** Arguments of {@link ExportGeneratorOnnx}. */
export interface ExportOptions {
  readonly config: GeneratorConfig;
  /** Stored (pre-gain) parameters by name, including `mapping.w_avg`. */
  readonly weights: GeneratorWeights;
  /** Model name written to the metadata. */
  readonly name: string;
  readonly controls: readonly ExportControl[];
  /** Label attributes of conditional models (`config.labelDim > 0`). */
  readonly labels?: readonly ModelLabel[];
  /** Training label vectors that faces draw unset labels from (see `ModelMetadata.labelTable`). */
  readonly labelTable?: readonly (readonly number[])[];
  /** Defaults the runtime feeds when a caller gives none. Default `{ psi: 0.7, noiseStrength: 1 }`. */
  readonly defaults?: { readonly psi: number; readonly noiseStrength: number };
  readonly provenance: ModelMetadata["provenance"];
  /** `float16` stores conv and FC weights as fp16 initializers followed by a Cast (half the file). Default `float32`. */
  readonly weightType?: "float32" | "float16";
  /**
   * What truncation pulls toward. `average` (default): the tracked `w_avg`, one centre for every face. `labels`
   * (conditional models): the mean w of the face's own label vector over {@link LabelCentreSamples} fixed latents,
   * so psi < 1 narrows the variation within a label instead of pulling every face toward the average label
   * (which erases the rarer eye, mouth and hair styles a categorical label asks for).
   */
  readonly truncationCentre?: "average" | "labels";
}

/**
 * Builds the ONNX model of a generator and returns its bytes (opset 17, IR 8). Deterministic: the same options
 * give a byte-identical file. Throws with a message naming the bad weight, control or metadata field.
 */
export function ExportGeneratorOnnx(options: ExportOptions): Uint8Array {
  const { config, weights } = options;
  ValidateGeneratorConfig(config);
  const numWs = NumWs(config);
  const { wDim, zDim, labelDim } = config;
  const fp16 = (options.weightType ?? "float32") === "float16";
  const labelCentre = (options.truncationCentre ?? "average") === "labels";
  if (options.truncationCentre !== undefined && options.truncationCentre !== "average" && options.truncationCentre !== "labels") {
    throw new Error(`truncationCentre must be "average" or "labels", got "${options.truncationCentre as string}"`);
  }
  if (labelCentre && labelDim === 0) throw new Error('truncationCentre "labels" needs a conditional model (labelDim > 0)');
  if (options.weightType !== undefined && options.weightType !== "float32" && options.weightType !== "float16") {
    throw new Error(`weightType must be "float32" or "float16", got "${options.weightType as string}"`);
  }
  const specs = new Map<string, ParameterSpec>();
  for (const spec of GeneratorParameterSpecs(config)) {
    const values = weights.get(spec.name);
    const size = spec.shape.reduce((a, b) => a * b, 1);
    if (!values) throw new Error(`missing generator weight "${spec.name}"`);
    if (values.length !== size) throw new Error(`weight "${spec.name}" has ${values.length} values, expected ${size} for shape [${spec.shape.join(", ")}]`);
    specs.set(spec.name, spec);
  }
  const metadata = BuildMetadata(options, numWs);

  // Stored values times the equalised-learning-rate gain, rounded to float32 once (and to fp16 for weights if asked).
  const gained = (name: string): Float32Array => {
    const spec = specs.get(name)!;
    const stored = weights.get(name)!;
    const out = new Float32Array(stored.length);
    for (let i = 0; i < stored.length; i++) out[i] = stored[i] * spec.gain;
    return out;
  };
  const g = new OnnxGraphBuilder();
  // Conv / FC weights; in fp16 mode the returned values are the fp16-rounded ones, so derived constants
  // (demodulation) describe exactly the weights the graph uses.
  // `store: false` only rounds (the values a stored weight would have) and adds nothing to the graph.
  const addWeight = (name: string, dims: number[], values: Float32Array, store = true): { tensor: string; values: Float32Array } => {
    if (!fp16) return { tensor: store ? g.addInitializer(name, "float", dims, values) : "", values };
    const bits = new Uint16Array(values.length);
    const rounded = new Float32Array(values.length);
    for (let i = 0; i < values.length; i++) {
      bits[i] = Float32ToFloat16Bits(values[i]);
      rounded[i] = Float16BitsToFloat32(bits[i]);
    }
    if (!store) return { tensor: "", values: rounded };
    const half = g.addInitializer(`${name}_fp16`, "float16", dims, bits);
    return { tensor: g.node("Cast", [half], { to: { int: 1 } }, name), values: rounded };
  };
  const addFloat = (name: string, dims: number[], values: Float32Array): string => g.addInitializer(name, "float", dims, values);
  // `scale` multiplies the effective weight and bias (exact linear fold, used for the synthesis √2 gain below).
  const fc = (x: string, name: string, fanIn: number, fanOut: number, scale = 1): string => {
    const scaled = (values: Float32Array): Float32Array => (scale === 1 ? values : values.map((v) => v * scale));
    const w = addWeight(`${name}.weight`, [fanIn, fanOut], scaled(gained(`${name}.weight`))).tensor;
    const b = addFloat(`${name}.bias`, [fanOut], scaled(gained(`${name}.bias`)));
    return g.node("Add", [g.node("MatMul", [x, w]), b]);
  };
  const sqrt2 = g.constFloat([Math.SQRT2], []);
  const lreluGain = (x: string): string => g.node("Mul", [g.node("LeakyRelu", [x], { alpha: { float: 0.2 } }), sqrt2]);
  const normalize2ndMoment = (x: string): string => {
    const meanSq = g.node("ReduceMean", [g.node("Mul", [x, x])], { axes: { ints: [1] }, keepdims: { int: 1 } });
    const inv = g.node("Reciprocal", [g.node("Sqrt", [g.node("Add", [meanSq, g.constFloat([1e-8], [])])])]);
    return g.node("Mul", [x, inv]);
  };

  // ---- inputs
  const N = "N";
  const z = g.addInput(TensorNames.z, "float", [N, zDim]);
  const zMix = g.addInput(TensorNames.zMix, "float", [N, zDim]);
  const mix = g.addInput(TensorNames.mix, "float", [N, numWs]);
  const psi = g.addInput(TensorNames.psi, "float", [N, 1]);
  const K = options.controls.length;
  const controls = K > 0 ? g.addInput(TensorNames.controls, "float", [N, K]) : "";
  const label = labelDim > 0 ? g.addInput(TensorNames.label, "float", [N, labelDim]) : "";
  const noiseStrength = g.addInput(TensorNames.noiseStrength, "float", [N, 1]);
  // Constant noise is baked into the graph: no noise inputs (metadata `noiseResolutions` is empty).
  const noiseRes = config.noise === "constant" ? [] : NoiseResolutions(config);
  const noises = noiseRes.map((r, i) => g.addInput(`${TensorNames.noisePrefix}${i}`, "float", [N, 1, r, r]));

  // ---- mapping, run once for both latents stacked along the batch
  let x = normalize2ndMoment(g.node("Concat", [z, zMix], { axis: { int: 0 } }));
  if (labelDim > 0) {
    const labels2 = g.node("Concat", [label, label], { axis: { int: 0 } });
    const embed = normalize2ndMoment(fc(labels2, "mapping.embed", labelDim, wDim));
    x = g.node("Concat", [x, embed], { axis: { int: 1 } });
  }
  const mappingIn = zDim + (labelDim > 0 ? wDim : 0);
  for (let i = 0; i < config.mappingLayers; i++) x = lreluGain(fc(x, `mapping.fc${i}`, i === 0 ? mappingIn : wDim, wDim));

  // ---- truncation toward the centre: [2, N, wDim], psi [N, 1] broadcasts over both latents
  const centre = labelCentre ? LabelTruncationCentre(g, config, label, lreluGain, normalize2ndMoment) : addFloat("mapping.w_avg", [wDim], gained("mapping.w_avg"));
  const w2 = g.node("Reshape", [x, g.constInt64([2, -1, wDim])]);
  const wt = g.node("Add", [centre, g.node("Mul", [psi, g.node("Sub", [w2, centre])])], {}, "w_truncated");
  const wOwn = g.node("Gather", [wt, g.constInt64([0], [])], { axis: { int: 0 } }, "w");
  const wMix = g.node("Gather", [wt, g.constInt64([1], [])], { axis: { int: 0 } }, "w_mix");

  // ---- per-layer mixing, written as w*(1-m) + w_mix*m so that mix = 1 gives exactly w_mix
  const axis1 = g.constInt64([1]);
  const axis2 = g.constInt64([2]);
  const mix3 = g.node("Unsqueeze", [mix, axis2]);
  const oneMinus = g.node("Sub", [g.constFloat([1], []), mix3]);
  let ws = g.node("Add", [
    g.node("Mul", [g.node("Unsqueeze", [wOwn, axis1]), oneMinus]),
    g.node("Mul", [g.node("Unsqueeze", [wMix, axis1]), mix3]),
  ]);
  if (K > 0) {
    const d = new Float32Array(K * numWs * wDim);
    options.controls.forEach((c, k) => {
      for (const l of c.layers) d.set(c.direction, (k * numWs + l) * wDim);
    });
    const D = addFloat("controls.directions", [K, numWs * wDim], d);
    const offsets = g.node("Reshape", [g.node("MatMul", [controls, D]), g.constInt64([-1, numWs, wDim])]);
    ws = g.node("Add", [ws, offsets]);
  }
  ws = g.node("Identity", [ws], {}, "ws");

  // ---- synthesis
  const axes23 = g.constInt64([2, 3]);
  const zeroPadBorders = config.resampling === "zeroPad";
  const scales2x = zeroPadBorders ? "" : g.constFloat([1, 1, 2, 2]);
  const resnet = config.synthesis === "resnet";
  const transposedUp = config.upsampleConv === "transposedConv";
  const clamp = config.convClamp;
  // 2x filtered up-sampling. edgeClamp: exactly half-pixel bilinear resizing. zeroPad: NVIDIA's upsample2d (insert
  // zeros, pad 2/1, the [1,3,3,1] filter x2 per axis) = a depthwise transposed conv, stride 2, cropped by 1 per side.
  const up2x = (t: string, channels: number): string =>
    zeroPadBorders
      ? g.node("ConvTranspose", [t, ResampleFilter(g, channels)], { group: { int: channels }, kernel_shape: { ints: [4, 4] }, strides: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] } })
      : g.node("Resize", [t, "", scales2x], { mode: { string: "linear" }, coordinate_transformation_mode: { string: "half_pixel" } });
  // NVIDIA's filter after a stride-2 transposed conv: [1,3,3,1]/4 per axis (gain 4 in 2D), zero borders of 1.
  // Two 1D depthwise convs: half the taps of the 4x4 filter.
  const filterAfterTransposed = (t: string, channels: number): string => {
    const rows = g.node("Conv", [t, ResampleFilter(g, channels, "rows")], { group: { int: channels }, kernel_shape: { ints: [4, 1] }, pads: { ints: [1, 0, 1, 0] } });
    return g.node("Conv", [rows, ResampleFilter(g, channels, "columns")], { group: { int: channels }, kernel_shape: { ints: [1, 4] }, pads: { ints: [0, 1, 0, 1] } });
  };
  const clip = (t: string, limit: number): string => g.node("Clip", [t, g.constFloat([-limit], []), g.constFloat([limit], [])]);
  const noiseStrength4 = g.node("Reshape", [noiseStrength, g.constInt64([-1, 1, 1, 1])]);
  const c4 = ConstToNchw(gained("synthesis.b4.const"));
  // The learned constant is not an initializer: it only enters the first conv's matrix Q (ConstConvMatrix below).
  const constTensor = "";
  let h = constTensor;
  let img = "";
  // The activations h between layers are lrelu(y) WITHOUT the √2 gain: every consumer of h (the next conv and the
  // toRGB) gets √2 folded into its style affine instead (s' = √2·s, exact: the modulation is linear in s), and
  // the demodulation sums use Wsq/2 so that d is still computed from s. This saves one full pass per layer.
  // In general the true activation is h·hGain (resnet block outputs have hGain 1).
  let hGain = 1;
  let skipBranch = "";
  for (const layer of SynthesisLayers(config)) {
    const { inChannels: cin, outChannels: cout } = layer;
    if (resnet && layer.up) {
      // NVIDIA resnet skip: √½ · conv1x1(up(x)), no bias, no clamp; the 1x1 conv runs first (they commute: both linear,
      // one per pixel, the other per channel), with the gains folded into its weight.
      const name = `synthesis.b${layer.resolution}.skip.weight`;
      const weightValues = gained(name).map((v) => v * hGain * Math.SQRT1_2);
      const skipWeight = addWeight(name, [cout, cin, 1, 1], HwioToOihw(weightValues, 1, cin, cout)).tensor;
      skipBranch = up2x(g.node("Conv", [h, skipWeight], { kernel_shape: { ints: [1, 1] } }), cout);
    }
    const wl = g.node("Gather", [ws, g.constInt64([layer.wIndex], [])], { axis: { int: 1 } });
    const s = fc(wl, `${layer.name}.affine`, wDim, cin, hGain);
    const modulated = h === constTensor ? "" : g.node("Mul", [h, g.node("Unsqueeze", [s, axes23])]);
    const k = layer.kind === "conv" ? 3 : 1;
    const weight = addWeight(`${layer.name}.weight`, [cout, cin, k, k], HwioToOihw(gained(`${layer.name}.weight`), k, cin, cout), h !== constTensor && !(layer.up && transposedUp));
    const bias = gained(`${layer.name}.bias`);
    if (layer.kind === "torgb") {
      // No demodulation; the toRGB weight gain 1/sqrt(Cin) is folded into the weight (same product as stylegan2's style gain).
      let y = g.node("Conv", [modulated, weight.tensor, addFloat(`${layer.name}.bias`, [cout], bias)], { kernel_shape: { ints: [1, 1] } }, clamp === undefined ? `${layer.name}.out` : undefined);
      if (clamp !== undefined) y = g.node("Identity", [clip(y, clamp)], {}, `${layer.name}.out`);
      img = img ? g.node("Add", [up2x(img, 3), y], {}, `img${layer.resolution}`) : y;
      continue;
    }
    // Modulation on activations, demodulation on outputs: the conv weight stays a constant ORT can pre-pack.
    // The first conv's input is the constant modulated per channel, so its conv is linear in s alone:
    // conv(const·s) = s @ Q with Q[i, (o, y, x)] = Σ_taps W[o, i, ky, kx]·const[i, y+ky−1, x+kx−1] (zero padded):
    // one MatMul at 1/9 of the FLOPs of a 4×4 conv, which onnxruntime runs poorly (tiny spatial size).
    let conv: string;
    if (h === constTensor) {
      conv = g.node("Reshape", [g.node("MatMul", [s, addWeight(`${layer.name}.const_conv`, [cin, cout * 16], ConstConvMatrix(c4.values, weight.values, cin, cout)).tensor]), g.constInt64([-1, cout, 4, 4])]);
    } else if (layer.up && transposedUp) {
      // NVIDIA's order: 3x3 transposed conv at stride 2 (weight [Cin, Cout, 3, 3], not flipped), then the filter.
      const transposedWeight = addWeight(`${layer.name}.weight_transposed`, [cin, cout, 3, 3], OihwToIohw(weight.values, cout, cin, 3)).tensor;
      conv = filterAfterTransposed(g.node("ConvTranspose", [modulated, transposedWeight], { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] } }), cout);
    } else {
      conv = g.node("Conv", [layer.up ? up2x(modulated, cin) : modulated, weight.tensor], { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } });
    }
    const wsq = addFloat(`${layer.name}.weight_sq`, [cin, cout], SquaredWeightSums(weight.values, cout, cin, k, 1 / (hGain * hGain)));
    const demod = g.node("Reciprocal", [g.node("Sqrt", [g.node("Add", [g.node("MatMul", [g.node("Mul", [s, s]), wsq]), g.constFloat([1e-8], [])])])]);
    let y = g.node("Mul", [conv, g.node("Unsqueeze", [demod, axes23])]);
    const strength = addFloat(`${layer.name}.noise_strength`, [], gained(`${layer.name}.noise_strength`));
    const noise = config.noise === "constant"
      ? addFloat(`${layer.name}.noise_const`, [1, 1, layer.resolution, layer.resolution], gained(`${layer.name}.noise_const`))
      : noises[layer.noiseIndex];
    y = g.node("Add", [y, g.node("Mul", [noise, g.node("Mul", [noiseStrength4, strength])])]);
    y = g.node("Add", [y, addFloat(`${layer.name}.bias`, [1, cout, 1, 1], bias)]);
    h = g.node("LeakyRelu", [y], { alpha: { float: 0.2 } });
    if (resnet && layer.resolution > 4 && !layer.up) {
      // NVIDIA resnet: conv1 runs with gain √½ (activation gain √2·√½ = 1, clamp convClamp·√½), then adds the skip.
      if (clamp !== undefined) h = clip(h, clamp * Math.SQRT1_2);
      h = g.node("Add", [skipBranch, h]);
      hGain = 1;
      continue;
    }
    // The true activation √2·h is clamped to ±convClamp: h to ±convClamp/√2.
    if (clamp !== undefined) h = clip(h, clamp / Math.SQRT2);
    hGain = Math.SQRT2;
  }

  // ---- outputs
  const R = config.resolution;
  g.addOutput(img, TensorNames.image, "float", [N, 3, R, R]);
  const scaled = g.node("Add", [g.node("Mul", [img, g.constFloat([127.5], [])]), g.constFloat([128], [])]);
  const clipped = g.node("Floor", [g.node("Clip", [scaled, g.constFloat([0], []), g.constFloat([255], [])])]);
  const withAlpha = g.node("Pad", [clipped, g.constInt64([0, 0, 0, 0, 0, 1, 0, 0]), g.constFloat([255], [])], { mode: { string: "constant" } });
  const bytes = g.node("Cast", [withAlpha], { to: { int: 2 } });
  const rgba = g.node("Transpose", [bytes], { perm: { ints: [0, 2, 3, 1] } });
  g.addOutput(rgba, TensorNames.rgba, "uint8", [N, R, R, 4]);

  const model = g.build({
    name: options.name,
    producerName: ExporterProducerName,
    producerVersion: ExporterProducerVersion,
    docString: `npc-faces StyleGAN2 generator "${options.name}" (${R}x${R}); see docs/model-format.md`,
    metadata: { [MetadataKey]: JSON.stringify(metadata) },
  });
  StampGraphDigest(model);
  return SerializeOnnxModel(model);
}

/** The metadata document, validated against the runtime's schema (what the runtime will check on load). */
function BuildMetadata(options: ExportOptions, numWs: number): ModelMetadata {
  const { config } = options;
  const names = new Set<string>();
  for (const c of options.controls) {
    if (names.has(c.name)) throw new Error(`duplicate control name "${c.name}"`);
    names.add(c.name);
    if (!(c.direction instanceof Float32Array) || c.direction.length !== config.wDim) {
      throw new Error(`control "${c.name}": direction must be a Float32Array of length wDim = ${config.wDim}`);
    }
    for (const l of c.layers) {
      if (!Number.isInteger(l) || l < 0 || l >= numWs) throw new Error(`control "${c.name}": layer ${l} is outside 0..${numWs - 1}`);
    }
  }
  if (config.labelDim === 0 && options.labels && options.labels.length > 0) {
    throw new Error("labels were given for an unconditional model (labelDim = 0)");
  }
  const document = {
    format: FormatName,
    formatVersion: FormatVersion,
    name: options.name,
    resolution: config.resolution,
    zDim: config.zDim,
    wDim: config.wDim,
    numWs,
    labelDim: config.labelDim,
    noiseResolutions: config.noise === "constant" ? [] : NoiseResolutions(config),
    ...(config.noise === "constant" ? { noise: "constant" as const } : {}),
    controls: options.controls.map((c) => {
      const { direction: _direction, ...rest } = c;
      return rest;
    }),
    labels: options.labels ?? [],
    ...(options.labelTable ? { labelTable: options.labelTable } : {}),
    defaults: options.defaults ?? { psi: 0.7, noiseStrength: 1 },
    ...(options.truncationCentre === "labels" ? { truncationCentre: "labels" as const } : {}),
    architecture: { ...config },
    provenance: options.provenance,
  };
  const result = ModelMetadataSchema.safeParse(document);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(`invalid model metadata at "${issue.path.join(".")}": ${issue.message}`);
  }
  return result.data;
}

/**
 * A conditional model's truncation centre per face, [N, wDim]: the mean over {@link LabelCentreSamples} fixed
 * latents of the mapping network at the face's label vector. It reuses the mapping's weight tensors (already in the
 * graph under their parameter names) and splits the first layer, x·W0 = norm(z)·W0[:zDim] + norm(embed)·W0[zDim:],
 * so the latents' half is a constant onnxruntime folds at load; per face the cost is the other layers on 64 rows
 * (~3% of npc64wide's synthesis).
 */
function LabelTruncationCentre(
  g: OnnxGraphBuilder,
  config: GeneratorConfig,
  label: string,
  lreluGain: (x: string) => string,
  normalize2ndMoment: (x: string) => string,
): string {
  const { zDim, wDim, mappingLayers } = config;
  const M = LabelCentreSamples;
  const latents = new Float32Array(M * zDim);
  for (let i = 0; i < M; i++) latents.set(LatentFromSeed(i, zDim), i * zDim);
  const zn = normalize2ndMoment(g.addInitializer("truncation.latents", "float", [M, zDim], latents));
  const embed = normalize2ndMoment(g.node("Add", [g.node("MatMul", [label, "mapping.embed.weight"]), "mapping.embed.bias"]));
  const rows = (from: number, to: number): string =>
    g.node("Slice", ["mapping.fc0.weight", g.constInt64([from]), g.constInt64([to]), g.constInt64([0])]);
  const fromLatents = g.node("Unsqueeze", [g.node("MatMul", [zn, rows(0, zDim)]), g.constInt64([1])]); // [M, 1, wDim]
  const fromLabel = g.node("Unsqueeze", [g.node("Add", [g.node("MatMul", [embed, rows(zDim, zDim + wDim)]), "mapping.fc0.bias"]), g.constInt64([0])]); // [1, N, wDim]
  let h = g.node("Reshape", [lreluGain(g.node("Add", [fromLatents, fromLabel])), g.constInt64([-1, wDim])]); // [M·N, wDim]
  for (let i = 1; i < mappingLayers; i++) h = lreluGain(g.node("Add", [g.node("MatMul", [h, `mapping.fc${i}.weight`]), `mapping.fc${i}.bias`]));
  const perLatent = g.node("Reshape", [h, g.constInt64([M, -1, wDim])]);
  return g.node("ReduceMean", [perLatent], { axes: { ints: [0] }, keepdims: { int: 0 } }, "truncation_centre");
}

/**
 * The [1,3,3,1] filter as depthwise weights for `channels` channels: `2d` [C, 1, 4, 4] = outer/16 (NVIDIA's 2D filter
 * with up-sampling gain 4), `rows` [C, 1, 4, 1] and `columns` [C, 1, 1, 4] = [1,3,3,1]/4 (gain 2 per axis).
 */
function ResampleFilter(g: OnnxGraphBuilder, channels: number, shape: "2d" | "rows" | "columns" = "2d"): string {
  const f = [1, 3, 3, 1].map((v) => v / 4);
  const kernel = shape === "2d" ? f.flatMap((a) => f.map((b) => a * b)) : f;
  const dims = shape === "2d" ? [channels, 1, 4, 4] : shape === "rows" ? [channels, 1, 4, 1] : [channels, 1, 1, 4];
  const values: number[] = [];
  for (let c = 0; c < channels; c++) values.push(...kernel);
  return g.constFloat(values, dims);
}

/** [O, I, k, k] -> [I, O, k, k] (ConvTranspose's weight layout). */
function OihwToIohw(oihw: Float32Array, cout: number, cin: number, k: number): Float32Array {
  const kk = k * k;
  const out = new Float32Array(oihw.length);
  for (let o = 0; o < cout; o++) for (let i = 0; i < cin; i++) out.set(oihw.subarray((o * cin + i) * kk, (o * cin + i + 1) * kk), (i * cout + o) * kk);
  return out;
}

/** [4, 4, C] (HWC) -> [C, 4, 4] values. */
function ConstToNchw(hwc: Float32Array): { channels: number; values: Float32Array } {
  const c = hwc.length / 16;
  const out = new Float32Array(hwc.length);
  for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) for (let ch = 0; ch < c; ch++) out[(ch * 4 + y) * 4 + x] = hwc[(y * 4 + x) * c + ch];
  return { channels: c, values: out };
}

/** Q[i, (o·4 + y)·4 + x] = Σ_ky,kx W[o, i, ky, kx]·const[i, y+ky−1, x+kx−1] (float64 sums, zero padding): the 3×3 conv of
 * the 4×4 constant, per input channel, so that Conv3x3(const·s) = s @ Q. */
function ConstConvMatrix(constChw: Float32Array, oihw: Float32Array, cin: number, cout: number): Float32Array {
  const out = new Float32Array(cin * cout * 16);
  for (let i = 0; i < cin; i++)
    for (let o = 0; o < cout; o++)
      for (let y = 0; y < 4; y++)
        for (let x = 0; x < 4; x++) {
          let sum = 0;
          for (let ky = 0; ky < 3; ky++) {
            const yy = y + ky - 1;
            if (yy < 0 || yy > 3) continue;
            for (let kx = 0; kx < 3; kx++) {
              const xx = x + kx - 1;
              if (xx < 0 || xx > 3) continue;
              sum += oihw[((o * cin + i) * 3 + ky) * 3 + kx] * constChw[(i * 4 + yy) * 4 + xx];
            }
          }
          out[i * cout * 16 + (o * 4 + y) * 4 + x] = sum;
        }
  return out;
}

/** WsqT[i, o] = scale · sum over the kernel window of W[o, i, ., .]^2 (float64 sums), for demodulation. */
function SquaredWeightSums(oihw: Float32Array, cout: number, cin: number, k: number, scale = 1): Float32Array {
  const out = new Float32Array(cin * cout);
  const kk = k * k;
  for (let o = 0; o < cout; o++)
    for (let i = 0; i < cin; i++) {
      let sum = 0;
      const base = (o * cin + i) * kk;
      for (let t = 0; t < kk; t++) sum += oihw[base + t] * oihw[base + t];
      out[i * cout + o] = sum * scale;
    }
  return out;
}
