/** The tfjs generator: shapes, truncation, mixing, backends agree, the modulated conv is the textbook one, it trains. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InitializeTfjsBackendAsync, tf } from "../src/backends/tfjsBackend.js";
import { GeneratorPresets, NumWs, SynthesisLayers } from "../src/networks/architecture.js";
import { GeneratorNetwork } from "../src/networks/generatorNetwork.js";
import { EstimateWAvg } from "../src/networks/initializeGeneratorWeights.js";
import { DemodulationEpsilon, ModulatedConv2d } from "../src/networks/modulatedConv2d.js";
import { ActiveWeights, InputTensors, MaxAbsDiff, RelativeMaxDiff, SeedInputs } from "./generatorTestData.js";

const tiny = GeneratorPresets.tiny;
const weights = ActiveWeights(tiny, 5);

function Image(network: GeneratorNetwork, inputs: ReturnType<typeof SeedInputs>): Float32Array {
  return tf.tidy(() => network.forward(InputTensors(tiny, inputs)).dataSync() as Float32Array).slice();
}

describe("GeneratorNetwork on cpu", () => {
  let network: GeneratorNetwork;
  beforeAll(async () => {
    await InitializeTfjsBackendAsync("cpu");
    network = new GeneratorNetwork(tiny, weights);
  });
  afterAll(() => network.dispose());

  it("maps z to w and generates [N, 16, 16, 3] finite images", () => {
    const inputs = SeedInputs(tiny, [1, 2, 3]);
    tf.tidy(() => {
      const t = InputTensors(tiny, inputs);
      expect(network.mapping(t.z).shape).toEqual([3, tiny.wDim]);
      const image = network.forward(t);
      expect(image.shape).toEqual([3, 16, 16, 3]);
      const values = image.dataSync();
      expect(values.every(Number.isFinite)).toBe(true);
      expect(tf.moments(image).variance.dataSync()[0]).toBeGreaterThan(1e-4);
    });
  });

  it("leaves no tensors behind (forward in tidy, dispose frees the variables)", () => {
    const forward = (n: GeneratorNetwork) => tf.tidy(() => {
      n.forward(InputTensors(tiny, SeedInputs(tiny, [1])));
    });
    const before = tf.memory().numTensors;
    const other = new GeneratorNetwork(tiny, weights);
    expect(tf.memory().numTensors - before).toBe(other.variables.size);
    forward(other);
    forward(other);
    other.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("round-trips its weights", () => {
    const back = network.getWeights();
    for (const [name, values] of weights) expect(back.get(name), name).toEqual(values);
  });

  it("psi = 0 gives the same image for different z (no noise)", () => {
    const image = Image(network, SeedInputs(tiny, [10, 20, 30], { psi: 0, noiseStrength: 0 }));
    const size = 16 * 16 * 3;
    expect(MaxAbsDiff(image.subarray(0, size), image.subarray(size, 2 * size))).toBeLessThan(1e-6);
    expect(MaxAbsDiff(image.subarray(0, size), image.subarray(2 * size))).toBeLessThan(1e-6);
    // ... while psi = 1 gives different faces.
    const free = Image(network, SeedInputs(tiny, [10, 20], { psi: 1, noiseStrength: 0 }));
    expect(MaxAbsDiff(free.subarray(0, size), free.subarray(size))).toBeGreaterThan(1e-3);
  });

  it("mix = 1 on every layer equals generating from zMix", () => {
    const mixed = SeedInputs(tiny, [4, 5], { mix: 1 });
    const direct = { ...mixed, z: mixed.zMix, zMix: mixed.z, mix: new Float32Array(mixed.mix.length).fill(0) };
    expect(RelativeMaxDiff(Image(network, direct), Image(network, mixed))).toBeLessThan(1e-6);
  });

  it("adds controls @ directions to ws", () => {
    const inputs = SeedInputs(tiny, [6, 7]);
    tf.tidy(() => {
      const t = InputTensors(tiny, inputs);
      const numWs = NumWs(tiny);
      // K = 3 controls for N = 2 faces.
      const directions = tf.randomNormal([3, numWs, tiny.wDim], 0, 1, "float32", 9) as tf.Tensor3D;
      const controls = tf.tensor2d([0.5, -1, 2, 0, 1, -0.25], [2, 3]);
      const base = network.composeWs(t);
      const moved = network.composeWs({ ...t, controls, controlDirections: directions });
      const expected = tf.add(base, tf.reshape(tf.matMul(controls, tf.reshape(directions, [3, -1])), [2, numWs, tiny.wDim]));
      expect(MaxAbsDiff(moved.dataSync(), expected.dataSync())).toBeLessThan(1e-5);
      expect(network.forward({ ...t, controls, controlDirections: directions }).shape).toEqual([2, 16, 16, 3]);
    });
  });

  it("rejects inputs of the wrong shape with a message naming them", () => {
    const t = InputTensors(tiny, SeedInputs(tiny, [1]));
    expect(() => network.forward({ ...t, noise: t.noise.slice(1) })).toThrow(/noise/);
    expect(() => network.forward({ ...t, mix: tf.zeros([1, 3]) as tf.Tensor2D })).toThrow(/mix/);
    expect(() => new GeneratorNetwork(tiny, new Map())).toThrow(/missing parameter/);
  });

  it("trains: every trainable variable gets a finite gradient", () => {
    const inputs = SeedInputs(tiny, [1, 2]);
    const { grads, value } = tf.variableGrads(() => tf.mean(tf.square(network.forward(InputTensors(tiny, inputs)))) as tf.Scalar, network.trainableVariables());
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    const names = [...network.variables.entries()].filter(([, v]) => v.trainable).map(([n]) => n);
    expect(Object.keys(grads).length).toBe(names.length);
    let nonZero = 0;
    for (const g of Object.values(grads)) {
      const v = g.dataSync();
      expect(v.every(Number.isFinite)).toBe(true);
      if (v.some((x) => x !== 0)) nonZero++;
    }
    expect(nonZero).toBe(names.length);
    tf.dispose([value, ...Object.values(grads)]);
  });

  it("has w_avg set by EstimateWAvg pull psi = 0 toward the mean w", () => {
    const estimated = new Map(weights);
    estimated.set("mapping.w_avg", EstimateWAvg(tiny, weights, 64));
    const other = new GeneratorNetwork(tiny, estimated);
    const ws = tf.tidy(() => other.composeWs(InputTensors(tiny, SeedInputs(tiny, [1], { psi: 0 }))).dataSync());
    other.dispose();
    for (let l = 0; l < NumWs(tiny); l++) {
      expect(MaxAbsDiff(ws.subarray(l * tiny.wDim, (l + 1) * tiny.wDim), estimated.get("mapping.w_avg")!)).toBeLessThan(1e-6);
    }
  });
});

describe("ModulatedConv2d", () => {
  it("equals convolving each sample with its own modulated, demodulated weight (textbook form)", async () => {
    await InitializeTfjsBackendAsync("cpu");
    for (const up of [false, true]) {
      tf.tidy(() => {
        const [n, h, cIn, cOut] = [3, 6, 5, 4];
        const x = tf.randomNormal([n, h, h, cIn], 0, 1, "float32", 1) as tf.Tensor4D;
        const w = tf.mul(tf.randomNormal([3, 3, cIn, cOut], 0, 1, "float32", 2), 1 / Math.sqrt(9 * cIn)) as tf.Tensor4D;
        const s = tf.add(tf.randomNormal([n, cIn], 0, 0.5, "float32", 3), 1) as tf.Tensor2D;
        const ours = ModulatedConv2d(x, w, s, { demodulate: true, up });
        const textbook = tf.concat(
          tf.unstack(x).map((xi, i) => {
            const modulated = tf.mul(w, tf.reshape(tf.slice(s, [i, 0], [1, cIn]), [1, 1, cIn, 1])); // W * s per input channel
            const demodulated = tf.mul(modulated, tf.rsqrt(tf.add(tf.sum(tf.square(modulated), [0, 1, 2], true), DemodulationEpsilon)));
            const input = tf.expandDims(xi, 0) as tf.Tensor4D;
            const upsampled = up ? tf.image.resizeBilinear(input, [2 * h, 2 * h], false, true) : input;
            return tf.conv2d(upsampled, demodulated as tf.Tensor4D, 1, "same");
          }),
        );
        expect(ours.shape).toEqual(textbook.shape);
        expect(MaxAbsDiff(ours.dataSync(), textbook.dataSync())).toBeLessThan(1e-5);
      });
    }
  });
});

describe("backends", () => {
  it("cpu and wasm agree within 1e-4 relative", async () => {
    const inputs = SeedInputs(tiny, [11, 12]);
    const run = async (backend: "cpu" | "wasm") => {
      await InitializeTfjsBackendAsync(backend);
      const network = new GeneratorNetwork(tiny, weights);
      const image = Image(network, inputs);
      network.dispose();
      return image;
    };
    const cpu = await run("cpu");
    const wasm = await run("wasm");
    expect(wasm.every(Number.isFinite)).toBe(true);
    expect(RelativeMaxDiff(cpu, wasm)).toBeLessThan(1e-4);
  });

  it("uses every synthesis layer's parameters (sanity of the layer walk)", () => {
    expect(SynthesisLayers(tiny).map((l) => l.name)).toEqual([
      "synthesis.b4.conv1",
      "synthesis.b4.torgb",
      "synthesis.b8.conv0",
      "synthesis.b8.conv1",
      "synthesis.b8.torgb",
      "synthesis.b16.conv0",
      "synthesis.b16.conv1",
      "synthesis.b16.torgb",
    ]);
  });
});
