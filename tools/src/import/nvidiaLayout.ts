/**
 * NVIDIA's `Generator` (stylegan2-ada-pytorch training/networks.py) -> an npc-faces configuration and weights.
 * Parameter names already match (the project's names follow NVIDIA's); the work is reading the architecture from
 * the pickled attributes, checking that the network is one the exporter reproduces exactly, and converting
 * layouts. Semantics carried over (docs/import.md): zero-bordered `upfirdn2d` resampling, the transposed-conv
 * up-sampling order, `conv_clamp`, skip/resnet/orig, mapping depth and learning-rate multiplier, `w_avg`,
 * conditional labels, and the `noise_const` buffers.
 */
import type { GeneratorConfig, GeneratorWeights, NoiseSource, SynthesisVariant } from "@npc-faces/trainer";
import { ChwToHwc, FcToInOut, FitChannelBudget, OihwToHwio, type ImportedGenerator } from "./importedGenerator.js";
import type { NvidiaModule } from "./nvidiaPickle.js";
import { PyDict } from "./pythonValues.js";
import { TensorToFloat32, type TorchTensor } from "./torchTensors.js";

/** Options of {@link NvidiaGeneratorToNpcFaces}. */
export interface NvidiaImportOptions {
  readonly noise: NoiseSource;
}

