/**
 * The one description of an npc-faces generator (StyleGAN2, skip architecture).
 *
 * Everything that builds or reads generator weights starts here: the tfjs network, the ONNX exporter,
 * checkpoints and parameter initialisation all walk {@link GeneratorParameterSpecs}, so training and
 * inference cannot drift apart.
 *
 * Layout (as NVIDIA's stylegan2-ada-pytorch `SynthesisNetwork`, skip variant):
 *  - mapping: z (2nd-moment normalised) [+ embedded, normalised label] -> `mappingLayers` FC + lrelu -> w
 *  - synthesis block at 4x4: learned constant, conv1, toRGB
 *  - synthesis block at r = 8..resolution: conv0 (2x filtered up-sampling), conv1, toRGB; image = up(image) + toRGB
 *  - every conv: modulated 3x3 with demodulation, then noise * strength, bias, lrelu * sqrt(2)
 * Layouts are NHWC / HWIO (tfjs); the exporter transposes to ONNX's NCHW / OIHW.
 */

/** A generator configuration. Channels at resolution r are `max(channelMin, min(channelBase / r, channelMax))`. */
export interface GeneratorConfig {
  /** Output resolution in pixels, a power of two from 8 to 1024. */
  readonly resolution: number;
  /** Latent z size. */
  readonly zDim: number;
  /** Intermediate latent w size. */
  readonly wDim: number;
  /** Label size for conditional models (0 = unconditional). */
  readonly labelDim: number;
  /** Number of fully connected layers in the mapping network. */
  readonly mappingLayers: number;
  /** Learning-rate multiplier of the mapping network (StyleGAN: 0.01). */
  readonly mappingLrMultiplier: number;
  /** Channel budget: channels at resolution r are `min(channelBase / r, channelMax)`. */
  readonly channelBase: number;
  /** Upper bound on channels per layer. */
  readonly channelMax: number;
  /** Lower bound on channels per layer, for more channels at the finest layers than the budget gives (default 1). */
  readonly channelMin?: number;
  // ---- Options for generators imported from other StyleGAN2 code (`npc-faces import`, docs/import.md). Absent
  // means today's npc-faces behaviour, so existing models, checkpoints and goldens are unchanged. The tfjs and
  // onnxruntime trainers train the defaults only ({@link ImportOnlyOptions}); the ONNX exporter honours all.
  /**
   * Borders of the [1,3,3,1] resampling filter: `edgeClamp` (npc-faces: x[-1] := x[0], equals half-pixel bilinear
   * resizing) or `zeroPad` (NVIDIA's `upfirdn2d`: x[-1] := 0). Default `edgeClamp`.
   */
  readonly resampling?: ResamplingBorders;
  /**
   * How a block's first conv up-samples: `resizeThenConv` (npc-faces: filtered 2x up-sampling, then the 3x3 conv)
   * or `transposedConv` (NVIDIA/rosinality: 3x3 transposed conv at stride 2, then the [1,3,3,1] filter with zero
   * borders; needs `resampling: "zeroPad"`). Default `resizeThenConv`.
   */
  readonly upsampleConv?: UpsampleConvOrder;
  /** NVIDIA's `conv_clamp`: conv and toRGB outputs are clamped to ±convClamp (after bias and activation). Default none. */
  readonly convClamp?: number;
  /**
   * Synthesis variant (NVIDIA's `architecture`): `skip` (a toRGB per block, images summed), `resnet` (1x1 up-sampled
   * skip connections between blocks, one toRGB at the end) or `orig` (one toRGB at the end). Default `skip`.
   */
  readonly synthesis?: SynthesisVariant;
  /**
   * Per-layer noise: `seeded` (graph inputs `noise{i}` that the runtime fills from the seed) or `constant` (the
   * source file's fixed noise maps, stored as `noise_const` parameters and baked into the graph). Default `seeded`.
   */
  readonly noise?: NoiseSource;
}

/** See {@link GeneratorConfig.resampling}. */
export type ResamplingBorders = "edgeClamp" | "zeroPad";
/** See {@link GeneratorConfig.upsampleConv}. */
export type UpsampleConvOrder = "resizeThenConv" | "transposedConv";
/** See {@link GeneratorConfig.synthesis}. */
export type SynthesisVariant = "skip" | "resnet" | "orig";
/** See {@link GeneratorConfig.noise}. */
export type NoiseSource = "seeded" | "constant";

