/**
 * A training run on onnxruntime: the same phases, draws, optimiser, EMA and checkpoint state as the tfjs engine's
 * {@link TrainingRun} (../training/trainingLoop.ts), with every forward and backward pass in the phase graphs of
 * ./trainingGraphs.ts. Parameters, Adam moments, gradients and the EMA live in Float32Arrays of one WebAssembly
 * memory (./optimizerKernels.ts: the graphs read and write them in place, SIMD kernels update them), in the ONNX
 * layout; the checkpoint holds the same values in its own layout, so a run switches engines on resume.
 *
 * Draw order per step, identical to the tfjs engine's: Gmain (fakes, augment seed), Greg (fakes, path-length
 * noise), Dmain (fakes, reals, augment seeds for fakes and reals), Dreg (reals, augment seed).
 */
import { type GeneratorConfig, GeneratorParameterSpecs, type ParameterSpec } from "../networks/architecture.js";
import { DiscriminatorLabelHead, DiscriminatorParameterSpecs } from "../networks/discriminatorArchitecture.js";
import { InitializeDiscriminatorWeights } from "../networks/discriminatorNetwork.js";
import { InitializeGeneratorWeights } from "../networks/initializeGeneratorWeights.js";
import { LazyRegularizationSettings, type AdamSettings, type AdamState } from "../training/adam.js";
import { EmaBeta, WAvgBeta } from "../training/ema.js";
import { DrawFakeInputs, DrawPathLengthNoise, DrawRealBatch } from "../training/trainingDraws.js";
import { type StepStats, type TrainingAugmentation, type TrainingData, TrainingDivergedError, type TrainingStateSnapshot } from "../training/trainingLoop.js";
import { DiscriminatorOptionsOf, EffectiveEmaKimg, EffectiveGamma, PathLengthDecay, TrainingGeneratorConfig, type TrainingOptions } from "../training/trainingOptions.js";
import type { DiscriminatorSpecOptions } from "../networks/discriminatorArchitecture.js";
import { RandomPurpose, TrainingRandom } from "../training/trainingRandom.js";
import { type OrtEngineSettings, PhaseSession } from "./ortSessions.js";
import { OptimizerMemory } from "./optimizerKernels.js";
import { FromOnnxLayout, OnnxParameterShape, ToOnnxLayout } from "./parameterLayout.js";
import { AddAugmentFeeds, AddFakeFeeds, AddParameterFeeds, AddRealFeeds, type Feeds } from "./phaseFeeds.js";
import { BuildDiscriminatorMainGraph, BuildGeneratorMainGraph, BuildPathLengthGraph, BuildR1Graph, type PhaseGraph, type PhaseGraphOptions } from "./trainingGraphs.js";


function Size(spec: ParameterSpec): number {
  return spec.shape.reduce((a, b) => a * b, 1);
}

/** `values` (checkpoint layout) checked against the specs and converted to the ONNX layout, into arrays of `memory`. */
function ToOnnxValues(specs: readonly ParameterSpec[], values: ReadonlyMap<string, Float32Array>, memory: OptimizerMemory): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const spec of specs) {
    const stored = values.get(spec.name);
    const size = Size(spec);
    if (!stored || stored.length !== size) throw new Error(`weights: "${spec.name}" ${stored ? `has ${stored.length} values, expected ${size}` : "is missing"}`);
    const array = memory.alloc(size);
    array.set(ToOnnxLayout(spec, stored));
    out.set(spec.name, array);
  }
  return out;
}

/**
 * D's weights and Adam state from a checkpoint whose label head (the last of D's parameters) the run does not
 * match, as when a resume turns the label loss on or off: a head the checkpoint lacks starts from its initial values
 * (`initial`) and zero moments, one the run no longer has is dropped, and the other parameters keep their places in
 * the Adam state. Anything else the checkpoint lacks is left for the checks to report.
 */
