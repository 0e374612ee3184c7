/**
 * The onnxruntime engine's four phase graphs against the tfjs engine as the oracle: on the same weights, draws and
 * augmentation, every parameter's gradient of Gmain, Greg (path length, second order through G), Dmain and Dreg
 * (R1 through the augmentation, second order through D) agrees with tfjs's tf.variableGrads over the trainer's own
 * networks and losses, conditional model included, for both discriminator architectures (0.1's filter-first conv1 and
 * stylegan2-ada's blur + stride-2 conv1 with a label mapping network).
 */
import { describe, expect, it } from "vitest";
import { tf, InitializeTfjsBackendAsync } from "../../src/backends/tfjsBackend.js";
import { AdaAugmentation } from "../../src/augment/adaAugmentation.js";
import { type GeneratorConfig, GeneratorPresets, NoiseResolutions } from "../../src/networks/architecture.js";
import { DiscriminatorParameterSpecs, type DiscriminatorSpecOptions } from "../../src/networks/discriminatorArchitecture.js";
import { DiscriminatorNetwork, InitializeDiscriminatorWeights } from "../../src/networks/discriminatorNetwork.js";
import { GeneratorNetwork } from "../../src/networks/generatorNetwork.js";
import type { ParameterSpec } from "../../src/networks/architecture.js";
import { DiscriminatorMainLoss, DiscriminatorScores, GeneratorMainLoss, PathLengthPenalty, R1Penalty, type AugmentFunction } from "../../src/training/losses.js";
import { DrawFakeInputs, DrawPathLengthNoise, DrawRealBatch, type FakeDraws } from "../../src/training/trainingDraws.js";
import type { TrainingData } from "../../src/training/trainingLoop.js";
import { TrainingRandom } from "../../src/training/trainingRandom.js";
import { PhaseSession } from "../../src/ortTraining/ortSessions.js";
import { FromOnnxLayout } from "../../src/ortTraining/parameterLayout.js";
import { AddAugmentFeeds, AddFakeFeeds, AddRealFeeds, AddStoredParameterFeeds, type Feeds } from "../../src/ortTraining/phaseFeeds.js";
import { BuildDiscriminatorMainGraph, BuildGeneratorMainGraph, BuildPathLengthGraph, BuildR1Graph, type PhaseGraph } from "../../src/ortTraining/trainingGraphs.js";
import { ActiveWeights } from "../generatorTestData.js";

const N = 4;
const AugmentP = 0.6;

function Data(config: GeneratorConfig, count = 6): TrainingData {
  const r = config.resolution;
  const images = new Uint8Array(count * r * r * 3);
  for (let i = 0; i < images.length; i++) images[i] = (Math.imul(i, 2654435761) >>> 24) & 0xff;
  const labelNames = config.labelDim > 0 ? Array.from({ length: config.labelDim }, (_, i) => `attr=${i}`) : [];
  const labels = config.labelDim > 0 ? Float32Array.from({ length: count * config.labelDim }, (_, i) => (i % config.labelDim === Math.floor(i / config.labelDim) % config.labelDim ? 1 : 0)) : null;
  return { count, resolution: r, images, labelNames, labels };
}

/** D weights with non-zero biases, so that every term matters. */
function ActiveDiscriminatorWeights(config: GeneratorConfig, options: DiscriminatorSpecOptions): Map<string, Float32Array> {
  const weights = InitializeDiscriminatorWeights(config, 5, options);
  for (const spec of DiscriminatorParameterSpecs(config, options)) {
    if (spec.name.endsWith(".bias")) weights.get(spec.name)!.forEach((_, i, v) => (v[i] = 0.1 * Math.sin(i + spec.name.length)));
  }
  return weights;
}

/** Worst over parameters of |ort - tfjs|₂ / |tfjs|₂ (ort converted to the checkpoint layout; |ort|₂ where tfjs is 0). */
function WorstRelativeError(specs: readonly ParameterSpec[], graph: PhaseGraph, ort: Map<string, Float32Array>, tfjsGrads: tf.NamedTensorMap, variables: ReadonlyMap<string, tf.Variable>): { worst: number; name: string } {
  let worst = 0;
  let name = "";
  for (const spec of specs.filter((s) => s.trainable)) {
    const fromOrt = FromOnnxLayout(spec, ort.get(graph.gradients.get(spec.name)!)!);
    // tfjs leaves out variables the loss does not depend on (a toRGB bias in the path length): zeros.
    const grad = tfjsGrads[variables.get(spec.name)!.name];
    const expected = grad ? (grad.dataSync() as Float32Array) : new Float32Array(fromOrt.length);
    let diff = 0;
    let norm = 0;
    for (let i = 0; i < expected.length; i++) {
      diff += (fromOrt[i] - expected[i]) ** 2;
      norm += expected[i] ** 2;
    }
    const rel = norm > 0 ? Math.sqrt(diff / norm) : Math.sqrt(diff);
    if (rel > worst) [worst, name] = [rel, spec.name];
  }
  return { worst, name };
}