/** The options of a configuration that only imported generators use (empty for every npc-faces preset). */
export function ImportOnlyOptions(config: GeneratorConfig): string[] {
  const found: string[] = [];
  if ((config.resampling ?? "edgeClamp") !== "edgeClamp") found.push(`resampling ${config.resampling}`);
  if ((config.upsampleConv ?? "resizeThenConv") !== "resizeThenConv") found.push(`upsampleConv ${config.upsampleConv}`);
  if (config.convClamp !== undefined) found.push(`convClamp ${config.convClamp}`);
  if ((config.synthesis ?? "skip") !== "skip") found.push(`synthesis ${config.synthesis}`);
  if ((config.noise ?? "seeded") !== "seeded") found.push(`noise ${config.noise}`);
  return found;
}

/** Named presets. `paper256` follows NVIDIA's StyleGAN2-ADA `paper256` (cbase 16384, cmax 512, 8 mapping layers). */
export const GeneratorPresets = {
  /** For tests: 16x16, a few thousand parameters per layer. */
  tiny: { resolution: 16, zDim: 32, wDim: 32, labelDim: 0, mappingLayers: 2, mappingLrMultiplier: 0.01, channelBase: 256, channelMax: 32 },
  /** For tests: tiny with 32 channels at 16x16 instead of 16 (a preset a tiny run can grow into). */
  tinyfine: { resolution: 16, zDim: 32, wDim: 32, labelDim: 0, mappingLayers: 2, mappingLrMultiplier: 0.01, channelBase: 256, channelMax: 32, channelMin: 32 },
  /**
   * npc-faces 0.1's default model's preset: 64x64 with a quarter of game64's channels (256 at 4x4 down to 16 at
   * 64x64) and a 4-layer mapping network, sized so that CPU-only training reaches usable faces in hours and a face
   * costs ~2 ms at run time.
   */
  npc64: { resolution: 64, zDim: 256, wDim: 256, labelDim: 0, mappingLayers: 4, mappingLrMultiplier: 0.01, channelBase: 1024, channelMax: 256 },
  /**
   * The bundled default model's preset (models/default.onnx): npc64 with twice its channels below 4x4 (32 at 64x64,
   * 64 at 32x32, 128 at 16x16, 256 at 8x8; npc64's 16-32 at the fine layers drew few eye and mouth styles). 0.85
   * GFLOP a face: at batch 8 on onnxruntime-node ~150 faces/s on a 2-core AMD EPYC without AVX-512, 236 on a 2-core
   * Intel Xeon with AVX-512 (README "Performance").
   */
  npc64wide: { resolution: 64, zDim: 256, wDim: 256, labelDim: 0, mappingLayers: 4, mappingLrMultiplier: 0.01, channelBase: 2048, channelMax: 256 },
  /**
   * npc64wide with 64 channels at 64x64 instead of 32 (its other layers the same), for the glasses, long hair and
   * eyes npc64wide draws least cleanly; 1.4x its FLOPs a face. An npc64wide run grows into it on resume
   * (`train --resume-from … --preset npc64fine`, docs/training.md "Growing a run's channels").
   */
  npc64fine: { resolution: 64, zDim: 256, wDim: 256, labelDim: 0, mappingLayers: 4, mappingLrMultiplier: 0.01, channelBase: 2048, channelMax: 256, channelMin: 64 },
  /**
   * 128x128 with the channels of npc64wide at every resolution it shares and 16 at 128x128: npc64's channels at every
   * feature scale relative to the face. 1.08 GFLOP a face: at batch 8 on onnxruntime-node 83-89 faces/s on a 2-core
   * AMD EPYC without AVX-512, short of the 100 a default model must reach there, 130 on a 2-core Intel Xeon with
   * AVX-512; ~16 kimg an hour of training on onnxruntime (models/README.md, "Why 64x64").
   */
  npc128: { resolution: 128, zDim: 256, wDim: 256, labelDim: 0, mappingLayers: 4, mappingLrMultiplier: 0.01, channelBase: 2048, channelMax: 256 },
  /** 64x64 game preset; channel budget as NVIDIA's 64x64 CPU reference (channel_base 2048). */
  game64: { resolution: 64, zDim: 256, wDim: 256, labelDim: 0, mappingLayers: 8, mappingLrMultiplier: 0.01, channelBase: 2048, channelMax: 512 },
  /** 128x128 game preset. */
  game128: { resolution: 128, zDim: 256, wDim: 256, labelDim: 0, mappingLayers: 8, mappingLrMultiplier: 0.01, channelBase: 4096, channelMax: 256 },
  /** NVIDIA StyleGAN2-ADA `paper256`. */
  paper256: { resolution: 256, zDim: 512, wDim: 512, labelDim: 0, mappingLayers: 8, mappingLrMultiplier: 0.01, channelBase: 16384, channelMax: 512 },
} as const satisfies Record<string, GeneratorConfig>;