function FitLabelHead(specs: readonly ParameterSpec[], weights: ReadonlyMap<string, Float32Array>, adam: AdamState | undefined, initial: () => ReadonlyMap<string, Float32Array>): { weights: ReadonlyMap<string, Float32Array>; adam: AdamState | undefined } {
  const isHead = (name: string) => name.startsWith(`${DiscriminatorLabelHead}.`);
  const wanted = specs.filter((s) => isHead(s.name));
  const held = [...weights.keys()].filter(isHead);
  if (wanted.length === held.length) return { weights, adam };
  // The head is added or dropped whole: one of `wanted` and `held` is empty.
  const fitted = new Map([...weights].filter(([name]) => !isHead(name)));
  if (wanted.length > 0) {
    const init = initial();
    for (const spec of wanted) fitted.set(spec.name, init.get(spec.name)!);
  }
  if (!adam) return { weights: fitted, adam };
  // Every head parameter is trainable and last in D's order, so its moments are the state's last.
  const base = adam.m.length - held.length;
  const moments = (arrays: readonly Float32Array[]) => [...arrays.slice(0, base), ...wanted.filter((s) => s.trainable).map((s) => new Float32Array(Size(s)))];
  return { weights: fitted, adam: { step: adam.step, m: moments(adam.m), v: moments(adam.v) } };
}

/** ONNX-layout values back in the checkpoint layout (copies). */
function FromOnnxValues(specs: readonly ParameterSpec[], values: ReadonlyMap<string, Float32Array>): Map<string, Float32Array> {
  return new Map(specs.map((spec) => [spec.name, FromOnnxLayout(spec, values.get(spec.name)!)]));
}

/** Parameters of one network with their gradients and Adam state, all in the ONNX layout in `memory`. */
class ParameterSet {
  readonly values: Map<string, Float32Array>;
  readonly trainable: readonly ParameterSpec[];
  /** The gradient of each trainable parameter, where the phase graphs write it. */
  readonly gradients: Float32Array[];
  readonly m: Float32Array[];
  readonly v: Float32Array[];
  adamStep = 0;

  /** Arrays one set allocates: values, and per trainable parameter its gradient and two moments. */
  static Lengths(specs: readonly ParameterSpec[]): number[] {
    return [...specs.map(Size), ...specs.filter((s) => s.trainable).flatMap((s) => [Size(s), Size(s), Size(s)])];
  }

  constructor(readonly specs: readonly ParameterSpec[], values: ReadonlyMap<string, Float32Array>, readonly settings: AdamSettings, private readonly memory: OptimizerMemory, adam?: AdamState) {
    this.values = ToOnnxValues(specs, values, memory);
    this.trainable = specs.filter((s) => s.trainable);
    this.gradients = this.trainable.map((s) => memory.alloc(Size(s)));
    this.m = this.trainable.map((s) => memory.alloc(Size(s)));
    this.v = this.trainable.map((s) => memory.alloc(Size(s)));
    if (adam) {
      if (adam.m.length !== this.m.length || adam.v.length !== this.v.length) throw new Error("Adam state: parameter count differs");
      this.trainable.forEach((spec, i) => {
        for (const [moments, stored] of [[this.m, adam.m[i]], [this.v, adam.v[i]]] as const) {
          if (stored.length !== moments[i].length) throw new Error(`Adam state: moment ${i} has ${stored.length} values, expected ${moments[i].length}`);
          moments[i].set(ToOnnxLayout(spec, stored));
        }
      });
      this.adamStep = adam.step;
    }
  }

  /** Every parameter as a feed. */
  addFeeds(feeds: Feeds): void {
    AddParameterFeeds(feeds, this.specs, this.values);
  }

  /** The graph's gradient outputs, to be written into {@link gradients}. */
  gradientOutputs(graph: PhaseGraph): Feeds {
    return new Map(this.trainable.map((spec, i) => [graph.gradients.get(spec.name)!, { data: this.gradients[i], dims: OnnxParameterShape(spec) }]));
  }

  /** One Adam step with the gradients a run just wrote. */
  apply(): void {
    this.adamStep++;
    this.trainable.forEach((spec, i) => this.memory.adam(this.values.get(spec.name)!, this.gradients[i], this.m[i], this.v[i], this.settings, this.adamStep));
  }

  /** The parameters in the checkpoint layout. */
  storedValues(): Map<string, Float32Array> {
    return FromOnnxValues(this.specs, this.values);
  }

