/**
 * Real npc-faces models for runtime tests, built with the trainer's exporter from the `tiny` preset (16x16) and
 * deterministic initial weights. Built once per test process and cached.
 */
import {
  EstimateWAvg,
  ExportGeneratorOnnx,
  GeneratorParameterSpecs,
  GeneratorPresets,
  InitializeGeneratorWeights,
  InitializeTfjsBackendAsync,
  UnsupervisedControls,
  type GeneratorConfig,
  type GeneratorWeights,
} from "@npc-faces/trainer";

/** Options of {@link TinyModelAsync}. */
export interface TinyModelOptions {
  /** Number of SeFa controls `direction_0`, ... (default 2). */
  readonly controls?: number;
  /** A conditional model with attributes `hair` (3 values) and `glasses` (scalar), labelDim 4. */
  readonly conditional?: boolean;
  /** Weight initialisation seed (default 1). */
  readonly seed?: number;
}

const cache = new Map<string, Promise<Uint8Array>>();

/** The bytes of a `tiny`-preset model (cached per options). */
export function TinyModelAsync(options: TinyModelOptions = {}): Promise<Uint8Array> {
  const key = JSON.stringify([options.controls ?? 2, options.conditional ?? false, options.seed ?? 1]);
  let model = cache.get(key);
  if (!model) {
    model = BuildTinyModelAsync(options);
    cache.set(key, model);
  }
  return model;
}

async function BuildTinyModelAsync(options: TinyModelOptions): Promise<Uint8Array> {
  // EstimateWAvg runs the mapping network on tfjs; the pure-JS backend needs no binaries.
  await InitializeTfjsBackendAsync("cpu");
  const config: GeneratorConfig = options.conditional ? { ...GeneratorPresets.tiny, labelDim: 4 } : GeneratorPresets.tiny;
  const weights = ActiveWeights(config, options.seed ?? 1);
  weights.set("mapping.w_avg", EstimateWAvg(config, weights, 256));
  const controls = UnsupervisedControls(config, weights, options.controls ?? 2, { samples: 64 });
  return ExportGeneratorOnnx({
    config,
    weights,
    name: options.conditional ? "tiny-conditional-test" : "tiny-test",
    controls,
    labels: options.conditional
      ? [
          { name: "hair", offset: 0, values: ["black", "brown", "blond"], default: [0.5, 0.3, 0.2] },
          { name: "glasses", offset: 3, values: ["yes"], default: [0.1] },
        ]
      : [],
    defaults: { psi: 0.7, noiseStrength: 1 },
    provenance: { trained: false, licenses: [], credits: [], kimg: 0, tool: "runtime tests" },
  });
}

/**
 * Initial weights with non-zero per-layer noise strengths: StyleGAN initialises them at 0, which would make
 * `noise_strength` and the noise inputs have no effect in an untrained model.
 */
function ActiveWeights(config: GeneratorConfig, seed: number): GeneratorWeights {
  const weights = InitializeGeneratorWeights(config, seed);
  const noiseSpecs = GeneratorParameterSpecs(config).filter((s) => s.name.endsWith(".noise_strength"));
  if (noiseSpecs.length === 0) throw new Error("testModels: no *.noise_strength parameters; the trainer's parameter names changed");
  for (const spec of noiseSpecs) weights.get(spec.name)!.fill(0.3 / spec.gain);
  return weights;
}