export type GeneratorPresetName = keyof typeof GeneratorPresets;

/** Looks up a preset by name, with a message that lists the known ones. */
export function GetGeneratorPreset(name: string): GeneratorConfig {
  const preset = (GeneratorPresets as Record<string, GeneratorConfig>)[name];
  if (!preset) {
    throw new Error(`unknown preset "${name}" (known: ${Object.keys(GeneratorPresets).join(", ")})`);
  }
  return preset;
}

/** Checks a configuration and throws a message naming the first bad field. */
export function ValidateGeneratorConfig(config: GeneratorConfig): void {
  const r = config.resolution;
  if (!Number.isInteger(r) || r < 8 || r > 1024 || (r & (r - 1)) !== 0) {
    throw new Error(`resolution must be a power of two in 8..1024, got ${r}`);
  }
  for (const key of ["zDim", "wDim", "mappingLayers", "channelBase", "channelMax"] as const) {
    if (!Number.isInteger(config[key]) || config[key] < 1) throw new Error(`${key} must be a positive integer, got ${config[key]}`);
  }
  if (config.channelMin !== undefined && !(Number.isInteger(config.channelMin) && config.channelMin >= 1 && config.channelMin <= config.channelMax)) {
    throw new Error(`channelMin must be an integer in 1..channelMax (${config.channelMax}), got ${config.channelMin}`);
  }
  if (!Number.isInteger(config.labelDim) || config.labelDim < 0) throw new Error(`labelDim must be a non-negative integer, got ${config.labelDim}`);
  if (!(config.mappingLrMultiplier > 0)) throw new Error(`mappingLrMultiplier must be positive, got ${config.mappingLrMultiplier}`);
  const oneOf = (key: string, value: string | undefined, allowed: readonly string[]): void => {
    if (value !== undefined && !allowed.includes(value)) throw new Error(`${key} must be one of ${allowed.join(", ")}, got "${value}"`);
  };
  oneOf("resampling", config.resampling, ["edgeClamp", "zeroPad"]);
  oneOf("upsampleConv", config.upsampleConv, ["resizeThenConv", "transposedConv"]);
  oneOf("synthesis", config.synthesis, ["skip", "resnet", "orig"]);
  oneOf("noise", config.noise, ["seeded", "constant"]);
  if (config.upsampleConv === "transposedConv" && config.resampling !== "zeroPad") {
    throw new Error('upsampleConv "transposedConv" needs resampling "zeroPad" (its filter has zero borders, as NVIDIA\'s)');
  }
  if (config.convClamp !== undefined && !(config.convClamp > 0 && Number.isFinite(config.convClamp))) {
    throw new Error(`convClamp must be a positive number, got ${config.convClamp}`);
  }
}

/** Channels of the feature maps at resolution `r`. */
export function ChannelsAt(config: GeneratorConfig, r: number): number {
  return Math.max(config.channelMin ?? 1, Math.min(Math.floor(config.channelBase / r), config.channelMax));
}

/** Block resolutions 4, 8, ..., resolution. */
export function BlockResolutions(config: GeneratorConfig): number[] {
  const out: number[] = [];
  for (let r = 4; r <= config.resolution; r *= 2) out.push(r);
  return out;
}

