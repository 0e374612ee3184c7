/**
 * Training options (zod-validated) and the preset table, as stylegan2-ada's `--cfg`: a preset names the
 * generator architecture and the defaults that suit it; flags override single values.
 */
import { z } from "zod";
import { GeneratorPresets, type GeneratorConfig } from "../networks/architecture.js";
import { OrtDevices } from "../ortTraining/ortSessions.js";
import { type DiscriminatorSpecOptions, DiscriminatorConvDowns } from "../networks/discriminatorArchitecture.js";

/**
 * Decay of the path-length target (stylegan2-ada `pl_decay`): each Greg moves it 1% toward the batch's mean length,
 * and the penalty is taken against the moved target (so its gradient also flows through that mean, as there).
 */
export const PathLengthDecay = 0.01;

/** The training engines: tfjs (WASM, CPU, tfjs-node) and onnxruntime-node (CPU, WebGPU, CUDA). */
export const TrainingEngines = ["tfjs", "ort"] as const;
export type TrainingEngine = (typeof TrainingEngines)[number];

/** Backends the trainer can ask for. */
export const BackendChoices = ["auto", "gpu", "node", "wasm", "cpu"] as const;
export type BackendChoice = (typeof BackendChoices)[number];

/** Everything a run is configured by; stored in every checkpoint (so `--resume` needs no flags). */
export const TrainingOptionsSchema = z.object({
  /** Architecture preset (see GeneratorPresets). */
  preset: z.string(),
  /** Length of the run in thousands of real images shown to D. */
  kimg: z.number().positive(),
  /** Minibatch size (>= 2 for the minibatch standard deviation layer). */
  batch: z.number().int().min(2).max(4096),
  /** R1 weight; null = stylegan2-ada's heuristic 0.0002 * resolution^2 / batch. */
  gamma: z.number().min(0).nullable(),
  /** Adam learning rate of G and D (stylegan2-ada 0.0025). */
  learningRate: z.number().positive(),
  beta1: z.number().min(0).max(1),
  beta2: z.number().min(0).lt(1),
  /** Lazy R1: every `r1Interval` D steps. */
  r1Interval: z.number().int().positive(),
  /** Path-length weight (0 = off) and its lazy interval. */
  plWeight: z.number().min(0),
  plInterval: z.number().int().positive(),
  /**
   * Discriminator architecture (../networks/discriminatorArchitecture.ts): how conv1 down-samples, and the FC layers
   * of the conditional discriminator's label mapping. Checkpoints from before the options read as 0.1's D.
   */
  dConvDown: z.enum(DiscriminatorConvDowns).default("filterFirst"),
  dMappingLayers: z.number().int().min(0).max(16).default(0),
  /**
   * Weight of the label loss of conditional runs (0 = off, stylegan2-ada's projection alone): a head on D's last
   * hidden layer predicts the label vector, trained on reals; G is trained to make its fakes predicted as their
   * labels (AC-GAN's auxiliary classifier, one-vs-rest: Σ over label columns of the logistic loss, batch mean).
   * onnxruntime engine only. Checkpoints from before the option read as 0.
   */
  labelLoss: z.number().min(0).max(100).default(0),
  /** Probability of style mixing per minibatch. */
  styleMixing: z.number().min(0).max(1),
  /** EMA half-life in kimg (null = batch * 10 / 32) and ramp-up (null = none). */
  emaKimg: z.number().positive().nullable(),
  emaRampup: z.number().positive().nullable(),
  /** Train on the data set's labels (conditional model). */
  cond: z.boolean(),
  /** Progressive growing: start resolution, and kimg per fade-in and per stable phase. */
  progressive: z.boolean(),
  progressiveStart: z.union([z.literal(4), z.literal(8)]),
  progressiveKimg: z.number().positive(),
  /** Augmentation: adaptive (ADA) or none; ADA's target r_t and speed (kimg for p to go 0 -> 1). */
  aug: z.enum(["ada", "none"]),
  adaTarget: z.number().gt(0).lt(1),
  adaKimg: z.number().positive(),
  /** Images per progress tick (log line, sample grid), ticks per checkpoint. */
  tickKimg: z.number().positive(),
  snapshotTicks: z.number().int().positive(),
  /** Seed of initial weights and every training draw. */
  seed: z.number().int().min(0).max(0xffffffff),
  backend: z.enum(BackendChoices),
  /** Data-parallel worker threads of the tfjs engine on wasm/cpu (1 = train in this thread). */
  workers: z.number().int().min(1).max(64),
  /**
   * Training engine: tfjs (../training) or onnxruntime (../ortTraining). How a run is computed, not what it trains:
   * a run may switch on resume (checkpoints are the same). Checkpoints from before the option read as tfjs.
   */
  engine: z.enum(TrainingEngines).default("tfjs"),
  /** onnxruntime's execution provider (engine ort). */
  device: z.enum(OrtDevices).default("cpu"),
});

