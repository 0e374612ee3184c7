/**
 * End-to-end finite-difference checks of the two second-order phases on onnxruntime: the R1 graph's gradient with
 * respect to every discriminator parameter (through the augmentation and both architectures' conv1), and the path-
 * length graph's with respect to every generator parameter (the penalty against the moved target), each against a
 * 5-point central difference of the graph's own loss along random directions. Independent of the tfjs oracle: a
 * mistake both engines share would pass phaseGradients.test.ts but not this. The same check covers the label loss
 * (Gmain and Dmain with the discriminator's label head), which only this engine has.
 */
import { describe, expect, it } from "vitest";
import { AdaAugmentation } from "../../src/augment/adaAugmentation.js";
import { type GeneratorConfig, GeneratorParameterSpecs, GeneratorPresets, type ParameterSpec } from "../../src/networks/architecture.js";
import { DiscriminatorParameterSpecs, type DiscriminatorSpecOptions } from "../../src/networks/discriminatorArchitecture.js";
import { InitializeDiscriminatorWeights } from "../../src/networks/discriminatorNetwork.js";
import { DrawFakeInputs, DrawPathLengthNoise, DrawRealBatch } from "../../src/training/trainingDraws.js";
import { TrainingRandom } from "../../src/training/trainingRandom.js";
import { PhaseSession } from "../../src/ortTraining/ortSessions.js";
import { AddAugmentFeeds, AddFakeFeeds, AddRealFeeds, AddStoredParameterFeeds, type Feeds } from "../../src/ortTraining/phaseFeeds.js";
import { BuildDiscriminatorMainGraph, BuildGeneratorMainGraph, BuildPathLengthGraph, BuildR1Graph, type PhaseGraph } from "../../src/ortTraining/trainingGraphs.js";
import { ActiveWeights } from "../generatorTestData.js";
import { Random } from "../onnxAutodiff/gradientCheck.js";

const Config: GeneratorConfig = { ...GeneratorPresets.tiny, labelDim: 3 };

function Data(count = 6) {
  const r = Config.resolution;
  const images = Uint8Array.from({ length: count * r * r * 3 }, (_, i) => (Math.imul(i, 2654435761) >>> 24) & 0xff);
  const labels = Float32Array.from({ length: count * Config.labelDim }, (_, i) => (i % Config.labelDim === Math.floor(i / Config.labelDim) % Config.labelDim ? 1 : 0));
  return { count, resolution: r, images, labelNames: ["a=0", "a=1", "a=2"], labels };
}

/**
 * The graph with the input of every LeakyRelu as an extra output: the penalties are only piecewise smooth (|∂D/∂x|²
 * jumps where a pre-activation changes sign), so a difference stencil that crosses a kink measures no derivative.
 */
function WithKinkOutputs(graph: PhaseGraph): { graph: PhaseGraph; kinks: string[] } {
  const model = graph.model;
  const kinks = [...new Set(model.graph!.node!.filter((n) => n.opType === "LeakyRelu").map((n) => n.input![0]))];
  for (const name of kinks) model.graph!.output!.push({ name, type: { tensorType: { elemType: 1 } } });
  return { graph, kinks };
}

/**
 * Compares Σ ∇L·v from the graph with (−L(θ+2hv) + 8L(θ+hv) − 8L(θ−hv) + L(θ−2hv)) / 12h along random v (|v_i| ≤ 1)
 * over the trainable parameters that `perturbed` selects, on the first `directions` directions whose stencil flips
 * no kink; returns the worst relative error. (Perturbing every parameter at once flips ~0.1% of the pre-activations
 * even at h = 1e-3, so the directions cover layers with few or no kinks after them — D's fc, out and label mapping,
 * G's toRGB layers — whose second-order terms still run back through the whole network.) A first-order loss is
 * continuous where a pre-activation changes sign, so `firstOrder` takes every direction.
 */