  /** The Adam state in the checkpoint layout. */
  adamState(): AdamState {
    return {
      step: this.adamStep,
      m: this.trainable.map((spec, i) => FromOnnxLayout(spec, this.m[i])),
      v: this.trainable.map((spec, i) => FromOnnxLayout(spec, this.v[i])),
    };
  }
}

/** One training run on onnxruntime (see the file comment). */
export class OrtTrainingRun {
  readonly options: TrainingOptions;
  readonly config: GeneratorConfig;
  readonly data: TrainingData;
  readonly engine: OrtEngineSettings;
  readonly gamma: number;
  readonly random: TrainingRandom;
  readonly augmentation: TrainingAugmentation | null;
  private readonly memory: OptimizerMemory;
  private readonly G: ParameterSet;
  private readonly D: ParameterSet;
  private readonly Gema: Map<string, Float32Array>;
  private readonly discriminator: DiscriminatorSpecOptions;
  private readonly sessions = new Map<string, Promise<PhaseSession>>();
  imagesSeen = 0;
  step = 0;
  plMean = 0;

  constructor(options: TrainingOptions, data: TrainingData, engine: OrtEngineSettings, augmentation: TrainingAugmentation | null = null, snapshot?: TrainingStateSnapshot) {
    if (options.progressive) throw new Error("the onnxruntime engine does not train with progressive growing (--progressive): use --engine tfjs");
    this.options = options;
    this.data = data;
    this.engine = engine;
    this.config = TrainingGeneratorConfig(options, data.labelNames.length);
    if (this.config.resolution !== data.resolution) {
      throw new Error(`preset "${options.preset}" trains ${this.config.resolution}x${this.config.resolution} images, but the data set has ${data.resolution}x${data.resolution}`);
    }
    if (options.cond && data.labelNames.length === 0) throw new Error("--cond needs a data set with labels, this one has none");
    if (augmentation && !augmentation.sampleParams) throw new Error("the onnxruntime engine needs an augmentation that gives its parameters (sampleParams)");
    this.gamma = EffectiveGamma(options, data.resolution);
    const base: AdamSettings = { learningRate: options.learningRate, beta1: options.beta1, beta2: options.beta2, epsilon: 1e-8 };
    this.discriminator = DiscriminatorOptionsOf(options);
    const gSpecs = GeneratorParameterSpecs(this.config);
    const dSpecs = DiscriminatorParameterSpecs(this.config, this.discriminator);
    this.memory = new OptimizerMemory([...ParameterSet.Lengths(gSpecs), ...gSpecs.map(Size), ...ParameterSet.Lengths(dSpecs)]);
    const gWeights = snapshot?.generator ?? InitializeGeneratorWeights(this.config, options.seed);
    this.G = new ParameterSet(gSpecs, gWeights, LazyRegularizationSettings(base, options.plInterval), this.memory, snapshot?.adamG);
    this.Gema = ToOnnxValues(gSpecs, snapshot?.generatorEma ?? gWeights, this.memory);
    const initialD = () => InitializeDiscriminatorWeights(this.config, options.seed, this.discriminator);
    const d = snapshot ? FitLabelHead(dSpecs, snapshot.discriminator, snapshot.adamD, initialD) : { weights: initialD(), adam: undefined };
    this.D = new ParameterSet(dSpecs, d.weights, LazyRegularizationSettings(base, options.r1Interval), this.memory, d.adam);
    this.random = new TrainingRandom(options.seed, snapshot?.random);
    this.augmentation = augmentation;
    if (snapshot) {
      this.imagesSeen = snapshot.imagesSeen;
      this.step = snapshot.step;
      this.plMean = snapshot.plMean;
    }
  }

  /** Thousands of real images shown to D so far. */
  get kimg(): number {
    return this.imagesSeen / 1000;
  }

  /** The session of a phase graph, built on first use (graph variants with augmentation are built when p first rises above 0). */
  private session(key: string, build: () => PhaseGraph): Promise<PhaseSession> {
    let session = this.sessions.get(key);
    if (!session) {
      session = PhaseSession.CreateAsync(build(), this.engine);
      this.sessions.set(key, session);
    }
    return session;
  }

