/**
 * One StyleGAN2-ADA training run in tfjs (stylegan2-ada-pytorch `training_loop.py`): the networks, optimisers,
 * EMA, random state and counters, and the minibatch step with its phases
 *
 *   Gmain (every step), Greg (path length, every plInterval steps when plWeight > 0),
 *   Dmain (every step), Dreg (R1, every r1Interval steps when gamma > 0), then the EMA update.
 *
 * The same code runs on every tfjs backend; everything random comes from {@link TrainingRandom}, so a run
 * resumed from a checkpoint continues bit-identically on the same backend.
 */
import { access, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { tf } from "../backends/tfjsBackend.js";
import type { AugmentParams } from "../augment/augmentPipe.js";
import { type GeneratorConfig, NoiseResolutions, NumWs } from "../networks/architecture.js";
import { DiscriminatorNetwork, InitializeDiscriminatorWeights, type DiscriminatorWeights } from "../networks/discriminatorNetwork.js";
import { Down2x } from "../networks/filteredResampling.js";
import { GeneratorNetwork, type GrowthProgress } from "../networks/generatorNetwork.js";
import { InitializeGeneratorWeights } from "../networks/initializeGeneratorWeights.js";
import { AdamOptimizer, LazyRegularizationSettings, type AdamSettings, type AdamState } from "./adam.js";
import { EmaBeta, UpdateEma, WAvgBeta } from "./ema.js";
import { type AugmentFunction, DiscriminatorMainLoss, DiscriminatorScores, GeneratorMainLoss, PathLengthPenalty, R1Penalty } from "./losses.js";
import { CheckLabelLoss, DefinedOptions, DiscriminatorOptionsOf, EffectiveEmaKimg, EffectiveGamma, PathLengthDecay, TrainingGeneratorConfig, type TrainingOptions } from "./trainingOptions.js";
import { GrowChannels } from "./channelGrowth.js";
import { GrowLabelColumns } from "./labelColumnGrowth.js";
import { DrawFakeInputs, DrawPathLengthNoise, DrawRealBatch } from "./trainingDraws.js";
import { RandomPurpose, TrainingRandom, type RandomState } from "./trainingRandom.js";
import { ReadCheckpointAsync, WriteCheckpointAsync, WriteFileAtomicAsync, type CheckpointContents } from "./checkpoint.js";
import { GridSeeds, RenderSampleGridPng } from "./sampleGrid.js";
import { AppendTrainingLogAsync } from "./trainingLog.js";

/** The training images (all in memory) and their encoded labels. */
export interface TrainingData {
  readonly count: number;
  readonly resolution: number;
  /** count x R x R x 3 RGB bytes (NHWC). */
  readonly images: Uint8Array;
  /** Label columns (e.g. `hair=black`); empty for unlabelled data. */
  readonly labelNames: readonly string[];
  /** count x labelNames.length label values (one-hot per categorical attribute), or null. */
  readonly labels: Float32Array | null;
  /** Data-set identity for provenance (e.g. its content hash). */
  readonly id?: string;
  /** Identities the same data had in earlier formats (a checkpoint that records one was trained on this data). */
  readonly formerIds?: readonly string[];
}

/**
 * Augmentation plugged into the loop (ADA lives in ../augment; this is the seam). `augment` runs inside
 * gradient computations; `update` sees the sign of D's real scores after each D step.
 */
export interface TrainingAugmentation {
  /** Current augmentation probability. */
  readonly p: number;
  /** Augments a batch (differentiably); `seed` is a fresh draw per call. */
  augment(images: tf.Tensor4D, seed: number): tf.Tensor4D;
  /** The parameters `augment` would apply to `batch` images of `size`² pixels with `seed` (engines that apply them themselves). */
  sampleParams?(batch: number, size: number, seed: number): AugmentParams;
  /** Feeds the sign of D(real) for one minibatch of `batch` images. */
  update(realSignSum: number, batch: number): void;
  /** JSON-safe state for checkpoints. */
  toJSON(): unknown;
}

/**
 * Progressive growing schedule (`--progressive`): with u = imagesSeen / (progressiveKimg * 1000), the run trains
 * at `progressiveStart` for u in [0, 1), then for every doubling fades the next resolution in over one unit
 * (alpha 0 -> 1) and trains it stable for one unit, until the full resolution (undefined: no growing). A pure
 * function of the image count and the options, both in the checkpoint, so resume continues exactly.
 */
export function ProgressiveGrowth(options: TrainingOptions, finalResolution: number, imagesSeen: number): GrowthProgress | undefined {
  if (!options.progressive) return undefined;
  let t = imagesSeen / (options.progressiveKimg * 1000);
  let resolution = Math.min(options.progressiveStart, finalResolution);
  if (t < 1 && resolution < finalResolution) return { resolution, alpha: 1 };
  t -= 1;
  while (resolution < finalResolution) {
    if (t < 1) return { resolution: resolution * 2, alpha: t };
    t -= 1;
    resolution *= 2;
    if (t < 1 && resolution < finalResolution) return { resolution, alpha: 1 };
    t -= 1;
  }
  return undefined;
}

/** Losses and statistics of one step (regularisers are null on steps that skip them). */
export interface StepStats {
  readonly lossG: number;
  readonly lossD: number;
  readonly r1: number | null;
  readonly pathLength: number | null;
  /** Mean sign of D(real) (ADA's r_t). */
  readonly realSign: number;
  readonly augmentP: number;
  /** Progressive growing: the resolution trained and the fade-in alpha of this step (absent when not growing). */
  readonly growth?: GrowthProgress;
}

/** Thrown when a loss becomes NaN or infinite; the loop stops and keeps the last good checkpoint. */
export class TrainingDivergedError extends Error {
  constructor(what: string, kimg: number) {
    super(`training diverged: ${what} is not finite at ${kimg.toFixed(3)} kimg; stopping (the last checkpoint is kept; try a lower --gamma or learning rate, or resume from it)`);
    this.name = "TrainingDivergedError";
  }
}

/**
 * One of `count` data-parallel replicas (worker threads, see parallelTraining.ts). Every replica holds the whole
 * state and draws the whole minibatch's random inputs (so all random streams stay in step), computes its phase
 * losses on its slice of the batch (`batch / count` images, scaled by 1 / count), and `allReduce` sums the
 * flattened gradients and statistics over replicas in a fixed order, so every replica applies the identical
 * Adam update and stays bit-identical to the others.
 */
export interface TrainingShard {
  readonly index: number;
  readonly count: number;
  /** Element-wise sum over all replicas of `values` (same length in each), identical in every replica. */
  allReduce(values: Float32Array): Float32Array;
}

/** Everything a checkpoint holds besides the options and the data identity. */
export interface TrainingStateSnapshot {
  readonly imagesSeen: number;
  readonly step: number;
  readonly plMean: number;
  readonly random: RandomState;
  readonly augment: unknown;
  readonly generator: Map<string, Float32Array>;
  readonly generatorEma: Map<string, Float32Array>;
  readonly discriminator: DiscriminatorWeights;
  readonly adamG: AdamState;
  readonly adamD: AdamState;
}

/** A training run's live state. */
export class TrainingRun {
  readonly options: TrainingOptions;
  readonly config: GeneratorConfig;
  readonly data: TrainingData;
  readonly G: GeneratorNetwork;
  readonly Gema: GeneratorNetwork;
  readonly D: DiscriminatorNetwork;
  readonly random: TrainingRandom;
  readonly gamma: number;
  private readonly optG: AdamOptimizer;
  private readonly optD: AdamOptimizer;
  private readonly gVars: tf.Variable[];
  private readonly dVars: tf.Variable[];
  augmentation: TrainingAugmentation | null;
  readonly shard: TrainingShard | null;
  imagesSeen = 0;
  step = 0;
  plMean = 0;

  constructor(options: TrainingOptions, data: TrainingData, augmentation: TrainingAugmentation | null = null, snapshot?: TrainingStateSnapshot, shard: TrainingShard | null = null) {
    CheckLabelLoss({ ...options, engine: "tfjs" }); // this engine has no label loss
    this.options = options;
    this.shard = shard;
    if (shard && (options.batch % shard.count !== 0 || options.batch / shard.count < 2)) {
      throw new Error(`--batch ${options.batch} must split into ${shard.count} equal parts of at least 2 images (one per worker)`);
    }
    this.data = data;
    this.config = TrainingGeneratorConfig(options, data.labelNames.length);
    if (this.config.resolution !== data.resolution) {
      throw new Error(`preset "${options.preset}" trains ${this.config.resolution}x${this.config.resolution} images, but the data set has ${data.resolution}x${data.resolution}`);
    }
    if (options.cond && data.labelNames.length === 0) throw new Error("--cond needs a data set with labels, this one has none");
    this.gamma = EffectiveGamma(options, data.resolution);
    const gWeights = snapshot?.generator ?? InitializeGeneratorWeights(this.config, options.seed);
    this.G = new GeneratorNetwork(this.config, gWeights);
    this.Gema = new GeneratorNetwork(this.config, snapshot?.generatorEma ?? gWeights);
    const discriminator = DiscriminatorOptionsOf(options);
    this.D = new DiscriminatorNetwork(this.config, snapshot?.discriminator ?? InitializeDiscriminatorWeights(this.config, options.seed, discriminator), discriminator);
    this.gVars = this.G.trainableVariables();
    this.dVars = this.D.trainableVariables();
    const base: AdamSettings = { learningRate: options.learningRate, beta1: options.beta1, beta2: options.beta2, epsilon: 1e-8 };
    // As stylegan2-ada, G and D keep the lazy-regularisation scaling of Adam whether or not their regulariser is on.
    this.optG = new AdamOptimizer(this.gVars, LazyRegularizationSettings(base, options.plInterval));
    this.optD = new AdamOptimizer(this.dVars, LazyRegularizationSettings(base, options.r1Interval));
    this.random = new TrainingRandom(options.seed, snapshot?.random);
    this.augmentation = augmentation;
    if (snapshot) {
      this.optG.setState(snapshot.adamG);
      this.optD.setState(snapshot.adamD);
      this.imagesSeen = snapshot.imagesSeen;
      this.step = snapshot.step;
      this.plMean = snapshot.plMean;
    }
  }

  /** Thousands of real images shown to D so far. */
  get kimg(): number {
    return this.imagesSeen / 1000;
  }

  /** Copies the whole state out (for a checkpoint). */
  snapshot(): TrainingStateSnapshot {
    return {
      imagesSeen: this.imagesSeen,
      step: this.step,
      plMean: this.plMean,
      random: this.random.getState(),
      augment: this.augmentation?.toJSON() ?? null,
      generator: this.G.getWeights(),
      generatorEma: this.Gema.getWeights(),
      discriminator: this.D.getWeights(),
      adamG: this.optG.getState(),
      adamD: this.optD.getState(),
    };
  }

  private augmentFn(): AugmentFunction {
    const aug = this.augmentation;
    if (!aug || aug.p <= 0) return null;
    const drawn = this.random.uint32(RandomPurpose.Augment, 1)[0];
    // Replicas augment different images: give each its own draws (replica 0 = the single-thread draws).
    const seed = this.shard ? (drawn + Math.imul(0x9e3779b9, this.shard.index)) >>> 0 : drawn;
    return (images) => aug.augment(images, seed);
  }

  /** Real images [n, R, R, 3] in [-1, 1] and their labels for `n` random data-set indices. */
  private realBatch(n: number): { images: tf.Tensor4D; label?: tf.Tensor2D } {
    const r = this.data.resolution;
    const labelDim = this.config.labelDim;
    const drawn = DrawRealBatch(this.random, this.data, labelDim, n);
    let images = tf.tensor4d(drawn.pixels, [n, r, r, 3]);
    // Progressive growing: reals at the trained resolution, by the generator's own filtered down-sampling.
    for (let size = r; this.growthNow && size > this.growthNow.resolution; size /= 2) images = Down2x(images);
    return { images, label: drawn.label ? tf.tensor2d(drawn.label, [n, labelDim]) : undefined };
  }

  /** Generator inputs for `n` fakes: latents, style-mixing matrix, noise, labels drawn from the data set. */
  private fakeInputs(n: number): { z: tf.Tensor2D; zMix: tf.Tensor2D; mix: tf.Tensor2D; noise: tf.Tensor4D[]; label?: tf.Tensor2D } {
    const { zDim, labelDim } = this.config;
    const drawn = DrawFakeInputs(this.random, this.config, this.options.styleMixing, this.data, n);
    const noise = NoiseResolutions(this.config).map((r, i) => tf.tensor4d(drawn.noise[i], [n, r, r, 1]));
    return {
      z: tf.tensor2d(drawn.z, [n, zDim]),
      zMix: tf.tensor2d(drawn.zMix, [n, zDim]),
      mix: tf.tensor2d(drawn.mix, [n, NumWs(this.config)]),
      noise,
      label: drawn.label ? tf.tensor2d(drawn.label, [n, labelDim]) : undefined,
    };
  }

  /** Growth state of the step being run (set at the start of each step). */
  private growthNow: GrowthProgress | undefined;

  /** Runs G (mapping both latents, mixing, synthesis); also returns ws and the batch mean of w. */
  private generate(inputs: ReturnType<TrainingRun["fakeInputs"]>): { images: tf.Tensor4D; ws: tf.Tensor3D; wMean: tf.Tensor1D } {
    const n = inputs.z.shape[0];
    const label = inputs.label ? tf.concat([inputs.label, inputs.label], 0) : undefined;
    const both = this.G.mapping(tf.concat([inputs.z, inputs.zMix], 0), label);
    const [w, wMix] = tf.split(both, [n, n], 0) as [tf.Tensor2D, tf.Tensor2D];
    const m = tf.expandDims(inputs.mix, 2);
    const ws = tf.add(tf.mul(tf.expandDims(w, 1), tf.sub(1, m)), tf.mul(tf.expandDims(wMix, 1), m)) as tf.Tensor3D;
    const images = this.G.synthesis(ws, inputs.noise, tf.ones([n, 1]), this.growthNow);
    return { images, ws, wMean: tf.mean(w, 0) as tf.Tensor1D };
  }

  /** This replica's part of a batch-major tensor (the whole tensor without sharding). */
  private part<T extends tf.Tensor>(t: T): T {
    if (!this.shard) return t;
    const size = t.shape[0] / this.shard.count;
    return tf.slice(t, this.shard.index * size, size) as T;
  }

  private partInputs(inputs: ReturnType<TrainingRun["fakeInputs"]>): ReturnType<TrainingRun["fakeInputs"]> {
    if (!this.shard) return inputs;
    return { z: this.part(inputs.z), zMix: this.part(inputs.zMix), mix: this.part(inputs.mix), noise: inputs.noise.map((t) => this.part(t)), label: inputs.label && this.part(inputs.label) };
  }

  /** Loss multiplier of this replica's part (1 / count): the replicas' sum is the whole batch's mean. */
  private get partScale(): number {
    return this.shard ? 1 / this.shard.count : 1;
  }

  /** Sums gradients (null stays null) and statistics over replicas; identity without sharding. */
  private reduce(grads: (tf.Tensor | null)[], stats: number[]): { grads: (tf.Tensor | null)[]; stats: number[] } {
    if (!this.shard) return { grads, stats };
    let total = stats.length;
    for (const g of grads) if (g) total += g.size;
    const flat = new Float32Array(total);
    let offset = 0;
    for (const g of grads) {
      if (!g) continue;
      flat.set(g.dataSync() as Float32Array, offset);
      offset += g.size;
    }
    flat.set(stats, offset);
    const summed = this.shard.allReduce(flat);
    offset = 0;
    const out = grads.map((g) => {
      if (!g) return null;
      const t = tf.tensor(summed.subarray(offset, offset + g.size), g.shape, "float32");
      offset += g.size;
      return t;
    });
    return { grads: out, stats: Array.from(summed.subarray(offset, offset + stats.length)) };
  }

  /** w_avg from a phase's batch mean of w (stylegan2-ada tracks it at every mapping call), outside the gradient. */
  private trackWAvg(wMean: tf.Tensor): void {
    tf.tidy(() => {
      const wAvg = this.G.variables.get("mapping.w_avg")!;
      wAvg.assign(tf.add(wMean, tf.mul(tf.sub(wAvg, wMean), WAvgBeta)));
    });
  }

  private checkFinite(what: string, value: number): void {
    if (!Number.isFinite(value)) throw new TrainingDivergedError(what, this.kimg);
  }

  /** One minibatch: all phases, EMA, counters. Throws {@link TrainingDivergedError} on a non-finite loss. */
  trainStep(): StepStats {
    const o = this.options;
    const n = o.batch;
    let lossG = 0;
    let lossD = 0;
    let r1: number | null = null;
    let pathLength: number | null = null;
    let realSign = 0;
    const growth = ProgressiveGrowth(o, this.config.resolution, this.imagesSeen);
    this.growthNow = growth;

    // Gmain.
    tf.tidy(() => {
      const inputs = this.partInputs(this.fakeInputs(n));
      const augment = this.augmentFn();
      let wMeanPart: tf.Tensor1D | null = null;
      this.D.weightGradients = false; // D's weights are constants here: skip its filter gradients
      let value: tf.Scalar;
      let grads: tf.NamedTensorMap;
      try {
        ({ value, grads } = tf.variableGrads(() => {
          const fake = this.generate(inputs);
          wMeanPart = tf.keep(tf.mul(fake.wMean, this.partScale) as tf.Tensor1D);
          return tf.mul(GeneratorMainLoss(DiscriminatorScores(this.D, fake.images, inputs.label, augment, growth)), this.partScale) as tf.Scalar;
        }, this.gVars));
      } finally {
        this.D.weightGradients = true;
      }
      const reduced = this.reduce([...this.gVars.map((v) => grads[v.name] ?? null), wMeanPart], [value.dataSync()[0]]);
      lossG = reduced.stats[0];
      this.checkFinite("the generator loss", lossG);
      this.optG.apply(reduced.grads.slice(0, this.gVars.length));
      this.trackWAvg(reduced.grads[this.gVars.length]!);
      (wMeanPart as tf.Tensor1D | null)?.dispose();
    });

    // Greg: path-length regularisation on half the batch.
    if (o.plWeight > 0 && this.step % o.plInterval === 0) {
      tf.tidy(() => {
        const m = Math.max(1, Math.floor(n / 2));
        if (this.shard && m % this.shard.count !== 0) throw new Error(`path length: half the batch (${m}) must split into ${this.shard.count} workers`);
        const inputs = this.partInputs(this.fakeInputs(m));
        const r = this.config.resolution;
        let plNoise: tf.Tensor4D = this.part(tf.tensor4d(DrawPathLengthNoise(this.random, r, m), [m, r, r, 3]));
        if (growth) {
          // Same draws at every phase; crop to the trained size, keeping the 1/sqrt(H W) normalisation.
          const g = growth.resolution;
          plNoise = tf.mul(tf.slice(plNoise, [0, 0, 0, 0], [plNoise.shape[0], g, g, 3]), r / g) as tf.Tensor4D;
        }
        const mPart = inputs.z.shape[0];
        let mean = 0;
        let wMeanPart: tf.Tensor1D | null = null;
        const { grads } = tf.variableGrads(() => {
          const label = inputs.label ? tf.concat([inputs.label, inputs.label], 0) : undefined;
          const both = this.G.mapping(tf.concat([inputs.z, inputs.zMix], 0), label);
          const [w, wMix] = tf.split(both, [mPart, mPart], 0) as [tf.Tensor2D, tf.Tensor2D];
          const mix = tf.expandDims(inputs.mix, 2);
          const ws = tf.add(tf.mul(tf.expandDims(w, 1), tf.sub(1, mix)), tf.mul(tf.expandDims(wMix, 1), mix)) as tf.Tensor3D;
          wMeanPart = tf.keep(tf.mul(tf.mean(w, 0), this.partScale) as tf.Tensor1D);
          const pl = PathLengthPenalty(this.G, ws, inputs.noise, tf.ones([mPart, 1]), plNoise, this.plMean, growth);
          mean = pl.meanLength.dataSync()[0] * this.partScale;
          return tf.mul(pl.penalty, o.plWeight * o.plInterval * this.partScale) as tf.Scalar;
        }, this.gVars);
        const reduced = this.reduce([...this.gVars.map((v) => grads[v.name] ?? null), wMeanPart], [mean]);
        mean = reduced.stats[0];
        this.checkFinite("the path length", mean);
        pathLength = mean;
        this.plMean = this.plMean + (mean - this.plMean) * PathLengthDecay;
        this.optG.apply(reduced.grads.slice(0, this.gVars.length));
        this.trackWAvg(reduced.grads[this.gVars.length]!);
        (wMeanPart as tf.Tensor1D | null)?.dispose();
      });
    }

    // Dmain.
    tf.tidy(() => {
      const fake = tf.tidy(() => {
        const inputs = this.partInputs(this.fakeInputs(n));
        return { ...this.generate(inputs), label: inputs.label };
      });
      const realAll = this.realBatch(n);
      const real = { images: this.part(realAll.images), label: realAll.label && this.part(realAll.label) };
      // Independent draws for fakes and reals (as ADA): one shared draw would give fake[i] and real[i] the same transform.
      const augmentFake = this.augmentFn();
      const augmentReal = this.augmentFn();
      let realScores: tf.Tensor2D | null = null;
      const { value, grads } = tf.variableGrads(() => {
        const fakeScores = DiscriminatorScores(this.D, fake.images, fake.label, augmentFake, growth);
        realScores = tf.keep(DiscriminatorScores(this.D, real.images, real.label, augmentReal, growth));
        return tf.mul(DiscriminatorMainLoss(fakeScores, realScores), this.partScale) as tf.Scalar;
      }, this.dVars);
      const wMeanPart = tf.mul(fake.wMean, this.partScale);
      const reduced = this.reduce([...this.dVars.map((v) => grads[v.name] ?? null), wMeanPart], [value.dataSync()[0], tf.sum(tf.sign(realScores!)).dataSync()[0]]);
      lossD = reduced.stats[0];
      this.checkFinite("the discriminator loss", lossD);
      this.optD.apply(reduced.grads.slice(0, this.dVars.length));
      this.trackWAvg(reduced.grads[this.dVars.length]!);
      const signSum = reduced.stats[1];
      realSign = signSum / n;
      this.augmentation?.update(signSum, n);
      (realScores as tf.Tensor2D | null)?.dispose();
    });

    // Dreg: lazy R1.
    if (this.gamma > 0 && this.step % o.r1Interval === 0) {
      tf.tidy(() => {
        const realAll = this.realBatch(n);
        const real = { images: this.part(realAll.images), label: realAll.label && this.part(realAll.label) };
        const augment = this.augmentFn();
        const { value, grads } = tf.variableGrads(() => {
          const penalty = R1Penalty(this.D, real.images, real.label, augment, growth);
          return tf.mul(penalty, (this.gamma / 2) * o.r1Interval * this.partScale) as tf.Scalar;
        }, this.dVars);
        const reduced = this.reduce(this.dVars.map((v) => grads[v.name] ?? null), [value.dataSync()[0]]);
        r1 = reduced.stats[0] / ((this.gamma / 2) * o.r1Interval);
        this.checkFinite("the R1 penalty", r1);
        this.optD.apply(reduced.grads);
      });
    }

    UpdateEma(this.Gema.variables, this.G.variables, EmaBeta(n, this.imagesSeen, { halfLifeKimg: EffectiveEmaKimg(o), rampup: o.emaRampup }));
    this.imagesSeen += n;
    this.step++;
    return { lossG, lossD, r1, pathLength, realSign, augmentP: this.augmentation?.p ?? 0, ...(growth ? { growth } : {}) };
  }

  /** Frees every tensor of the run. */
  dispose(): void {
    this.G.dispose();
    this.Gema.dispose();
    this.D.dispose();
    this.optG.dispose();
    this.optD.dispose();
  }
}

/** File names inside a run folder. */
export const RunFiles = {
  checkpoint: "checkpoint.ckpt",
  log: "log.jsonl",
  options: "options.json",
  samples: "samples",
} as const;

/** Progress reported after every step. */
export interface TrainingProgress {
  readonly kimg: number;
  readonly totalKimg: number;
  readonly imagesPerSecond: number;
  readonly etaSeconds: number;
  readonly stats: StepStats;
  /** Last R1 value seen (R1 runs every r1Interval steps). */
  readonly lastR1: number | null;
}

/**
 * Options a resumed run may change without changing what it trains: the label loss's weight (a run can turn it on or
 * off, `TrainingOptions.labelLoss`), Adam's learning rate (e.g. a lower one late in a run; the optimiser's moments
 * carry over), R1's weight `gamma` (a loss weight, like the label loss's), the minibatch size (R1's weight and the
 * EMA's half-life follow it unless the run set them), the augmentation (`none` drops ADA's state: late in a run on
 * more images than it will see, ADA mostly handicaps D; models/training/ada-off/), ADA's target r_t, and the preset when
 * the new one only adds channels above 4x4 (G and D start out computing what they computed; ./channelGrowth.ts).
 */
export type ResumeOverrides = Partial<Pick<TrainingOptions, "labelLoss" | "learningRate" | "gamma" | "batch" | "aug" | "adaTarget" | "preset">>;

/** Arguments of {@link RunTrainingAsync}. */
export interface RunTrainingArgs {
  readonly runDir: string;
  readonly options: TrainingOptions;
  readonly data: TrainingData;
  /** Continue from `runDir/checkpoint.ckpt` (its options win, except `kimg` and `resumeOverrides`). */
  readonly resume: boolean;
  /**
   * Start `runDir` (which must hold no checkpoint) from another run's checkpoint, e.g. a packed one committed on
   * another machine, and continue as `resume` does (same checks; its options win, except `kimg` and `resumeOverrides`); its `extra.log`
   * becomes the run's log.jsonl. `path` names it in messages.
   */
  readonly resumeFrom?: { readonly path: string; readonly checkpoint: CheckpointContents };
  /** On resume: options that replace the checkpoint's (undefined ones keep it); see {@link ResumeOverrides}. */
  readonly resumeOverrides?: ResumeOverrides;
  /** Builds the augmentation from options (and the checkpoint's state when resuming); null = none. */
  readonly createAugmentation?: (options: TrainingOptions, state: unknown) => TrainingAugmentation | null;
  readonly onProgress?: (progress: TrainingProgress) => void;
  /** Checked between steps: when it returns true, the run writes a checkpoint and stops ("interrupted"). */
  readonly shouldStop?: () => boolean;
  /** Number of faces in the sample grid (default 32). */
  readonly gridSize?: number;
  /** Called after each checkpoint is written (e.g. to keep a copy of it: `npc-faces train --keep-snapshots`). */
  readonly onCheckpoint?: (path: string, kimg: number) => Promise<void>;
}

/** How a run ended. */
export interface RunTrainingResult {
  readonly reason: "finished" | "interrupted";
  readonly kimg: number;
  readonly checkpoint: string;
}

/**
 * Trains until `options.kimg`, with a log line and a sample grid every tick, a checkpoint every
 * `snapshotTicks` ticks, at the end and when `shouldStop` says so. A non-finite loss throws
 * {@link TrainingDivergedError} without writing a checkpoint (the last good one stays).
 */
export async function RunTrainingAsync(args: RunTrainingArgs): Promise<RunTrainingResult> {
  const checkpointPath = join(args.runDir, RunFiles.checkpoint);
  let options = args.options;
  let snapshot: TrainingStateSnapshot | undefined;
  let extra: Record<string, unknown> = {};
  let log: unknown;
  const exists = await access(checkpointPath).then(() => true, () => false);
  if (args.resume && args.resumeFrom) throw new Error("--resume and --resume-from exclude each other");
  if (args.resume || args.resumeFrom) {
    const flag = args.resumeFrom ? `--resume-from ${args.resumeFrom.path}` : "--resume";
    if (args.resume && !exists) throw new Error(`--resume: ${checkpointPath} does not exist (nothing to resume; drop --resume to start)`);
    // Never overwrite a run folder's (possibly newer) work with an older checkpoint.
    if (args.resumeFrom && exists) throw new Error(`--resume-from: ${args.runDir} already holds a run (${RunFiles.checkpoint}); continue it with --resume or choose another --out`);
    const loaded = args.resumeFrom?.checkpoint ?? (await ReadCheckpointAsync(checkpointPath));
    if (loaded.data.resolution !== args.data.resolution) throw new Error(`${flag}: the checkpoint was trained on ${loaded.data.resolution}px images, the data set has ${args.data.resolution}px`);
    snapshot = loaded.state;
    if (loaded.options.cond && loaded.data.labelNames.join("\n") !== args.data.labelNames.join("\n")) {
      try {
        snapshot = GrowLabelColumns(loaded.state, loaded.options, loaded.data.labelNames, args.data.labelNames);
      } catch (error) {
        throw new Error(`${flag}: the data set's labels differ from the checkpoint's: ${(error as Error).message}`);
      }
    }
    const preset = args.resumeOverrides?.preset;
    if (preset !== undefined && preset !== loaded.options.preset) {
      try {
        snapshot = GrowChannels(snapshot, loaded.options, preset, args.data.labelNames.length);
      } catch (error) {
        throw new Error(`${flag}: ${(error as Error).message}`);
      }
    }
    // The engine and its device say how to compute, not what: a run may continue on another one.
    options = { ...loaded.options, kimg: args.options.kimg, engine: args.options.engine, device: args.options.device, ...DefinedOptions(args.resumeOverrides ?? {}) };
    try {
      CheckLabelLoss(options);
    } catch (error) {
      throw new Error(`${flag}: ${(error as Error).message}`);
    }
    ({ log, ...extra } = loaded.extra ?? {}); // a packed checkpoint's log goes to log.jsonl, not into later checkpoints
  } else if (exists) {
    throw new Error(`${args.runDir} already holds a run (${RunFiles.checkpoint}); use --resume to continue it or choose another --out`);
  }
  await mkdir(join(args.runDir, RunFiles.samples), { recursive: true });
  await RemoveStaleTemporaryFilesAsync(args.runDir);
  if (args.resume && typeof extra.tick === "number") await TrimLogAfterTickAsync(join(args.runDir, RunFiles.log), extra.tick);
  if (args.resumeFrom && typeof log === "string") await WriteFileAtomicAsync(join(args.runDir, RunFiles.log), new TextEncoder().encode(log));
  await WriteFileAtomicAsync(join(args.runDir, RunFiles.options), new TextEncoder().encode(`${JSON.stringify(options, null, 2)}\n`));
  const augmentation = args.createAugmentation?.(options, snapshot?.augment ?? null) ?? null;
  const run = await CreateRunAsync(options, args.data, augmentation, snapshot);
  const gridSeeds = GridSeeds(args.gridSize ?? 32);
  let gridLabels: Float32Array | undefined;
  if (run.config.labelDim > 0 && args.data.labels) {
    const dim = run.config.labelDim;
    gridLabels = new Float32Array(gridSeeds.length * dim);
    gridSeeds.forEach((_, i) => gridLabels!.set(args.data.labels!.subarray(((i * 7919) % args.data.count) * dim, ((i * 7919) % args.data.count + 1) * dim), i * dim));
  }
  const tickImages = options.tickKimg * 1000;
  let tick = Math.floor(run.imagesSeen / tickImages);
  // Kimg of the checkpoint on disk (null: none yet), for the message when a worker thread fails.
  let savedKimg: number | null = snapshot && !args.resumeFrom ? snapshot.imagesSeen / 1000 : null;
  const save = async () => {
    const state = await run.snapshotAsync();
    await WriteCheckpointAsync(checkpointPath, { options, data: { id: args.data.id ?? null, resolution: args.data.resolution, labelNames: args.data.labelNames }, state, extra: { ...extra, tick } });
    savedKimg = state.imagesSeen / 1000;
    await args.onCheckpoint?.(checkpointPath, savedKimg);
  };
  const writeGrid = async () => {
    const gema = await run.emaGeneratorAsync();
    let png: Uint8Array;
    try {
      png = RenderSampleGridPng(gema.network, gridSeeds, 8, gridLabels);
    } finally {
      gema.release();
    }
    await WriteFileAtomicAsync(join(args.runDir, RunFiles.samples, `tick-${String(tick).padStart(6, "0")}.png`), png);
    await writeFile(join(args.runDir, RunFiles.samples, "latest.png"), png);
  };
  const start = performance.now();
  let tickStart = performance.now();
  let tickImagesStart = run.imagesSeen;
  const startImages = run.imagesSeen;
  let lastR1: number | null = null;
  let reason: RunTrainingResult["reason"] = "finished";
  try {
    if (!snapshot) await writeGrid(); // tick 0: the initial generator
    while (run.imagesSeen < options.kimg * 1000) {
      if (args.shouldStop?.()) {
        reason = "interrupted";
        break;
      }
      const stats = await run.trainStepAsync();
      if (stats.r1 !== null) lastR1 = stats.r1;
      const elapsed = (performance.now() - start) / 1000;
      const ips = (run.imagesSeen - startImages) / Math.max(elapsed, 1e-9);
      args.onProgress?.({ kimg: run.kimg, totalKimg: options.kimg, imagesPerSecond: ips, etaSeconds: (options.kimg * 1000 - run.imagesSeen) / Math.max(ips, 1e-9), stats, lastR1 });
      const newTick = Math.floor(run.imagesSeen / tickImages);
      if (newTick > tick || run.imagesSeen >= options.kimg * 1000) {
        tick = Math.max(newTick, tick + 1);
        const seconds = (performance.now() - tickStart) / 1000;
        await AppendTrainingLogAsync(join(args.runDir, RunFiles.log), {
          tick, kimg: run.kimg, step: run.step, lossG: stats.lossG, lossD: stats.lossD, r1: lastR1, pathLength: stats.pathLength,
          realSign: stats.realSign, augmentP: stats.augmentP, imagesPerSecond: (run.imagesSeen - tickImagesStart) / Math.max(seconds, 1e-9), seconds, time: new Date().toISOString(),
        });
        await writeGrid();
        if (tick % options.snapshotTicks === 0) await save();
        tickStart = performance.now();
        tickImagesStart = run.imagesSeen;
      }
      // Let signal handlers run between steps (a step is synchronous).
      await new Promise((resolve) => setImmediate(resolve));
    }
    await save();
    return { reason, kimg: run.kimg, checkpoint: checkpointPath };
  } catch (error) {
    // A dead worker thread ends the run; say what is left to continue from (checkpoints are written atomically).
    if (error instanceof Error && error.name === "TrainingWorkerError") {
      error.message += savedKimg === null
        ? `; no checkpoint was written yet (start the run again)`
        : `; the last checkpoint ${checkpointPath} (${savedKimg.toFixed(3)} kimg) is kept: continue with --resume`;
    }
    throw error;
  } finally {
    await run.disposeAsync();
  }
}

/**
 * Deletes the temporary files (`.<name>.tmp-<pid>`, see WriteFileAtomicAsync) that a process killed mid-write left
 * in the run folder: they were never renamed into place, so nothing reads them, and each would stay forever.
 */
async function RemoveStaleTemporaryFilesAsync(runDir: string): Promise<void> {
  const names = [...Object.values(RunFiles)].map((name) => `.${name}.tmp-`);
  for (const name of await readdir(runDir)) {
    if (names.some((prefix) => name.startsWith(prefix)) && /\.tmp-\d+$/.test(name)) await rm(join(runDir, name), { force: true });
  }
}

/**
 * Drops the log lines of ticks after `tick` (the checkpoint's): a process killed after logging them lost that work,
 * and the resumed run logs those ticks again, so each tick appears once.
 */
async function TrimLogAfterTickAsync(path: string, tick: number): Promise<void> {
  const text = await readFile(path, "utf8").catch(() => null);
  if (text === null) return;
  const lines = text.split("\n").filter((line) => line.trim() !== "");
  const kept = lines.filter((line) => {
    try {
      const entry = JSON.parse(line) as { tick?: unknown };
      return !(typeof entry.tick === "number" && entry.tick > tick);
    } catch {
      return true; // not ours to judge: keep it
    }
  });
  if (kept.length !== lines.length) await WriteFileAtomicAsync(path, new TextEncoder().encode(kept.map((line) => `${line}\n`).join("")));
}

/** What RunTrainingAsync needs of a run: a {@link TrainingRun} in this thread or a ParallelTrainingRun. */
interface RunDriver {
  readonly config: GeneratorConfig;
  readonly imagesSeen: number;
  readonly kimg: number;
  readonly step: number;
  trainStepAsync(): Promise<StepStats>;
  snapshotAsync(): Promise<TrainingStateSnapshot>;
  /** The EMA generator for sample grids; `release` frees it when it was built for the call. */
  emaGeneratorAsync(): Promise<{ network: GeneratorNetwork; release: () => void }>;
  disposeAsync(): Promise<void>;
}

/**
 * `options.engine` ort: the onnxruntime engine (../ortTraining); else tfjs, with `options.workers` > 1 on wasm/cpu as
 * data-parallel worker threads (parallelTraining.ts), otherwise in this thread. Sample grids use tfjs in every case.
 */
async function CreateRunAsync(options: TrainingOptions, data: TrainingData, augmentation: TrainingAugmentation | null, snapshot?: TrainingStateSnapshot): Promise<RunDriver> {
  if (options.engine === "ort") {
    const { OrtTrainingRun } = await import("../ortTraining/ortTrainingRun.js");
    const run = new OrtTrainingRun(options, data, { device: options.device }, augmentation, snapshot);
    try {
      await run.prepareAsync();
    } catch (error) {
      await run.disposeAsync();
      throw error;
    }
    return {
      config: run.config,
      get imagesSeen() { return run.imagesSeen; },
      get kimg() { return run.kimg; },
      get step() { return run.step; },
      trainStepAsync: () => run.trainStepAsync(),
      snapshotAsync: async () => run.snapshot(),
      emaGeneratorAsync: async () => {
        const network = new GeneratorNetwork(run.config, run.generatorEmaWeights());
        return { network, release: () => network.dispose() };
      },
      disposeAsync: () => run.disposeAsync(),
    };
  }
  const backend = tf.getBackend();
  if (options.workers > 1 && (backend === "wasm" || backend === "cpu")) {
    const { ParallelTrainingRun } = await import("./parallelTraining.js");
    const parallel = await ParallelTrainingRun.CreateAsync(options, data, augmentation?.toJSON() ?? null, snapshot);
    const config = TrainingGeneratorConfig(options, data.labelNames.length);
    return {
      config,
      get imagesSeen() { return parallel.imagesSeen; },
      get kimg() { return parallel.kimg; },
      get step() { return parallel.step; },
      trainStepAsync: () => parallel.trainStepAsync(),
      snapshotAsync: () => parallel.snapshotAsync(),
      emaGeneratorAsync: async () => {
        const network = new GeneratorNetwork(config, (await parallel.snapshotAsync()).generatorEma);
        return { network, release: () => network.dispose() };
      },
      disposeAsync: () => parallel.disposeAsync(),
    };
  }
  const run = new TrainingRun(options, data, augmentation, snapshot);
  return {
    config: run.config,
    get imagesSeen() { return run.imagesSeen; },
    get kimg() { return run.kimg; },
    get step() { return run.step; },
    trainStepAsync: async () => run.trainStep(),
    snapshotAsync: async () => run.snapshot(),
    emaGeneratorAsync: async () => ({ network: run.Gema, release: () => {} }),
    disposeAsync: async () => run.dispose(),
  };
}