async function WorstDirectionalError(phase: PhaseGraph, feeds: Feeds, specs: readonly ParameterSpec[], perturbed: RegExp, directions: number, h: number, firstOrder = false): Promise<number> {
  const { graph, kinks } = firstOrder ? { graph: phase, kinks: [] } : WithKinkOutputs(phase);
  const session = await PhaseSession.CreateAsync(graph, { device: "cpu", threads: 1 });
  try {
    const base = await session.runAsync(feeds);
    const signs = (out: Map<string, Float32Array>) => kinks.flatMap((k) => Array.from(out.get(k)!, Math.sign));
    const baseSigns = signs(base);
    const trainable = specs.filter((s) => s.trainable && perturbed.test(s.name)).map((s) => s.name);
    const original = new Map(trainable.map((name) => [name, Float32Array.from(feeds.get(name)!.data as Float32Array)]));
    /** L(θ + t·v), or null where a pre-activation has another sign than at θ. */
    const lossAt = async (v: Map<string, Float32Array>, t: number): Promise<number | null> => {
      for (const name of trainable) {
        const x = feeds.get(name)!.data as Float32Array;
        const o = original.get(name)!;
        const d = v.get(name)!;
        for (let i = 0; i < x.length; i++) x[i] = o[i] + t * d[i];
      }
      const out = await session.runAsync(feeds);
      return signs(out).every((s, i) => s === baseSigns[i]) ? out.get(graph.loss)![0] : null;
    };
    let worst = 0;
    let checked = 0;
    for (let k = 0; checked < directions; k++) {
      if (k === 20 * directions) throw new Error(`only ${checked} of ${directions} directions keep every kink's sign at step ${h}`);
      const rnd = Random(100 + k);
      const v = new Map(trainable.map((name) => [name, Float32Array.from(original.get(name)!, () => Math.tanh(rnd()))]));
      const losses = [await lossAt(v, 2 * h), await lossAt(v, h), await lossAt(v, -h), await lossAt(v, -2 * h)];
      if (losses.some((l) => l === null)) continue;
      const [p2, p1, m1, m2] = losses as number[];
      let analytic = 0;
      for (const name of trainable) {
        const g = base.get(graph.gradients.get(name)!)!;
        const d = v.get(name)!;
        for (let i = 0; i < g.length; i++) analytic += g[i] * d[i];
      }
      const numeric = (-p2 + 8 * p1 - 8 * m1 + m2) / (12 * h);
      worst = Math.max(worst, Math.abs(numeric - analytic) / Math.abs(analytic));
      checked++;
    }
    return worst;
  } finally {
    await session.releaseAsync();
  }
}

describe("second-order phases against finite differences (tiny preset, conditional, onnxruntime)", () => {
  for (const discriminator of [{}, { convDown: "strided", mappingLayers: 2 }] as DiscriminatorSpecOptions[]) {
    it(`R1 through the augmentation: d/dD along random directions${discriminator.convDown ? " (strided conv1, label mapping)" : ""}`, async () => {
      const n = 4;
      const R = Config.resolution;
      const random = new TrainingRandom(3);
      const real = DrawRealBatch(random, Data(), Config.labelDim, n);
      const graph = BuildR1Graph({ config: Config, batch: n, augment: true, weight: 1, discriminator });
      const feeds: Feeds = new Map();
      const specs = DiscriminatorParameterSpecs(Config, discriminator);
      AddStoredParameterFeeds(feeds, specs, InitializeDiscriminatorWeights(Config, 8, discriminator));
      AddRealFeeds(feeds, real.pixels, real.label, n, R, Config.labelDim);
      AddAugmentFeeds(feeds, "real_", AdaAugmentation.Create("bgc", { p: 0.6 }).sampleParams(n, R, 21), R);
      expect(await WorstDirectionalError(graph, feeds, specs, /b4\.out|b4\.fc|mapping/, 3, 1e-3)).toBeLessThan(1e-2);
    });
  }

  it("path length against the moved target: d/dG along random directions", async () => {
    const m = 2;
    const R = Config.resolution;
    const random = new TrainingRandom(4);
    const graph = BuildPathLengthGraph({ config: Config, batch: m, weight: 1 });
    const feeds: Feeds = new Map();
    const specs = GeneratorParameterSpecs(Config);
    AddStoredParameterFeeds(feeds, specs, ActiveWeights(Config, 3));
    AddFakeFeeds(feeds, DrawFakeInputs(random, Config, 1, Data(), m), Config.labelDim);
    feeds.set("pl_noise", { data: DrawPathLengthNoise(random, R, m), dims: [m, R, R, 3] });
    feeds.set("pl_mean", { data: Float32Array.of(0.3), dims: [] });
    expect(await WorstDirectionalError(graph, feeds, specs, /torgb/, 3, 1e-3)).toBeLessThan(1e-2);
  });
});