/** Everything one comparison needs, on the tiny preset (conditional with 3 labels, or not). */
async function SetUpAsync(labelDim: number, discriminator: DiscriminatorSpecOptions) {
  await InitializeTfjsBackendAsync("cpu"); // float32 reference with tfjs's own kernels
  const config: GeneratorConfig = { ...GeneratorPresets.tiny, labelDim };
  const data = Data(config);
  const gWeights = ActiveWeights(config, 3);
  const dWeights = ActiveDiscriminatorWeights(config, discriminator);
  const G = new GeneratorNetwork(config, gWeights);
  const D = new DiscriminatorNetwork(config, dWeights, discriminator);
  const random = new TrainingRandom(11);
  const augmentation = AdaAugmentation.Create("bgc", { p: AugmentP });
  const R = config.resolution;
  const tensors = (fake: FakeDraws) => {
    const n = fake.n;
    const label = fake.label ? tf.tensor2d(fake.label, [n, labelDim]) : undefined;
    const both = G.mapping(tf.concat([tf.tensor2d(fake.z, [n, config.zDim]), tf.tensor2d(fake.zMix, [n, config.zDim])], 0), label && tf.concat([label, label], 0));
    const [w, wMix] = tf.split(both, [n, n], 0) as [tf.Tensor2D, tf.Tensor2D];
    const m = tf.expandDims(tf.tensor2d(fake.mix, [n, fake.mix.length / n]), 2);
    const ws = tf.add(tf.mul(tf.expandDims(w, 1), tf.sub(1, m)), tf.mul(tf.expandDims(wMix, 1), m)) as tf.Tensor3D;
    const noise = NoiseResolutions(config).map((r, i) => tf.tensor4d(fake.noise[i], [n, r, r, 1]));
    return { ws, noise, label };
  };
  const augmentFn = (seed: number): AugmentFunction => (images) => augmentation.augment(images, seed);
  const feeds = (): Feeds => {
    const f: Feeds = new Map();
    AddStoredParameterFeeds(f, G.specs, gWeights);
    AddStoredParameterFeeds(f, D.specs, dWeights);
    return f;
  };
  return { config, data, G, D, random, augmentation, R, tensors, augmentFn, feeds, labelDim, discriminator };
}

/** The tfjs mapping's batch mean of the own latents' w (what the graphs output as `w_mean`). */
function WMean(G: GeneratorNetwork, fake: FakeDraws, config: GeneratorConfig): Float32Array {
  return tf.tidy(() => {
    const label = fake.label ? tf.tensor2d(fake.label, [fake.n, config.labelDim]) : undefined;
    return tf.mean(G.mapping(tf.tensor2d(fake.z, [fake.n, config.zDim]), label), 0).dataSync() as Float32Array;
  });
}

function ExpectClose(actual: Float32Array, expected: Float32Array, what: string): void {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  expect(worst, what).toBeLessThan(1e-5);
}

const Architectures: { readonly name: string; readonly labelDim: number; readonly discriminator: DiscriminatorSpecOptions }[] = [
  { name: "", labelDim: 0, discriminator: {} },
  { name: " (conditional)", labelDim: 3, discriminator: {} },
  { name: " (strided conv1)", labelDim: 0, discriminator: { convDown: "strided" } },
  { name: " (conditional, strided conv1, label mapping)", labelDim: 3, discriminator: { convDown: "strided", mappingLayers: 2 } },
];