/** One modulated layer of the synthesis network: a 3x3 conv or a 1x1 toRGB. */
export interface SynthesisLayerSpec {
  /** Parameter prefix, e.g. `synthesis.b8.conv0`. */
  readonly name: string;
  readonly kind: "conv" | "torgb";
  /** Resolution of the layer's output. */
  readonly resolution: number;
  readonly inChannels: number;
  readonly outChannels: number;
  /** True for the first conv of a block above 4x4 (2x filtered up-sampling before the conv). */
  readonly up: boolean;
  /** Index into the per-layer w vectors (`ws`). */
  readonly wIndex: number;
  /** Index of this layer's noise input (convs only), else -1. */
  readonly noiseIndex: number;
}

/** The synthesis layers in execution order, with their w and noise indices (as stylegan2-ada's skip generator). */
export function SynthesisLayers(config: GeneratorConfig): SynthesisLayerSpec[] {
  const layers: SynthesisLayerSpec[] = [];
  let wIndex = 0;
  let noiseIndex = 0;
  for (const r of BlockResolutions(config)) {
    const cOut = ChannelsAt(config, r);
    const cIn = r === 4 ? cOut : ChannelsAt(config, r / 2);
    if (r > 4) {
      layers.push({ name: `synthesis.b${r}.conv0`, kind: "conv", resolution: r, inChannels: cIn, outChannels: cOut, up: true, wIndex: wIndex++, noiseIndex: noiseIndex++ });
    }
    layers.push({ name: `synthesis.b${r}.conv1`, kind: "conv", resolution: r, inChannels: r === 4 ? cIn : cOut, outChannels: cOut, up: false, wIndex: wIndex++, noiseIndex: noiseIndex++ });
    // resnet and orig have one toRGB, after the last block.
    if ((config.synthesis ?? "skip") !== "skip" && r !== config.resolution) continue;
    // toRGB shares its w with the next block's conv0 (stylegan2-ada: num_conv + num_torgb, torgb not counted twice).
    layers.push({ name: `synthesis.b${r}.torgb`, kind: "torgb", resolution: r, inChannels: cOut, outChannels: 3, up: false, wIndex, noiseIndex: -1 });
  }
  return layers;
}

/** Number of per-layer w vectors the synthesis network consumes (`2 * log2(resolution) - 2`). */
export function NumWs(config: GeneratorConfig): number {
  return 2 * Math.log2(config.resolution) - 2;
}

/** Resolutions of the noise inputs in order (`noise0`, `noise1`, ...). */
export function NoiseResolutions(config: GeneratorConfig): number[] {
  return SynthesisLayers(config)
    .filter((l) => l.kind === "conv")
    .map((l) => l.resolution);
}

/** How a parameter is initialised; `scale` is applied to the drawn value. */
export type ParameterInit =
  | { readonly kind: "normal"; readonly scale: number }
  | { readonly kind: "constant"; readonly value: number };

/**
 * One stored parameter. Stored values are the raw (equalised learning rate) parameters; the network uses
 * `stored * gain`. The exporter bakes the gain into the ONNX initializers.
 */
export interface ParameterSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly init: ParameterInit;
  /** Runtime multiplier (equalised learning rate: `lrMultiplier / sqrt(fanIn)` for weights, `lrMultiplier` for biases). */
  readonly gain: number;
  /** Learning-rate multiplier folded into `gain` (mapping network: `mappingLrMultiplier`). */
  readonly lrMultiplier: number;
  /** False for tracked statistics (w_avg) that the optimiser must not touch. */
  readonly trainable: boolean;
}

/**
 * Every generator parameter, in a fixed order. Shapes are tfjs layouts:
 * FC weights `[in, out]`, conv weights `[kh, kw, in, out]`, the constant `[4, 4, C]`.
 */
