/**
 * rosinality's `Generator` state dict (stylegan2-pytorch model.py) -> an npc-faces configuration and weights.
 * Its network computes what NVIDIA's skip generator computes (docs/import.md): `PixelNorm` + `EqualLinear`
 * mapping (weight·lr/√in, bias·lr, lrelu·√2), modulated convs with demodulation, the up-sampling conv as a 3x3
 * transposed conv at stride 2 followed by its `Blur` ([1,3,3,1] x 4, zero padding 1), `NoiseInjection` (weight·noise)
 * and `FusedLeakyReLU` (bias, lrelu·√2), toRGB with bias and `Upsample` (the same filter, pad 2/1). The mapping's
 * `lr_mlp` is not in the state dict: its default 0.01 (what train.py uses) is assumed.
 */
import type { GeneratorConfig, GeneratorWeights, NoiseSource } from "@npc-faces/trainer";
import { ChwToHwc, FcToInOut, FitChannelBudget, OihwToHwio, type ImportedGenerator } from "./importedGenerator.js";
import type { RosinalityCheckpoint } from "./rosinalityCheckpoint.js";
import { TensorToFloat32, type TorchTensor } from "./torchTensors.js";

/** rosinality's default mapping learning-rate multiplier (`lr_mlp`). */
export const RosinalityMappingLr = 0.01;

/** Options of {@link RosinalityGeneratorToNpcFaces}. */
export interface RosinalityImportOptions {
  readonly noise: NoiseSource;
}