describe("the label loss against finite differences (tiny preset, conditional, onnxruntime)", () => {
  const discriminator: DiscriminatorSpecOptions = { convDown: "strided", mappingLayers: 2, labelHead: true };
  const n = 4;
  const R = Config.resolution;

  /** Every feed of Gmain / Dmain: G's and D's weights, the fakes' latents, reals, both augmentations. */
  function Feeds(): Feeds {
    const random = new TrainingRandom(5);
    const feeds: Feeds = new Map();
    AddStoredParameterFeeds(feeds, GeneratorParameterSpecs(Config), ActiveWeights(Config, 3));
    AddStoredParameterFeeds(feeds, DiscriminatorParameterSpecs(Config, discriminator), InitializeDiscriminatorWeights(Config, 8, discriminator));
    AddFakeFeeds(feeds, DrawFakeInputs(random, Config, 1, Data(), n), Config.labelDim);
    const real = DrawRealBatch(random, Data(), Config.labelDim, n);
    AddRealFeeds(feeds, real.pixels, real.label, n, R, Config.labelDim);
    for (const [prefix, seed] of [["", 21], ["fake_", 22], ["real_", 23]] as const) AddAugmentFeeds(feeds, prefix, AdaAugmentation.Create("bgc", { p: 0.6 }).sampleParams(n, R, seed), R);
    return feeds;
  }

  async function LossAsync(graph: PhaseGraph, feeds: Feeds): Promise<number> {
    const session = await PhaseSession.CreateAsync(graph, { device: "cpu", threads: 1 });
    try {
      return (await session.runAsync(feeds)).get(graph.loss)![0];
    } finally {
      await session.releaseAsync();
    }
  }

  it("Dmain: d/dD of the label head and the layers under it; the head's loss adds to the GAN loss", async () => {
    const graph = BuildDiscriminatorMainGraph({ config: Config, batch: n, augment: true, discriminator, labelLoss: 0.5 });
    const feeds = Feeds();
    const without = await LossAsync(BuildDiscriminatorMainGraph({ config: Config, batch: n, augment: true, discriminator }), feeds);
    expect(await LossAsync(graph, feeds)).toBeGreaterThan(without + 0.1); // ≈ 0.5 · 3 columns · ln 2 at the start
    expect(await WorstDirectionalError(graph, feeds, DiscriminatorParameterSpecs(Config, discriminator), /b4\.labels|b4\.fc/, 3, 1e-3)).toBeLessThan(1e-2);
  });

  it("Gmain: d/dG through the label head", async () => {
    const graph = BuildGeneratorMainGraph({ config: Config, batch: n, augment: true, discriminator, labelLoss: 0.5 });
    const feeds = Feeds();
    const without = await LossAsync(BuildGeneratorMainGraph({ config: Config, batch: n, augment: true, discriminator }), feeds);
    expect(await LossAsync(graph, feeds)).toBeGreaterThan(without + 0.1);
    // First order, but every step moves the images under all of D's kinks: a few flip, which blurs the difference
    // by ~1% (1.3-1.6% at h = 3e-4..1e-3 here; the GAN loss alone 0.6%). A wrong label-loss gradient is off by far more.
    expect(await WorstDirectionalError(graph, feeds, GeneratorParameterSpecs(Config), /torgb/, 3, 1e-3, true)).toBeLessThan(3e-2);
  });
});
