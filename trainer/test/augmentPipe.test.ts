/** ADA's image pipeline: each transform does what it says, p = 0 is exact identity, gradients on wasm, determinism. */
import { beforeAll, describe, expect, it } from "vitest";
import { InitializeTfjsBackendAsync, tf } from "../src/backends/tfjsBackend.js";
import { AffineResampleImages, ReflectIndex } from "../src/augment/affineResample.js";
import { AugmentImages, AugmentPipe, AugmentPresets, type AugmentSpec } from "../src/augment/augmentPipe.js";
import { AugmentRandom } from "../src/augment/augmentRandom.js";
import { MaxAbsDiff } from "./generatorTestData.js";

/** A spec with only the named transforms on (strengths as "bgc"). */
function Only(...names: (keyof typeof AugmentPresets.bgc)[]): Partial<AugmentSpec> {
  const spec: Record<string, number> = { ...AugmentPresets.bgc };
  for (const key of ["xflip", "rotate90", "xint", "scale", "rotate", "aniso", "xfrac", "brightness", "contrast", "lumaflip", "hue", "saturation"]) spec[key] = 0;
  for (const name of names) spec[name] = 1;
  return spec;
}

function RandomImages(shape: [number, number, number, number], seed: number): tf.Tensor4D {
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  let s = seed >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return tf.tensor4d(out, shape);
}

/** Image b of a batch as nested arrays [H][W][C]. */
const ImageOf = (x: tf.Tensor4D, b: number): number[][][] => (x.arraySync() as number[][][][])[b];

beforeAll(async () => {
  await InitializeTfjsBackendAsync("wasm");
});