/** Reads NVIDIA's `G_ema` module tree. Throws a one-line message naming the first unsupported feature. */
export function NvidiaGeneratorToNpcFaces(g: NvidiaModule, generatorKey: string, options: NvidiaImportOptions): ImportedGenerator {
  const weights: GeneratorWeights = new Map();
  const notes: string[] = [];
  const fail = (message: string): never => {
    throw new Error(`${generatorKey}: ${message}`);
  };
  const shapeOf = (t: TorchTensor, expected: readonly number[], what: string): void => {
    if (t.shape.length !== expected.length || t.shape.some((n, i) => n !== expected[i])) fail(`${what} has shape [${t.shape.join(", ")}], expected [${expected.join(", ")}]`);
  };
  const put = (name: string, values: Float32Array): void => {
    weights.set(name, values);
  };

  const zDim = g.number("z_dim");
  const cDim = g.number("c_dim");
  const wDim = g.number("w_dim");
  const resolution = g.number("img_resolution");
  if (g.number("img_channels") !== 3) fail(`img_channels ${g.number("img_channels")} (only RGB generators are imported)`);
  if (!(resolution >= 8 && resolution <= 1024 && (resolution & (resolution - 1)) === 0)) fail(`img_resolution ${resolution} (a power of two in 8..1024 is required)`);

  // ---- mapping
  const mapping = g.module("mapping");
  if (mapping.className !== "MappingNetwork") fail(`mapping is an unknown class "${mapping.className}"`);
  const mappingLayers = mapping.number("num_layers");
  const fc = (module: NvidiaModule, name: string, inFeatures: number, outFeatures: number, activation: string): number => {
    if (module.className !== "FullyConnectedLayer") fail(`${module.path} is an unknown class "${module.className}"`);
    if (module.attribute("activation") !== activation) fail(`${module.path}: activation "${String(module.attribute("activation"))}", expected "${activation}"`);
    const w = module.tensor("weight");
    shapeOf(w, [outFeatures, inFeatures], `${module.path}.weight`);
    const b = module.tensorOrUndefined("bias");
    if (!b) fail(`${module.path}: no bias`);
    shapeOf(b!, [outFeatures], `${module.path}.bias`);
    put(`${name}.weight`, FcToInOut(TensorToFloat32(w), outFeatures, inFeatures));
    put(`${name}.bias`, TensorToFloat32(b!));
    const lr = module.number("bias_gain");
    // weight_gain must be lr / sqrt(fan_in), the equalised learning rate the exporter applies.
    if (Math.abs(module.number("weight_gain") - lr / Math.sqrt(inFeatures)) > 1e-9 * lr) fail(`${module.path}: weight gain is not lr_multiplier / sqrt(in_features)`);
    return lr;
  };
  if (cDim > 0) {
    const embedLr = fc(mapping.module("embed"), "mapping.embed", cDim, wDim, "linear");
    if (embedLr !== 1) fail(`mapping.embed: lr_multiplier ${embedLr} (1 expected)`);
  }
  let mappingLr = 0;
  for (let i = 0; i < mappingLayers; i++) {
    const lr = fc(mapping.module(`fc${i}`), `mapping.fc${i}`, i === 0 ? zDim + (cDim > 0 ? wDim : 0) : wDim, wDim, "lrelu");
    if (i > 0 && lr !== mappingLr) fail("mapping layers with different lr_multiplier");
    mappingLr = lr;
  }
  const wAvg = mapping.tensor("w_avg");
  shapeOf(wAvg, [wDim], "mapping.w_avg");
  put("mapping.w_avg", TensorToFloat32(wAvg));

  // ---- synthesis
  const synthesis = g.module("synthesis");
  if (synthesis.className !== "SynthesisNetwork") fail(`synthesis is an unknown class "${synthesis.className}"`);
  if (!synthesis.child("b4") && synthesis.attribute("layer_names") !== undefined) fail("a StyleGAN3 generator (alias-free layers); only StyleGAN2 generators are imported");
  const channels = new Map<number, number>();
  let architecture: SynthesisVariant | undefined;
  let convClamp: number | null | undefined;
  const fp16: number[] = [];
  for (let r = 4; r <= resolution; r *= 2) {
    const block = synthesis.module(`b${r}`);
    if (block.className !== "SynthesisBlock") fail(`${block.path} is an unknown class "${block.className}"`);
    const arch = block.attribute("architecture");
    if (arch !== "skip" && arch !== "resnet" && arch !== "orig") fail(`${block.path}: architecture "${String(arch)}"`);
    if (architecture !== undefined && arch !== architecture) fail("blocks with different architectures");
    architecture = arch as SynthesisVariant;
    if (block.attribute("use_fp16") === true) fp16.push(r);
    channels.set(r, block.module("conv1").tensor("weight").shape[0]);
  }
  const budget = FitChannelBudget(channels, PreferredBudget(synthesis));
  const channelAt = (r: number): number => channels.get(r)!;
  for (let r = 4; r <= resolution; r *= 2) {
    const block = synthesis.module(`b${r}`);
    const cOut = channelAt(r);
    const cIn = r === 4 ? cOut : channelAt(r / 2);
    if (r === 4) {
      const constant = block.tensor("const");
      shapeOf(constant, [cOut, 4, 4], `${block.path}.const`);
      put("synthesis.b4.const", ChwToHwc(TensorToFloat32(constant), cOut, 4, 4));
    }
    const layer = (module: NvidiaModule, name: string, inCh: number, outCh: number, kind: "conv" | "torgb", up: boolean): void => {
      const expectedClass = kind === "conv" ? "SynthesisLayer" : "ToRGBLayer";
      if (module.className !== expectedClass) fail(`${module.path} is an unknown class "${module.className}"`);
      const clamp = module.attribute("conv_clamp");
      if (clamp !== null && typeof clamp !== "number") fail(`${module.path}: conv_clamp is not a number`);
      if (convClamp !== undefined && clamp !== convClamp) fail("layers with different conv_clamp");
      convClamp = clamp as number | null;
      const k = kind === "conv" ? 3 : 1;
      if (kind === "conv") {
        if (module.attribute("activation") !== "lrelu") fail(`${module.path}: activation "${String(module.attribute("activation"))}"`);
        if (module.number("up") !== (up ? 2 : 1)) fail(`${module.path}: up = ${module.number("up")}`);
        if (module.attribute("use_noise") !== true) fail(`${module.path}: use_noise = False (generators without noise inputs are not supported)`);
        CheckResampleFilter(module.tensor("resample_filter"), module.path, fail);
        const strength = module.tensor("noise_strength");
        shapeOf(strength, [], `${module.path}.noise_strength`);
        put(`${name}.noise_strength`, TensorToFloat32(strength));
        if (options.noise === "constant") {
          const noise = module.tensor("noise_const");
          shapeOf(noise, [r, r], `${module.path}.noise_const`);
          put(`${name}.noise_const`, TensorToFloat32(noise));
        }
      }
      fc(module.module("affine"), `${name}.affine`, wDim, inCh, "linear");
      const w = module.tensor("weight");
      shapeOf(w, [outCh, inCh, k, k], `${module.path}.weight`);
      put(`${name}.weight`, OihwToHwio(TensorToFloat32(w), outCh, inCh, k));
      const b = module.tensor("bias");
      shapeOf(b, [outCh], `${module.path}.bias`);
      put(`${name}.bias`, TensorToFloat32(b));
    };
    if (r > 4) layer(block.module("conv0"), `synthesis.b${r}.conv0`, cIn, cOut, "conv", true);
    layer(block.module("conv1"), `synthesis.b${r}.conv1`, cOut, cOut, "conv", false);
    const torgb = block.child("torgb");
    const wantsRgb = architecture === "skip" || r === resolution;
    if (Boolean(torgb) !== wantsRgb) fail(`${block.path}: ${torgb ? "unexpected" : "missing"} torgb`);
    if (torgb) layer(torgb, `synthesis.b${r}.torgb`, cOut, 3, "torgb", false);
    if (architecture === "resnet" && r > 4) {
      const skip = block.module("skip");
      if (skip.className !== "Conv2dLayer" || skip.tensorOrUndefined("bias") || skip.number("up") !== 2) fail(`${skip.path}: not a 1x1 up-sampling conv without bias`);
      CheckResampleFilter(skip.tensor("resample_filter"), skip.path, fail);
      const w = skip.tensor("weight");
      shapeOf(w, [cOut, cIn, 1, 1], `${skip.path}.weight`);
      if (Math.abs(skip.number("weight_gain") - 1 / Math.sqrt(cIn)) > 1e-9) fail(`${skip.path}: unexpected weight gain`);
      put(`synthesis.b${r}.skip.weight`, OihwToHwio(TensorToFloat32(w), cOut, cIn, 1));
    }
  }

  const config: GeneratorConfig = {
    resolution,
    zDim,
    wDim,
    labelDim: cDim,
    mappingLayers,
    mappingLrMultiplier: mappingLr,
    channelBase: budget.channelBase,
    channelMax: budget.channelMax,
    resampling: "zeroPad",
    upsampleConv: "transposedConv",
    ...(convClamp === null || convClamp === undefined ? {} : { convClamp }),
    synthesis: architecture!,
    noise: options.noise,
  };
  notes.push(`architecture ${architecture}`, `conv_clamp ${convClamp ?? "none"}`);
  if (fp16.length > 0) notes.push(`fp16 layers at ${fp16.join(", ")} px computed in float32 (NVIDIA's force_fp32)`);
  return { format: "nvidia-pkl", config, weights, generatorKey, wAvgRecorded: true, notes };
}

/** channel_base / channel_max as the pickled constructor arguments give them (NVIDIA's defaults 32768 / 512). */
function PreferredBudget(synthesis: NvidiaModule): { base: number; max: number } {
  const kwargs = synthesis.attribute("_init_kwargs");
  const read = (key: string, fallback: number): number => {
    const v = kwargs instanceof PyDict ? kwargs.get(key) : undefined;
    return typeof v === "number" ? v : fallback;
  };
  return { base: read("channel_base", 32768), max: read("channel_max", 512) };
}

/** NVIDIA's default filter, `setup_filter([1, 3, 3, 1])`: the normalised outer product (the one the exporter builds). */
function CheckResampleFilter(filter: TorchTensor, path: string, fail: (message: string) => never): void {
  const taps = [1, 3, 3, 1];
  const values = TensorToFloat32(filter);
  const ok = filter.shape.length === 2 && filter.shape[0] === 4 && filter.shape[1] === 4 && values.every((v, i) => Math.abs(v - (taps[Math.floor(i / 4)] * taps[i % 4]) / 64) < 1e-7);
  if (!ok) fail(`${path}: resample filter other than [1, 3, 3, 1]`);
}