  /** Builds every graph the run can need now and creates its sessions (otherwise the first step does it). */
  async prepareAsync(): Promise<void> {
    await Promise.all([this.gMain(this.augmentation !== null && this.augmentation.p > 0), this.dMain(this.augmentation !== null && this.augmentation.p > 0)]);
  }

  private gMain(augment: boolean): Promise<PhaseSession> {
    return this.session(`Gmain${augment ? "+aug" : ""}`, () => BuildGeneratorMainGraph({ ...this.mainGraphOptions(), augment }));
  }

  private dMain(augment: boolean): Promise<PhaseSession> {
    return this.session(`Dmain${augment ? "+aug" : ""}`, () => BuildDiscriminatorMainGraph({ ...this.mainGraphOptions(), augment }));
  }

  /** What Gmain and Dmain share: sizes, D's architecture, the label loss. */
  private mainGraphOptions(): PhaseGraphOptions {
    return { config: this.config, batch: this.options.batch, discriminator: this.discriminator, labelLoss: this.options.labelLoss };
  }

  /** A fresh augmentation seed when augmentation is on (p > 0), as the tfjs engine draws it; null = identity. */
  private augmentSeed(): number | null {
    const aug = this.augmentation;
    if (!aug || aug.p <= 0) return null;
    return this.random.uint32(RandomPurpose.Augment, 1)[0];
  }

  /** The augmentation of `n` images drawn with `seed`, as feeds named `<prefix>aug_*`. */
  private addAugmentFeeds(feeds: Feeds, prefix: string, seed: number, n: number): void {
    AddAugmentFeeds(feeds, prefix, this.augmentation!.sampleParams!(n, this.config.resolution, seed), this.config.resolution);
  }

  private addRealFeeds(feeds: Feeds, n: number): void {
    const real = DrawRealBatch(this.random, this.data, this.config.labelDim, n);
    AddRealFeeds(feeds, real.pixels, real.label, n, this.config.resolution, this.config.labelDim);
  }

  private checkFinite(what: string, value: number): void {
    if (!Number.isFinite(value)) throw new TrainingDivergedError(what, this.kimg);
  }

  /** w_avg from a phase's batch mean of w (stylegan2-ada tracks it at every mapping call), outside the gradient. */
  private trackWAvg(out: ReadonlyMap<string, Float32Array>): void {
    const wMean = out.get("w_mean")!;
    const wAvg = this.G.values.get("mapping.w_avg")!;
    for (let i = 0; i < wAvg.length; i++) wAvg[i] = wMean[i] + (wAvg[i] - wMean[i]) * WAvgBeta;
  }