describe("AugmentPipe transforms at p = 1", () => {
  let x: tf.Tensor4D;
  beforeAll(() => {
    x = RandomImages([16, 8, 8, 3], 1);
  });

  it("p = 0 is exactly the identity (the input tensor itself)", () => {
    const random = new AugmentRandom(5);
    expect(new AugmentPipe("bgc").augment(x, 0, random)).toBe(x);
    expect(random.counter).toBe(16);
    expect(AugmentImages(x, 0, new AugmentRandom(5))).toBe(x);
  });

  it("images whose transforms do not fire stay bit-exact inside an augmented batch", () => {
    const pipe = new AugmentPipe("bgc");
    const params = pipe.sampleParams(16, 8, 8, 0.2, new AugmentRandom(11));
    const y = pipe.apply(x, params);
    const xs = x.arraySync();
    const ys = y.arraySync();
    let untouched = 0;
    for (let b = 0; b < 16; b++) {
      const g = Array.from(params.geometric.subarray(b * 6, b * 6 + 6));
      const c = Array.from(params.colour.subarray(b * 12, b * 12 + 12));
      if (g.join() === "1,0,0,0,1,0" && c.join() === "1,0,0,0,0,1,0,0,0,0,1,0") {
        untouched++;
        expect(ys[b]).toEqual(xs[b]);
      }
    }
    expect(untouched).toBeGreaterThan(0);
  });

  it("xflip mirrors left-right (or leaves the image)", () => {
    const y = new AugmentPipe(Only("xflip")).augment(x, 1, new AugmentRandom(1));
    const flipped = tf.reverse(x, 2);
    let flips = 0;
    for (let b = 0; b < 16; b++) {
      const same = MaxAbsDiff(ImageOf(y, b).flat(2), ImageOf(x, b).flat(2)) === 0;
      const mirrored = MaxAbsDiff(ImageOf(y, b).flat(2), ImageOf(flipped, b).flat(2)) === 0;
      expect(same || mirrored).toBe(true);
      if (mirrored) flips++;
    }
    expect(flips).toBeGreaterThan(2);
    expect(flips).toBeLessThan(14);
  });

  it("rotate90 gives one of the four exact quarter turns", () => {
    const y = new AugmentPipe(Only("rotate90")).augment(x, 1, new AugmentRandom(2));
    const r1 = tf.transpose(tf.reverse(x, 2), [0, 2, 1, 3]);
    const r2 = tf.reverse(x, [1, 2]);
    const r3 = tf.reverse(tf.transpose(x, [0, 2, 1, 3]), 2);
    const seen = new Set<number>();
    for (let b = 0; b < 16; b++) {
      const k = [x, r1, r2, r3].findIndex((r) => MaxAbsDiff(ImageOf(y, b).flat(2), ImageOf(r as tf.Tensor4D, b).flat(2)) < 1e-6);
      expect(k).toBeGreaterThanOrEqual(0);
      seen.add(k);
    }
    expect(seen.size).toBeGreaterThan(2);
  });

  it("a 90° rotation matrix equals transpose(reverse) exactly", () => {
    const small = RandomImages([2, 5, 5, 3], 3);
    const rot = AffineResampleImages(small, [0, -1, 0, 1, 0, 0, 0, -1, 0, 1, 0, 0]);
    const expected = tf.transpose(tf.reverse(small, 2), [0, 2, 1, 3]);
    expect(MaxAbsDiff(rot.dataSync(), expected.dataSync())).toBe(0);
  });

  it("integer translation shifts by whole pixels exactly (reflect padding at the edges)", () => {
    const pipe = new AugmentPipe(Only("xint"));
    const params = pipe.sampleParams(16, 8, 8, 1, new AugmentRandom(4));
    const y = pipe.apply(x, params);
    const xs = x.arraySync();
    const ys = y.arraySync();
    let moved = 0;
    for (let b = 0; b < 16; b++) {
      const [g00, g01, g02, g10, g11, g12] = params.geometric.subarray(b * 6, b * 6 + 6);
      expect([g00, g01, g10, g11]).toEqual([1, 0, 0, 1]);
      expect(Number.isInteger(g02) && Number.isInteger(g12)).toBe(true);
      expect(Math.abs(g02)).toBeLessThanOrEqual(1); // ±1/8 of 8 px
      if (g02 !== 0 || g12 !== 0) moved++;
      for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) expect(ys[b][i][j]).toEqual(xs[b][ReflectIndex(i + g12, 8)][ReflectIndex(j + g02, 8)]);
    }
    expect(moved).toBeGreaterThan(4);
  });

  it("isotropic scale, rotation and anisotropic scale draw the documented distributions", () => {
    const n = 3000;
    const scale = new AugmentPipe(Only("scale")).sampleParams(n, 64, 64, 1, new AugmentRandom(6));
    const logs: number[] = [];
    for (let b = 0; b < n; b++) {
      const g = scale.geometric.subarray(b * 6, b * 6 + 6);
      expect(g[0]).toBeCloseTo(g[4], 12);
      expect(g[1]).toBe(0);
      logs.push(-Math.log2(g[0]));
    }
    const mean = logs.reduce((a, b) => a + b, 0) / n;
    const std = Math.sqrt(logs.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(std).toBeGreaterThan(0.18);
    expect(std).toBeLessThan(0.22);
    // Rotation: P(any rotation) = p, angles uniform in ±180°, matrices orthonormal.
    const p = 0.5;
    const rot = new AugmentPipe(Only("rotate")).sampleParams(n, 64, 64, p, new AugmentRandom(7));
    let rotated = 0;
    for (let b = 0; b < n; b++) {
      const g = rot.geometric.subarray(b * 6, b * 6 + 6);
      expect(g[0] * g[0] + g[3] * g[3]).toBeCloseTo(1, 12);
      expect(g[0]).toBeCloseTo(g[4], 12);
      if (g[0] !== 1) rotated++;
    }
    expect(rotated / n).toBeGreaterThan(p - 0.04);
    expect(rotated / n).toBeLessThan(p + 0.04);
  });

  it("the per-transform probability is p", () => {
    const n = 4000;
    const params = new AugmentPipe(Only("brightness")).sampleParams(n, 8, 8, 0.3, new AugmentRandom(8));
    let fired = 0;
    for (let b = 0; b < n; b++) if (params.colour[b * 12 + 3] !== 0) fired++;
    expect(fired / n).toBeGreaterThan(0.27);
    expect(fired / n).toBeLessThan(0.33);
  });

  it("brightness adds one offset and contrast multiplies by one factor per image", () => {
    const xs = x.dataSync();
    const bright = new AugmentPipe(Only("brightness")).augment(x, 1, new AugmentRandom(9)).dataSync();
    const contrast = new AugmentPipe(Only("contrast")).augment(x, 1, new AugmentRandom(9)).dataSync();
    const per = 8 * 8 * 3;
    const offsets = new Set<string>();
    for (let b = 0; b < 16; b++) {
      const d0 = bright[b * per] - xs[b * per];
      const f0 = contrast[b * per] / xs[b * per];
      offsets.add(d0.toFixed(3));
      for (let i = b * per; i < (b + 1) * per; i++) {
        expect(bright[i] - xs[i]).toBeCloseTo(d0, 5);
        expect(contrast[i]).toBeCloseTo(xs[i] * f0, 5);
      }
    }
    expect(offsets.size).toBeGreaterThan(8);
  });

  it("hue rotation and saturation keep the luma axis (mean of RGB) and change colours", () => {
    const xs = x.dataSync();
    for (const name of ["hue", "saturation"] as const) {
      const y = new AugmentPipe(Only(name)).augment(x, 1, new AugmentRandom(10)).dataSync();
      let change = 0;
      for (let i = 0; i < xs.length; i += 3) {
        expect((y[i] + y[i + 1] + y[i + 2]) / 3).toBeCloseTo((xs[i] + xs[i + 1] + xs[i + 2]) / 3, 5);
        change = Math.max(change, Math.abs(y[i] - xs[i]));
      }
      expect(change).toBeGreaterThan(0.1);
    }
    // Hue is a rotation: it keeps each pixel's distance from the grey axis too.
    const y = new AugmentPipe(Only("hue")).augment(x, 1, new AugmentRandom(12)).dataSync();
    const chroma = (v: ArrayLike<number>, i: number): number => {
      const m = (v[i] + v[i + 1] + v[i + 2]) / 3;
      return Math.hypot(v[i] - m, v[i + 1] - m, v[i + 2] - m);
    };
    for (let i = 0; i < xs.length; i += 3) expect(chroma(y, i)).toBeCloseTo(chroma(xs, i), 5);
  });
});