export type TrainingOptions = z.infer<typeof TrainingOptionsSchema>;

/** Defaults shared by every preset (stylegan2-ada values unless said otherwise). */
export const DefaultTrainingOptions: Omit<TrainingOptions, "preset"> = {
  kimg: 1000,
  batch: 8,
  gamma: null,
  learningRate: 0.0025,
  beta1: 0,
  beta2: 0.99,
  r1Interval: 16,
  plWeight: 2,
  plInterval: 4,
  dConvDown: "strided",
  dMappingLayers: 2,
  labelLoss: 0,
  styleMixing: 0.9,
  emaKimg: null,
  emaRampup: 0.05,
  cond: false,
  progressive: false,
  progressiveStart: 8,
  progressiveKimg: 100,
  aug: "ada",
  adaTarget: 0.6,
  adaKimg: 500,
  tickKimg: 4,
  snapshotTicks: 10,
  seed: 0,
  backend: "auto",
  workers: 1,
  engine: "tfjs",
  device: "cpu",
};

/** Per-preset overrides of {@link DefaultTrainingOptions}. */
export const TrainingPresetDefaults: Record<string, Partial<TrainingOptions>> = {
  tiny: { batch: 8, kimg: 10, tickKimg: 0.5 },
  tinyfine: { batch: 8, kimg: 10, tickKimg: 0.5 },
  game64: { batch: 8, kimg: 2000, workers: 2 },
  npc64: { batch: 8, kimg: 1000, workers: 2 },
  npc64wide: { batch: 8, kimg: 1000, workers: 2 },
  npc64fine: { batch: 8, kimg: 1000, workers: 2 },
  npc128: { batch: 8, kimg: 2000, workers: 2 },
  game128: { batch: 8, kimg: 3000, workers: 2 },
  paper256: { batch: 16, kimg: 25000, workers: 2 },
};

/** `values` without its undefined entries, so that spreading it over defaults keeps them (a flag not given). */
export function DefinedOptions<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Fills defaults (preset's, then global) under `given`, validates, and throws one readable line on failure. */
export function ResolveTrainingOptions(given: Partial<TrainingOptions> & { preset?: string }): TrainingOptions {
  const preset = given.preset ?? "game64";
  if (!(preset in GeneratorPresets)) throw new Error(`unknown preset "${preset}" (known: ${Object.keys(GeneratorPresets).join(", ")})`);
  const merged = { ...DefaultTrainingOptions, ...TrainingPresetDefaults[preset], ...DefinedOptions(given), preset };
  const parsed = TrainingOptionsSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`training option ${issue.path.join(".") || "?"}: ${issue.message}`);
  }
  CheckLabelLoss(parsed.data);
  return parsed.data;
}

/** The label loss needs labels and the engine that has it. */
export function CheckLabelLoss(options: TrainingOptions): void {
  if (options.labelLoss === 0) return;
  if (!options.cond) throw new Error("training option labelLoss (--label-loss): needs a conditional run (--cond)");
  if (options.engine !== "ort") throw new Error("training option labelLoss (--label-loss): only the onnxruntime engine (--engine ort) has the label loss");
}

/** The generator configuration of a run (the preset, made conditional with `labelDim` labels). */
export function TrainingGeneratorConfig(options: TrainingOptions, labelDim: number): GeneratorConfig {
  const base = (GeneratorPresets as Record<string, GeneratorConfig>)[options.preset];
  return { ...base, labelDim: options.cond ? labelDim : 0 };
}

/** The discriminator architecture a run's options name. */
export function DiscriminatorOptionsOf(options: TrainingOptions): DiscriminatorSpecOptions {
  return { progressive: options.progressive, convDown: options.dConvDown, mappingLayers: options.dMappingLayers, labelHead: options.labelLoss > 0 };
}

/** R1 weight actually used. */
export function EffectiveGamma(options: TrainingOptions, resolution: number): number {
  return options.gamma ?? (0.0002 * resolution * resolution) / options.batch;
}

/** EMA half-life actually used (kimg). */
export function EffectiveEmaKimg(options: TrainingOptions): number {
  return options.emaKimg ?? (options.batch * 10) / 32;
}