export function GeneratorParameterSpecs(config: GeneratorConfig): ParameterSpec[] {
  ValidateGeneratorConfig(config);
  const specs: ParameterSpec[] = [];
  const lr = config.mappingLrMultiplier;
  const fc = (name: string, fanIn: number, fanOut: number, lrMul: number, biasInit: number) => {
    specs.push({ name: `${name}.weight`, shape: [fanIn, fanOut], init: { kind: "normal", scale: 1 / lrMul }, gain: lrMul / Math.sqrt(fanIn), lrMultiplier: lrMul, trainable: true });
    specs.push({ name: `${name}.bias`, shape: [fanOut], init: { kind: "constant", value: biasInit / lrMul }, gain: lrMul, lrMultiplier: lrMul, trainable: true });
  };
  if (config.labelDim > 0) fc("mapping.embed", config.labelDim, config.wDim, 1, 0);
  const mappingIn = config.zDim + (config.labelDim > 0 ? config.wDim : 0);
  for (let i = 0; i < config.mappingLayers; i++) fc(`mapping.fc${i}`, i === 0 ? mappingIn : config.wDim, config.wDim, lr, 0);
  specs.push({ name: "mapping.w_avg", shape: [config.wDim], init: { kind: "constant", value: 0 }, gain: 1, lrMultiplier: 1, trainable: false });

  const c4 = ChannelsAt(config, 4);
  specs.push({ name: "synthesis.b4.const", shape: [4, 4, c4], init: { kind: "normal", scale: 1 }, gain: 1, lrMultiplier: 1, trainable: true });
  for (const layer of SynthesisLayers(config)) {
    // resnet: the block's skip connection, a 1x1 conv without bias after filtered up-sampling (NVIDIA `skip`).
    if (config.synthesis === "resnet" && layer.up) {
      specs.push({ name: `synthesis.b${layer.resolution}.skip.weight`, shape: [1, 1, layer.inChannels, layer.outChannels], init: { kind: "normal", scale: 1 }, gain: 1 / Math.sqrt(layer.inChannels), lrMultiplier: 1, trainable: true });
    }
    // Style affine: w -> per-input-channel scales, bias initialised to 1 (stylegan2-ada `bias_init=1`).
    fc(`${layer.name}.affine`, config.wDim, layer.inChannels, 1, 1);
    const k = layer.kind === "conv" ? 3 : 1;
    specs.push({ name: `${layer.name}.weight`, shape: [k, k, layer.inChannels, layer.outChannels], init: { kind: "normal", scale: 1 }, gain: 1 / Math.sqrt(layer.inChannels * k * k), lrMultiplier: 1, trainable: true });
    specs.push({ name: `${layer.name}.bias`, shape: [layer.outChannels], init: { kind: "constant", value: 0 }, gain: 1, lrMultiplier: 1, trainable: true });
    if (layer.kind === "conv") {
      specs.push({ name: `${layer.name}.noise_strength`, shape: [], init: { kind: "constant", value: 0 }, gain: 1, lrMultiplier: 1, trainable: true });
      if (config.noise === "constant") {
        specs.push({ name: `${layer.name}.noise_const`, shape: [layer.resolution, layer.resolution], init: { kind: "normal", scale: 1 }, gain: 1, lrMultiplier: 1, trainable: false });
      }
    }
  }
  return specs;
}

/** Stored generator parameters by name (raw values, before `gain`), shapes as in {@link GeneratorParameterSpecs}. */
export type GeneratorWeights = Map<string, Float32Array>;

/** Number of trainable values. */
export function CountParameters(config: GeneratorConfig): number {
  return GeneratorParameterSpecs(config)
    .filter((s) => s.trainable)
    .reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1), 0);
}

/** Multiply-accumulate count x 2 (FLOP) of one face through mapping (both latents) and synthesis, convs and FCs only. */
export function GeneratorFlopsPerFace(config: GeneratorConfig): number {
  let flops = 0;
  const mappingIn = config.zDim + (config.labelDim > 0 ? config.wDim : 0);
  for (let i = 0; i < config.mappingLayers; i++) flops += 2 * 2 * (i === 0 ? mappingIn : config.wDim) * config.wDim;
  for (const layer of SynthesisLayers(config)) {
    const k = layer.kind === "conv" ? 9 : 1;
    flops += 2 * config.wDim * layer.inChannels; // affine
    flops += 2 * k * layer.inChannels * layer.outChannels * layer.resolution * layer.resolution;
  }
  return flops;
}
