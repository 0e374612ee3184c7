/**
 * The inputs of the phase graphs (./trainingGraphs.ts) from plain arrays: parameters, the draws of
 * ../training/trainingDraws.ts and the augmentation's parameters, under the names the graphs declare.
 */
import { BuildAffineResampling } from "../augment/affineResample.js";
import type { AugmentParams } from "../augment/augmentPipe.js";
import type { ParameterSpec } from "../networks/architecture.js";
import type { FakeDraws } from "../training/trainingDraws.js";
import { OnnxParameterShape, ToOnnxLayout } from "./parameterLayout.js";
import { AugmentTaps } from "./trainingGraphs.js";

/** One graph input: float32 values or int32 indices, with its shape. */
export interface Feed {
  readonly data: Float32Array | Int32Array;
  readonly dims: readonly number[];
}

/** Graph inputs by name. */
export type Feeds = Map<string, Feed>;

/** Parameters already in the ONNX layout (./parameterLayout.ts), e.g. the engine's own. */
export function AddParameterFeeds(feeds: Feeds, specs: readonly ParameterSpec[], onnxValues: ReadonlyMap<string, Float32Array>): void {
  for (const spec of specs) feeds.set(spec.name, { data: onnxValues.get(spec.name)!, dims: OnnxParameterShape(spec) });
}

/** Parameters in the checkpoint layout (converted; for one-off runs such as tests). */
export function AddStoredParameterFeeds(feeds: Feeds, specs: readonly ParameterSpec[], stored: ReadonlyMap<string, Float32Array>): void {
  AddParameterFeeds(feeds, specs, new Map(specs.map((spec) => [spec.name, ToOnnxLayout(spec, stored.get(spec.name)!)])));
}

/** Latents, mixing, noise (and labels) of a batch of fakes: `z`, `z_mix`, `mix`, `noise<i>`, `label`. */
export function AddFakeFeeds(feeds: Feeds, fake: FakeDraws, labelDim: number): void {
  const { n } = fake;
  feeds.set("z", { data: fake.z, dims: [n, fake.z.length / n] });
  feeds.set("z_mix", { data: fake.zMix, dims: [n, fake.zMix.length / n] });
  feeds.set("mix", { data: fake.mix, dims: [n, fake.mix.length / n] });
  fake.noise.forEach((values, i) => {
    const r = Math.round(Math.sqrt(values.length / n));
    feeds.set(`noise${i}`, { data: values, dims: [n, 1, r, r] });
  });
  if (labelDim > 0) {
    if (!fake.label) throw new Error("conditional training graph: the fakes have no labels");
    feeds.set("label", { data: fake.label, dims: [n, labelDim] });
  }
}

/** A batch of reals, NHWC [n, R, R, 3] in [-1, 1] (and labels): `real`, `real_label`. */
export function AddRealFeeds(feeds: Feeds, pixels: Float32Array, label: Float32Array | null, n: number, resolution: number, labelDim: number): void {
  feeds.set("real", { data: pixels, dims: [n, resolution, resolution, 3] });
  if (labelDim > 0) {
    if (!label) throw new Error("conditional training graph: the reals have no labels");
    feeds.set("real_label", { data: label, dims: [n, labelDim] });
  }
}

/** The augmentation of `n` images as `<prefix>aug_indices`, `_weights`, `_colour` (transposed) and `_offset`. */
export function AddAugmentFeeds(feeds: Feeds, prefix: string, params: AugmentParams, resolution: number): void {
  const n = params.batch;
  const R = resolution;
  const warp = BuildAffineResampling(params.geometric, n, R, R);
  if (warp.taps !== AugmentTaps) throw new Error(`augmentation: expected ${AugmentTaps} taps per pixel, got ${warp.taps}`);
  // rgb' = rgb · M[:, :3]ᵀ + M[:, 3], as the tfjs pipeline applies it.
  const colour = new Float32Array(n * 9);
  const offset = new Float32Array(n * 3);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) colour[b * 9 + j * 3 + i] = params.colour[b * 12 + i * 4 + j];
      offset[b * 3 + i] = params.colour[b * 12 + i * 4 + 3];
    }
  }
  feeds.set(`${prefix}aug_indices`, { data: warp.indices, dims: [warp.indices.length] });
  feeds.set(`${prefix}aug_weights`, { data: warp.weights, dims: [n * R * R, 1, AugmentTaps] });
  feeds.set(`${prefix}aug_colour`, { data: colour, dims: [n, 3, 3] });
  feeds.set(`${prefix}aug_offset`, { data: offset, dims: [n, 1, 3] });
}