/** Reads rosinality's `g_ema`. Throws a one-line message naming the first missing or mis-shaped tensor. */
export function RosinalityGeneratorToNpcFaces(checkpoint: RosinalityCheckpoint, options: RosinalityImportOptions): ImportedGenerator {
  const { stateDict, generatorKey } = checkpoint;
  const fail = (message: string): never => {
    throw new Error(`${generatorKey}: ${message}`);
  };
  const tensor = (key: string, shape?: readonly number[]): TorchTensor => {
    const t = stateDict.get(key);
    if (!t) return fail(`no tensor "${key}" (not a rosinality stylegan2 generator?)`);
    if (shape && (t.shape.length !== shape.length || t.shape.some((n, i) => n !== shape[i]))) fail(`"${key}" has shape [${t.shape.join(", ")}], expected [${shape.join(", ")}]`);
    return t;
  };
  const values = (key: string, shape?: readonly number[]): Float32Array => TensorToFloat32(tensor(key, shape));
  const weights: GeneratorWeights = new Map();

  // ---- mapping: style.0 is PixelNorm; style.1..n are EqualLinear with fused lrelu.
  let mappingLayers = 0;
  while (stateDict.has(`style.${mappingLayers + 1}.weight`)) mappingLayers++;
  if (mappingLayers === 0) fail('no mapping layers ("style.1.weight")');
  const styleDim = tensor("style.1.weight").shape[1];
  for (let i = 0; i < mappingLayers; i++) {
    weights.set(`mapping.fc${i}.weight`, FcToInOut(values(`style.${i + 1}.weight`, [styleDim, styleDim]), styleDim, styleDim));
    weights.set(`mapping.fc${i}.bias`, values(`style.${i + 1}.bias`, [styleDim]));
  }
  if (checkpoint.latentAvg) {
    if (checkpoint.latentAvg.length !== styleDim) fail(`latent_avg has ${checkpoint.latentAvg.length} values, expected ${styleDim}`);
    weights.set("mapping.w_avg", checkpoint.latentAvg);
  } else {
    weights.set("mapping.w_avg", new Float32Array(styleDim)); // estimated by the caller
  }

  // ---- synthesis
  let upConvs = 0;
  while (stateDict.has(`convs.${2 * upConvs}.conv.weight`)) upConvs++;
  const resolution = 4 * 2 ** upConvs;
  if (resolution < 8 || resolution > 1024) fail(`resolution ${resolution} px (8..1024 are imported)`);
  const channels = new Map<number, number>([[4, tensor("input.input").shape[1]]]);
  for (let i = 0; i < upConvs; i++) channels.set(8 * 2 ** i, tensor(`convs.${2 * i}.conv.weight`).shape[1]);
  const budget = FitChannelBudget(channels, { base: 32768, max: 512 });
  const c4 = channels.get(4)!;
  weights.set("synthesis.b4.const", ChwToHwc(values("input.input", [1, c4, 4, 4]), c4, 4, 4));

  const blurTaps = [1, 3, 3, 1];
  const checkFilter = (key: string): void => {
    const v = values(key, [4, 4]);
    // make_kernel([1,3,3,1]) * 2^2: the normalised outer product times the up-sampling gain 4.
    if (!v.every((x, i) => Math.abs(x - (blurTaps[Math.floor(i / 4)] * blurTaps[i % 4]) / 16) < 1e-7)) fail(`"${key}" is not the [1, 3, 3, 1] filter`);
  };
  let noiseIndex = 0;
  const conv = (prefix: string, name: string, cin: number, cout: number, r: number, up: boolean): void => {
    weights.set(`${name}.affine.weight`, FcToInOut(values(`${prefix}.conv.modulation.weight`, [cin, styleDim]), cin, styleDim));
    weights.set(`${name}.affine.bias`, values(`${prefix}.conv.modulation.bias`, [cin]));
    weights.set(`${name}.weight`, OihwToHwio(values(`${prefix}.conv.weight`, [1, cout, cin, 3, 3]), cout, cin, 3));
    weights.set(`${name}.bias`, values(`${prefix}.activate.bias`, [cout]));
    weights.set(`${name}.noise_strength`, values(`${prefix}.noise.weight`, [1]));
    if (up) checkFilter(`${prefix}.conv.blur.kernel`);
    if (options.noise === "constant") weights.set(`${name}.noise_const`, values(`noises.noise_${noiseIndex}`, [1, 1, r, r]));
    noiseIndex++;
  };
  const toRgb = (prefix: string, name: string, cin: number, up: boolean): void => {
    weights.set(`${name}.affine.weight`, FcToInOut(values(`${prefix}.conv.modulation.weight`, [cin, styleDim]), cin, styleDim));
    weights.set(`${name}.affine.bias`, values(`${prefix}.conv.modulation.bias`, [cin]));
    weights.set(`${name}.weight`, OihwToHwio(values(`${prefix}.conv.weight`, [1, 3, cin, 1, 1]), 3, cin, 1));
    weights.set(`${name}.bias`, values(`${prefix}.bias`, [1, 3, 1, 1]));
    if (up) checkFilter(`${prefix}.upsample.kernel`);
  };
  conv("conv1", "synthesis.b4.conv1", c4, c4, 4, false);
  toRgb("to_rgb1", "synthesis.b4.torgb", c4, false);
  for (let i = 0; i < upConvs; i++) {
    const r = 8 * 2 ** i;
    const cin = channels.get(r / 2)!;
    const cout = channels.get(r)!;
    conv(`convs.${2 * i}`, `synthesis.b${r}.conv0`, cin, cout, r, true);
    conv(`convs.${2 * i + 1}`, `synthesis.b${r}.conv1`, cout, cout, r, false);
    toRgb(`to_rgbs.${i}`, `synthesis.b${r}.torgb`, cout, true);
  }

  const config: GeneratorConfig = {
    resolution,
    zDim: styleDim,
    wDim: styleDim,
    labelDim: 0,
    mappingLayers,
    mappingLrMultiplier: RosinalityMappingLr,
    channelBase: budget.channelBase,
    channelMax: budget.channelMax,
    resampling: "zeroPad",
    upsampleConv: "transposedConv",
    synthesis: "skip",
    noise: options.noise,
  };
  return {
    format: "rosinality-pt",
    config,
    weights,
    generatorKey,
    wAvgRecorded: checkpoint.latentAvg !== undefined,
    notes: [`lr_mlp ${RosinalityMappingLr} assumed`],
  };
}