describe("onnxruntime training graphs vs the tfjs engine (tiny preset, batch 4, ADA p = 0.6)", () => {
  for (const { name, labelDim, discriminator } of Architectures) {
    it(`Gmain and Dmain gradients agree${name}`, async () => {
      const s = await SetUpAsync(labelDim, discriminator);
      // Gmain.
      const fake = DrawFakeInputs(s.random, s.config, 1, s.data, N);
      const seed = 1234;
      let graph = BuildGeneratorMainGraph({ config: s.config, batch: N, augment: true, discriminator });
      let feeds = s.feeds();
      AddFakeFeeds(feeds, fake, labelDim);
      AddAugmentFeeds(feeds, "", s.augmentation.sampleParams(N, s.R, seed), s.R);
      let session = await PhaseSession.CreateAsync(graph, { device: "cpu", threads: 1 });
      let ort = await session.runAsync(feeds);
      await session.releaseAsync();
      const gMain = tf.tidy(() =>
        tf.variableGrads(() => {
          const t = s.tensors(fake);
          return GeneratorMainLoss(DiscriminatorScores(s.D, s.G.synthesis(t.ws, t.noise, tf.ones([N, 1])), t.label, s.augmentFn(seed)));
        }, s.G.trainableVariables()),
      );
      expect(ort.get("loss")![0]).toBeCloseTo(gMain.value.dataSync()[0], 5);
      const g = WorstRelativeError(s.G.specs, graph, ort, gMain.grads, s.G.variables);
      expect(g.worst, `Gmain, worst at ${g.name}`).toBeLessThan(1e-4);
      ExpectClose(ort.get("w_mean")!, WMean(s.G, fake, s.config), "Gmain w_mean");

      // Dmain, with independent augmentations of fakes and reals.
      const real = DrawRealBatch(s.random, s.data, labelDim, N);
      graph = BuildDiscriminatorMainGraph({ config: s.config, batch: N, augment: true, discriminator });
      feeds = s.feeds();
      AddFakeFeeds(feeds, fake, labelDim);
      AddRealFeeds(feeds, real.pixels, real.label, N, s.R, labelDim);
      AddAugmentFeeds(feeds, "fake_", s.augmentation.sampleParams(N, s.R, 5), s.R);
      AddAugmentFeeds(feeds, "real_", s.augmentation.sampleParams(N, s.R, 6), s.R);
      session = await PhaseSession.CreateAsync(graph, { device: "cpu", threads: 1 });
      ort = await session.runAsync(feeds);
      await session.releaseAsync();
      const dMain = tf.tidy(() => {
        const t = s.tensors(fake);
        const fakes = s.G.synthesis(t.ws, t.noise, tf.ones([N, 1]));
        const reals = tf.tensor4d(real.pixels, [N, s.R, s.R, 3]);
        const realLabel = real.label ? tf.tensor2d(real.label, [N, labelDim]) : undefined;
        return tf.variableGrads(
          () => DiscriminatorMainLoss(DiscriminatorScores(s.D, fakes, t.label, s.augmentFn(5)), DiscriminatorScores(s.D, reals, realLabel, s.augmentFn(6))),
          s.D.trainableVariables(),
        );
      });
      expect(ort.get("loss")![0]).toBeCloseTo(dMain.value.dataSync()[0], 5);
      const d = WorstRelativeError(s.D.specs, graph, ort, dMain.grads, s.D.variables);
      expect(d.worst, `Dmain, worst at ${d.name}`).toBeLessThan(1e-4);
      ExpectClose(ort.get("w_mean")!, WMean(s.G, fake, s.config), "Dmain w_mean");
      s.G.dispose();
      s.D.dispose();
    });
  }

  for (const { name, discriminator } of Architectures.filter((a) => a.labelDim === 0)) it(`Greg (path length) and Dreg (R1 through the augmentation) gradients agree: second order${name}`, async () => {
    const s = await SetUpAsync(0, discriminator);
    // Greg on half the batch.
    const m = N / 2;
    const fake = DrawFakeInputs(s.random, s.config, 1, s.data, m);
    const plNoise = DrawPathLengthNoise(s.random, s.R, m);
    const plMean = 0.7;
    let graph = BuildPathLengthGraph({ config: s.config, batch: m, weight: 2 });
    let feeds = s.feeds();
    AddFakeFeeds(feeds, fake, 0);
    feeds.set("pl_noise", { data: plNoise, dims: [m, s.R, s.R, 3] });
    feeds.set("pl_mean", { data: Float32Array.of(plMean), dims: [] });
    let session = await PhaseSession.CreateAsync(graph, { device: "cpu", threads: 1 });
    let ort = await session.runAsync(feeds);
    await session.releaseAsync();
    let meanLength = 0;
    const greg = tf.tidy(() =>
      tf.variableGrads(() => {
        const t = s.tensors(fake);
        const pl = PathLengthPenalty(s.G, t.ws, t.noise, tf.ones([m, 1]), tf.tensor4d(plNoise, [m, s.R, s.R, 3]), plMean);
        meanLength = pl.meanLength.dataSync()[0];
        return tf.mul(pl.penalty, 2) as tf.Scalar;
      }, s.G.trainableVariables()),
    );
    expect(ort.get("mean_length")![0]).toBeCloseTo(meanLength, 5);
    ExpectClose(ort.get("w_mean")!, WMean(s.G, fake, s.config), "Greg w_mean");
    const g = WorstRelativeError(s.G.specs, graph, ort, greg.grads, s.G.variables);
    expect(g.worst, `Greg, worst at ${g.name}`).toBeLessThan(1e-3);

    // Dreg.
    const real = DrawRealBatch(s.random, s.data, 0, N);
    graph = BuildR1Graph({ config: s.config, batch: N, augment: true, weight: 3, discriminator });
    feeds = s.feeds();
    AddRealFeeds(feeds, real.pixels, null, N, s.R, 0);
    AddAugmentFeeds(feeds, "real_", s.augmentation.sampleParams(N, s.R, 77), s.R);
    session = await PhaseSession.CreateAsync(graph, { device: "cpu", threads: 1 });
    ort = await session.runAsync(feeds);
    await session.releaseAsync();
    let r1 = 0;
    const dreg = tf.tidy(() =>
      tf.variableGrads(() => {
        const penalty = R1Penalty(s.D, tf.tensor4d(real.pixels, [N, s.R, s.R, 3]), undefined, s.augmentFn(77));
        r1 = penalty.dataSync()[0];
        return tf.mul(penalty, 3) as tf.Scalar;
      }, s.D.trainableVariables()),
    );
    expect(ort.get("r1")![0] / r1).toBeCloseTo(1, 4);
    const d = WorstRelativeError(s.D.specs, graph, ort, dreg.grads, s.D.variables);
    expect(d.worst, `Dreg, worst at ${d.name}`).toBeLessThan(1e-3);
    s.G.dispose();
    s.D.dispose();
  });
});