describe("AugmentPipe gradients and determinism", () => {
  it("gradients w.r.t. the images agree with finite differences on wasm (all transforms, p = 1)", () => {
    const x = RandomImages([2, 5, 5, 3], 21);
    const target = RandomImages([2, 5, 5, 3], 22);
    const pipe = new AugmentPipe("bgc");
    const f = (im: tf.Tensor4D): tf.Scalar => tf.sum(tf.mul(tf.square(pipe.augment(im, 1, new AugmentRandom(99))), target));
    const grad = tf.grad((im) => f(im as tf.Tensor4D))(x).dataSync();
    const base = x.dataSync();
    const eps = 1e-2;
    let worst = 0;
    for (let i = 0; i < base.length; i += 7) {
      const plus = Float32Array.from(base);
      const minus = Float32Array.from(base);
      plus[i] += eps;
      minus[i] -= eps;
      const numeric = (f(tf.tensor4d(plus, x.shape)).dataSync()[0] - f(tf.tensor4d(minus, x.shape)).dataSync()[0]) / (2 * eps);
      worst = Math.max(worst, Math.abs(numeric - grad[i]) / (1 + Math.abs(numeric)));
    }
    expect(worst).toBeLessThan(2e-3);
  });

  it("second-order gradients (R1 through the augmentation) agree with finite differences on wasm", () => {
    const x = RandomImages([1, 4, 4, 3], 31);
    const target = RandomImages([1, 4, 4, 3], 32);
    const pipe = new AugmentPipe("bgc");
    // h(x) = |d/dx sum(aug(x)^2 * t)|^2, an R1-like penalty.
    const h = (im: tf.Tensor4D): tf.Scalar => {
      const g = tf.grad((y) => tf.sum(tf.mul(tf.square(pipe.augment(y as tf.Tensor4D, 1, new AugmentRandom(5))), target)))(im);
      return tf.sum(tf.square(g));
    };
    const grad = tf.grad((im) => h(im as tf.Tensor4D))(x).dataSync();
    const base = x.dataSync();
    const eps = 1e-2;
    for (let i = 0; i < base.length; i += 5) {
      const plus = Float32Array.from(base);
      const minus = Float32Array.from(base);
      plus[i] += eps;
      minus[i] -= eps;
      const numeric = (h(tf.tensor4d(plus, x.shape)).dataSync()[0] - h(tf.tensor4d(minus, x.shape)).dataSync()[0]) / (2 * eps);
      expect(Math.abs(numeric - grad[i])).toBeLessThan(2e-3 * (1 + Math.abs(numeric)));
    }
  });

  it("the tf-ops resampling (other backends) equals the JS kernel, forward and backward (cpu backend)", async () => {
    await InitializeTfjsBackendAsync("cpu");
    try {
      const x = RandomImages([3, 6, 7, 3], 41);
      const target = RandomImages([3, 6, 7, 3], 42);
      const params = new AugmentPipe("bgc").sampleParams(3, 6, 7, 1, new AugmentRandom(3));
      const run = (mode: "js" | "ops") => {
        const pipe = new AugmentPipe("bgc", { mode });
        const y = pipe.apply(x, params).dataSync();
        const g = tf.grad((im) => tf.sum(tf.mul(pipe.apply(im as tf.Tensor4D, params), target)))(x).dataSync();
        return { y, g };
      };
      const js = run("js");
      const ops = run("ops");
      expect(MaxAbsDiff(js.y, ops.y)).toBeLessThan(1e-5);
      expect(MaxAbsDiff(js.g, ops.g)).toBeLessThan(1e-5);
    } finally {
      await InitializeTfjsBackendAsync("wasm");
    }
  });

  it("is deterministic for a seed and counter, and resumes from a saved counter", () => {
    const x = RandomImages([4, 8, 8, 3], 51);
    const a = new AugmentRandom(123);
    const first = AugmentImages(x, 0.7, a).dataSync();
    const second = AugmentImages(x, 0.7, a).dataSync();
    const saved = a.toJSON();
    const third = AugmentImages(x, 0.7, a).dataSync();
    expect(saved).toEqual({ seed: 123, counter: 8 });
    expect(Array.from(AugmentImages(x, 0.7, new AugmentRandom(123)).dataSync())).toEqual(Array.from(first));
    expect(Array.from(AugmentImages(x, 0.7, AugmentRandom.fromJSON(saved)).dataSync())).toEqual(Array.from(third));
    expect(MaxAbsDiff(first, second)).toBeGreaterThan(0.01);
    expect(MaxAbsDiff(first, AugmentImages(x, 0.7, new AugmentRandom(124)).dataSync())).toBeGreaterThan(0.01);
  });

  it("leaves no tensors behind", () => {
    const x = RandomImages([2, 8, 8, 3], 61);
    const before = tf.memory().numTensors;
    const g = tf.grad((im) => tf.sum(AugmentImages(im as tf.Tensor4D, 1, new AugmentRandom(1))))(x);
    g.dispose();
    AugmentImages(x, 1, new AugmentRandom(2)).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