  /** One minibatch: all phases, EMA, counters. Throws {@link TrainingDivergedError} on a non-finite loss. */
  async trainStepAsync(): Promise<StepStats> {
    const o = this.options;
    const n = o.batch;
    const R = this.config.resolution;
    let r1: number | null = null;
    let pathLength: number | null = null;

    // Gmain.
    let feeds: Feeds = new Map();
    AddFakeFeeds(feeds, DrawFakeInputs(this.random, this.config, o.styleMixing, this.data, n), this.config.labelDim);
    let seed = this.augmentSeed();
    if (seed !== null) this.addAugmentFeeds(feeds, "", seed, n);
    this.G.addFeeds(feeds);
    this.D.addFeeds(feeds);
    let session = await this.gMain(seed !== null);
    let out = await session.runAsync(feeds, this.G.gradientOutputs(session.graph));
    const lossG = out.get("loss")![0];
    this.checkFinite("the generator loss", lossG);
    this.G.apply();
    this.trackWAvg(out);

    // Greg: path length on half the batch.
    if (o.plWeight > 0 && this.step % o.plInterval === 0) {
      const m = Math.max(1, Math.floor(n / 2));
      feeds = new Map();
      AddFakeFeeds(feeds, DrawFakeInputs(this.random, this.config, o.styleMixing, this.data, m), this.config.labelDim);
      feeds.set("pl_noise", { data: DrawPathLengthNoise(this.random, R, m), dims: [m, R, R, 3] });
      feeds.set("pl_mean", { data: Float32Array.of(this.plMean), dims: [] });
      this.G.addFeeds(feeds);
      session = await this.session("Greg", () => BuildPathLengthGraph({ config: this.config, batch: m, weight: o.plWeight * o.plInterval }));
      out = await session.runAsync(feeds, this.G.gradientOutputs(session.graph));
      const mean = out.get("mean_length")![0];
      this.checkFinite("the path length", mean);
      pathLength = mean;
      this.plMean += (mean - this.plMean) * PathLengthDecay;
      this.G.apply();
      this.trackWAvg(out);
    }

    // Dmain: fakes, reals, then independent augmentation draws for each (as ADA).
    feeds = new Map();
    AddFakeFeeds(feeds, DrawFakeInputs(this.random, this.config, o.styleMixing, this.data, n), this.config.labelDim);
    this.addRealFeeds(feeds, n);
    const fakeSeed = this.augmentSeed();
    const realSeed = this.augmentSeed();
    if (fakeSeed !== null && realSeed !== null) {
      this.addAugmentFeeds(feeds, "fake_", fakeSeed, n);
      this.addAugmentFeeds(feeds, "real_", realSeed, n);
    }
    this.G.addFeeds(feeds);
    this.D.addFeeds(feeds);
    session = await this.dMain(fakeSeed !== null);
    out = await session.runAsync(feeds, this.D.gradientOutputs(session.graph));
    const lossD = out.get("loss")![0];
    this.checkFinite("the discriminator loss", lossD);
    this.D.apply();
    this.trackWAvg(out);
    let signSum = 0;
    for (const score of out.get("real_scores")!) signSum += Math.sign(score);
    this.augmentation?.update(signSum, n);

    // Dreg: lazy R1.
    if (this.gamma > 0 && this.step % o.r1Interval === 0) {
      feeds = new Map();
      this.addRealFeeds(feeds, n);
      seed = this.augmentSeed();
      if (seed !== null) this.addAugmentFeeds(feeds, "real_", seed, n);
      this.D.addFeeds(feeds);
      const augment = seed !== null;
      session = await this.session(`Dreg${augment ? "+aug" : ""}`, () => BuildR1Graph({ config: this.config, batch: n, augment, weight: (this.gamma / 2) * o.r1Interval, discriminator: this.discriminator }));
      out = await session.runAsync(feeds, this.D.gradientOutputs(session.graph));
      r1 = out.get("r1")![0];
      this.checkFinite("the R1 penalty", r1);
      this.D.apply();
    }

    const beta = EmaBeta(n, this.imagesSeen, { halfLifeKimg: EffectiveEmaKimg(o), rampup: o.emaRampup });
    for (const spec of this.G.specs) {
      const source = this.G.values.get(spec.name)!;
      if (spec.trainable) this.memory.ema(this.Gema.get(spec.name)!, source, beta);
      else this.Gema.get(spec.name)!.set(source);
    }
    this.imagesSeen += n;
    this.step++;
    return { lossG, lossD, r1, pathLength, realSign: signSum / n, augmentP: this.augmentation?.p ?? 0 };
  }

  /** Copies the whole state out (for a checkpoint; the same contents as the tfjs engine's). */
  snapshot(): TrainingStateSnapshot {
    return {
      imagesSeen: this.imagesSeen,
      step: this.step,
      plMean: this.plMean,
      random: this.random.getState(),
      augment: this.augmentation?.toJSON() ?? null,
      generator: this.G.storedValues(),
      generatorEma: FromOnnxValues(this.G.specs, this.Gema),
      discriminator: this.D.storedValues(),
      adamG: this.G.adamState(),
      adamD: this.D.adamState(),
    };
  }

  /** The EMA generator's weights in the checkpoint layout (for sample grids). */
  generatorEmaWeights(): Map<string, Float32Array> {
    return FromOnnxValues(this.G.specs, this.Gema);
  }

  /** Releases the sessions. */
  async disposeAsync(): Promise<void> {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of await Promise.allSettled(sessions)) if (s.status === "fulfilled") await s.value.releaseAsync();
  }
}
