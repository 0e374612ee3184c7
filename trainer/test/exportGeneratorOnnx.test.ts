/**
 * ONNX export: the file loads in onnxruntime-node with the contract's tensors and metadata, and its `image` equals a
 * plain float64 StyleGAN2 forward written in the textbook form (modulated / demodulated WEIGHTS per sample), which
 * proves the exported activation-modulation graph is the real modulated convolution.
 */
import { describe, expect, it } from "vitest";
import * as ort from "onnxruntime-node";
import { LatentFromSeed, MetadataKey, ModelMetadataSchema } from "@npc-faces/runtime";
import {
  GeneratorParameterSpecs,
  GeneratorPresets,
  NoiseResolutions,
  NumWs,
  SynthesisLayers,
  type GeneratorConfig,
  type GeneratorWeights,
} from "../src/networks/architecture.js";
import { ExportGeneratorOnnx, LabelCentreSamples, type ExportControl, type ExportOptions } from "../src/export/exportGeneratorOnnx.js";
import { ParseOnnxModel } from "../src/export/onnxGraphBuilder.js";
import { EstimateWStd, SefaDirections, UnsupervisedControls } from "../src/export/sefaDirections.js";
import { RelativeL2, SeededRandom } from "./generatorTestData.js";

// ---------------------------------------------------------------- deterministic test data

/** Random stored weights; biases, noise strengths and w_avg are non-zero so every path of the graph matters. */
function RandomWeights(config: GeneratorConfig, seed: number): GeneratorWeights {
  const rng = SeededRandom(seed);
  const weights: GeneratorWeights = new Map();
  for (const spec of GeneratorParameterSpecs(config)) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    for (let i = 0; i < size; i++) {
      let effective: number; // value after gain
      if (spec.name.endsWith(".noise_strength")) effective = 0.3 + 0.2 * rng.normal();
      else if (spec.name.endsWith("affine.bias")) effective = 1 + 0.2 * rng.normal();
      else if (spec.name.endsWith(".bias") || spec.name === "mapping.w_avg") effective = 0.2 * rng.normal();
      else effective = NaN;
      values[i] = Number.isNaN(effective) ? rng.normal() * (spec.init.kind === "normal" ? spec.init.scale : 1) : effective / spec.gain;
    }
    weights.set(spec.name, values);
  }
  return weights;
}

interface Sample {
  z: Float32Array;
  zMix: Float32Array;
  mix: Float32Array;
  psi: number;
  controls: Float32Array;
  label: Float32Array;
  noiseStrength: number;
  noises: Float32Array[];
}

function RandomSamples(config: GeneratorConfig, count: number, numControls: number, seed: number): Sample[] {
  const rng = SeededRandom(seed);
  const vec = (n: number, f: () => number) => Float32Array.from({ length: n }, f);
  return Array.from({ length: count }, (_, b) => ({
    z: vec(config.zDim, rng.normal),
    zMix: vec(config.zDim, rng.normal),
    mix: vec(NumWs(config), () => (b === 0 ? 0 : rng.uniform())),
    psi: b === 0 ? 0.7 : 1.1,
    controls: vec(numControls, () => 2 * rng.uniform() - 1),
    label: vec(config.labelDim, rng.uniform),
    noiseStrength: b === 0 ? 1 : 0.5,
    noises: NoiseResolutions(config).map((r) => vec(r * r, rng.normal)),
  }));
}

function RandomControls(config: GeneratorConfig, seed: number): ExportControl[] {
  const rng = SeededRandom(seed);
  const numWs = NumWs(config);
  return [
    { name: "hue", label: "Hue", kind: "random", min: -2, max: 2, default: 0, layers: [0, 1], direction: Float32Array.from({ length: config.wDim }, rng.normal) },
    { name: "age", label: "Age", kind: "random", min: -3, max: 3, default: 0.5, layers: [numWs - 2, numWs - 1], direction: Float32Array.from({ length: config.wDim }, rng.normal), description: "late layers" },
  ];
}

const provenance: ExportOptions["provenance"] = { trained: false, licenses: ["Apache-2.0"], credits: [], kimg: 0, tool: "npc-faces trainer test" };

function Options(config: GeneratorConfig, weights: GeneratorWeights, controls: ExportControl[], extra: Partial<ExportOptions> = {}): ExportOptions {
  return { config, weights, name: "test-model", controls, provenance, ...extra };
}

function Feeds(config: GeneratorConfig, samples: Sample[], numControls: number): Record<string, ort.Tensor> {
  const n = samples.length;
  const cat = (get: (s: Sample) => ArrayLike<number>) => {
    const parts = samples.map((s) => Float32Array.from(get(s)));
    const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  };
  const feeds: Record<string, ort.Tensor> = {
    z: new ort.Tensor("float32", cat((s) => s.z), [n, config.zDim]),
    z_mix: new ort.Tensor("float32", cat((s) => s.zMix), [n, config.zDim]),
    mix: new ort.Tensor("float32", cat((s) => s.mix), [n, NumWs(config)]),
    psi: new ort.Tensor("float32", cat((s) => [s.psi]), [n, 1]),
    noise_strength: new ort.Tensor("float32", cat((s) => [s.noiseStrength]), [n, 1]),
  };
  if (numControls > 0) feeds.controls = new ort.Tensor("float32", cat((s) => s.controls), [n, numControls]);
  if (config.labelDim > 0) feeds.label = new ort.Tensor("float32", cat((s) => s.label), [n, config.labelDim]);
  NoiseResolutions(config).forEach((r, i) => (feeds[`noise${i}`] = new ort.Tensor("float32", cat((s) => s.noises[i]), [n, 1, r, r])));
  return feeds;
}

async function RunAsync(model: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<{ image: Float32Array; rgba: Uint8Array; dims: { image: readonly number[]; rgba: readonly number[] } }> {
  const session = await ort.InferenceSession.create(model);
  try {
    const out = await session.run(feeds);
    return { image: out.image.data as Float32Array, rgba: out.rgba.data as Uint8Array, dims: { image: out.image.dims, rgba: out.rgba.dims } };
  } finally {
    await session.release();
  }
}

function ReadMetadata(model: Uint8Array) {
  const entry = ParseOnnxModel(model).metadataProps.find((p) => p.key === MetadataKey);
  return ModelMetadataSchema.parse(JSON.parse(entry?.value ?? ""));
}

// ---------------------------------------------------------------- textbook float64 StyleGAN2 forward

/** Bilinear 2x up-sampling, half-pixel centres, clamped at the edges ([C, r, r] -> [C, 2r, 2r]). */
function Upsample2x(x: Float64Array, c: number, r: number): Float64Array {
  const R = 2 * r;
  const out = new Float64Array(c * R * R);
  const taps = Array.from({ length: R }, (_, i) => {
    const src = Math.min(Math.max((i + 0.5) / 2 - 0.5, 0), r - 1);
    const i0 = Math.floor(src);
    return { i0, i1: Math.min(i0 + 1, r - 1), f: src - i0 };
  });
  for (let ch = 0; ch < c; ch++)
    for (let Y = 0; Y < R; Y++)
      for (let X = 0; X < R; X++) {
        const ty = taps[Y];
        const tx = taps[X];
        const at = (y: number, xx: number) => x[(ch * r + y) * r + xx];
        const top = at(ty.i0, tx.i0) * (1 - tx.f) + at(ty.i0, tx.i1) * tx.f;
        const bottom = at(ty.i1, tx.i0) * (1 - tx.f) + at(ty.i1, tx.i1) * tx.f;
        out[(ch * R + Y) * R + X] = top * (1 - ty.f) + bottom * ty.f;
      }
  return out;
}

/**
 * One face through mapping, truncation, mixing, controls and synthesis, every value in float64. Returns [3, H, W].
 * `truncationCentre: "labels"` truncates toward the mean w of the face's label over the latents of seeds 0..63.
 */
function ReferenceForward(config: GeneratorConfig, weights: GeneratorWeights, controls: ExportControl[], s: Sample, truncationCentre: "average" | "labels" = "average"): Float64Array {
  const gains = new Map(GeneratorParameterSpecs(config).map((p) => [p.name, p.gain]));
  const P = (name: string) => Float64Array.from(weights.get(name)!, (v) => v * gains.get(name)!);
  const dense = (x: Float64Array, name: string) => {
    const W = P(`${name}.weight`);
    const y = P(`${name}.bias`);
    for (let i = 0; i < x.length; i++) for (let o = 0; o < y.length; o++) y[o] += x[i] * W[i * y.length + o];
    return y;
  };
  const norm = (x: Float64Array) => {
    const ms = x.reduce((a, v) => a + v * v, 0) / x.length;
    return x.map((v) => v / Math.sqrt(ms + 1e-8));
  };
  const lrelu = (v: number) => (v < 0 ? 0.2 * v : v) * Math.SQRT2;
  const untruncated = (z: Float32Array) => {
    let x = norm(Float64Array.from(z));
    if (config.labelDim > 0) {
      const e = norm(dense(Float64Array.from(s.label), "mapping.embed"));
      x = Float64Array.from([...x, ...e]);
    }
    for (let i = 0; i < config.mappingLayers; i++) x = dense(x, `mapping.fc${i}`).map(lrelu);
    return x;
  };
  let centre = P("mapping.w_avg");
  if (truncationCentre === "labels") {
    centre = new Float64Array(config.wDim);
    for (let i = 0; i < LabelCentreSamples; i++) untruncated(LatentFromSeed(i, config.zDim)).forEach((v, j) => (centre[j] += v / LabelCentreSamples));
  }
  const mapping = (z: Float32Array) => untruncated(z).map((v, j) => centre[j] + s.psi * (v - centre[j]));
  const w = mapping(s.z);
  const wm = mapping(s.zMix);
  const ws = Array.from({ length: NumWs(config) }, (_, l) => {
    const v = w.map((a, j) => a * (1 - s.mix[l]) + wm[j] * s.mix[l]);
    controls.forEach((c, k) => {
      if (c.layers.includes(l)) for (let j = 0; j < v.length; j++) v[j] += s.controls[k] * c.direction[j];
    });
    return v;
  });

  const constHwc = P("synthesis.b4.const");
  const c4 = constHwc.length / 16;
  let x: Float64Array = new Float64Array(c4 * 16);
  for (let c = 0; c < c4; c++) for (let p = 0; p < 16; p++) x[c * 16 + p] = constHwc[p * c4 + c];
  let r = 4;
  let img: Float64Array | null = null;
  for (const layer of SynthesisLayers(config)) {
    const style = dense(ws[layer.wIndex], `${layer.name}.affine`);
    const cin = layer.inChannels;
    const cout = layer.outChannels;
    const k = layer.kind === "conv" ? 3 : 1;
    const W = P(`${layer.name}.weight`); // [k, k, cin, cout]
    const bias = P(`${layer.name}.bias`);
    // Modulate the weights per sample and (convs only) demodulate each output channel.
    const mod = new Float64Array(cout * cin * k * k); // [o, i, ky, kx]
    for (let o = 0; o < cout; o++) {
      let ss = 0;
      for (let i = 0; i < cin; i++)
        for (let t = 0; t < k * k; t++) {
          const v = W[(t * cin + i) * cout + o] * style[i];
          mod[(o * cin + i) * k * k + t] = v;
          ss += v * v;
        }
      if (layer.kind === "conv") {
        const d = 1 / Math.sqrt(ss + 1e-8);
        for (let q = 0; q < cin * k * k; q++) mod[o * cin * k * k + q] *= d;
      }
    }
    let input = x;
    if (layer.up) {
      input = Upsample2x(x, cin, r);
      r *= 2;
    }
    const y = new Float64Array(cout * r * r);
    const pad = (k - 1) / 2;
    for (let o = 0; o < cout; o++)
      for (let Y = 0; Y < r; Y++)
        for (let X = 0; X < r; X++) {
          let acc = 0;
          for (let i = 0; i < cin; i++)
            for (let ky = 0; ky < k; ky++) {
              const yy = Y + ky - pad;
              if (yy < 0 || yy >= r) continue;
              for (let kx = 0; kx < k; kx++) {
                const xx = X + kx - pad;
                if (xx < 0 || xx >= r) continue;
                acc += mod[((o * cin + i) * k + ky) * k + kx] * input[(i * r + yy) * r + xx];
              }
            }
          y[(o * r + Y) * r + X] = acc;
        }
    if (layer.kind === "torgb") {
      for (let o = 0; o < 3; o++) for (let p = 0; p < r * r; p++) y[o * r * r + p] += bias[o];
      img = img ? Upsample2x(img, 3, r / 2).map((v, q) => v + y[q]) : y;
      continue;
    }
    const strength = P(`${layer.name}.noise_strength`)[0] * s.noiseStrength;
    const noise = s.noises[layer.noiseIndex];
    for (let o = 0; o < cout; o++) for (let p = 0; p < r * r; p++) y[o * r * r + p] = lrelu(y[o * r * r + p] + noise[p] * strength + bias[o]);
    x = y;
  }
  return img!;
}

// ---------------------------------------------------------------- tests

const tiny: GeneratorConfig = GeneratorPresets.tiny;
const tinyConditional: GeneratorConfig = { ...GeneratorPresets.tiny, labelDim: 3 };

describe("ExportGeneratorOnnx", () => {
  const weights = RandomWeights(tiny, 1);
  const controls = RandomControls(tiny, 2);
  const model = ExportGeneratorOnnx(Options(tiny, weights, controls));

  it("loads in onnxruntime-node with the contract's inputs, outputs and metadata", async () => {
    const session = await ort.InferenceSession.create(model);
    const R = tiny.resolution;
    const expectedInputs: [string, string, (number | string)[]][] = [
      ["z", "float32", ["N", tiny.zDim]],
      ["z_mix", "float32", ["N", tiny.zDim]],
      ["mix", "float32", ["N", NumWs(tiny)]],
      ["psi", "float32", ["N", 1]],
      ["controls", "float32", ["N", 2]],
      ["noise_strength", "float32", ["N", 1]],
      ...NoiseResolutions(tiny).map((r, i): [string, string, (number | string)[]] => [`noise${i}`, "float32", ["N", 1, r, r]]),
    ];
    const meta = (m: ort.InferenceSession.ValueMetadata) => (m.isTensor ? [m.name, m.type, [...m.shape]] : [m.name]);
    expect(session.inputMetadata.map(meta)).toEqual(expectedInputs);
    expect(session.outputMetadata.map(meta)).toEqual([
      ["image", "float32", ["N", 3, R, R]],
      ["rgba", "uint8", ["N", R, R, 4]],
    ]);
    await session.release();

    const proto = ParseOnnxModel(model);
    expect(Number(proto.irVersion)).toBe(8);
    expect(proto.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([["", 17]]);
    expect(proto.producerName).toBe("npc-faces");
    const entries = proto.metadataProps.filter((p) => p.key === MetadataKey);
    expect(entries).toHaveLength(1);
    const metadata = ModelMetadataSchema.parse(JSON.parse(entries[0].value ?? ""));
    expect(metadata).toMatchObject({
      format: "npc-faces-model",
      formatVersion: 1,
      name: "test-model",
      resolution: 16,
      zDim: 32,
      wDim: 32,
      numWs: 6,
      labelDim: 0,
      noiseResolutions: [4, 8, 8, 16, 16],
      labels: [],
      defaults: { psi: 0.7, noiseStrength: 1 },
      architecture: { ...tiny },
      provenance,
    });
    expect(metadata.controls).toEqual(controls.map(({ direction: _d, ...rest }) => rest));
    expect(JSON.parse(entries[0].value ?? "").controls[0]).not.toHaveProperty("direction");
  });

  it("matches a textbook float64 modulated-convolution forward (batch 2, per-sample psi, mix, noise strength, controls)", async () => {
    const samples = RandomSamples(tiny, 2, controls.length, 3);
    const out = await RunAsync(model, Feeds(tiny, samples, controls.length));
    expect(out.dims.image).toEqual([2, 3, 16, 16]);
    const expected = samples.flatMap((s) => [...ReferenceForward(tiny, weights, controls, s)]);
    expect(RelativeL2(out.image, expected)).toBeLessThan(1e-4);
    // The two samples differ (per-sample inputs really are per sample).
    const per = 3 * 16 * 16;
    expect(RelativeL2(out.image.subarray(0, per), out.image.subarray(per))).toBeGreaterThan(0.1);
  });

  it("matches the reference for a conditional model without controls", async () => {
    const w = RandomWeights(tinyConditional, 4);
    const m = ExportGeneratorOnnx(
      Options(tinyConditional, w, [], { labels: [{ name: "style", offset: 0, values: ["a", "b", "c"], default: [0.2, 0.3, 0.5] }], defaults: { psi: 0.5, noiseStrength: 0 } }),
    );
    const session = await ort.InferenceSession.create(m);
    expect(session.inputNames).toContain("label");
    expect(session.inputNames).not.toContain("controls");
    await session.release();
    const samples = RandomSamples(tinyConditional, 2, 0, 5);
    const out = await RunAsync(m, Feeds(tinyConditional, samples, 0));
    const expected = samples.flatMap((s) => [...ReferenceForward(tinyConditional, w, [], s)]);
    expect(RelativeL2(out.image, expected)).toBeLessThan(1e-4);
  });

  it("truncationCentre labels: truncates toward the mean w of each face's own label (float32 and float16 weights)", async () => {
    const w = RandomWeights(tinyConditional, 4);
    const options = Options(tinyConditional, w, RandomControls(tinyConditional, 2), { labels: [{ name: "style", offset: 0, values: ["a", "b", "c"], default: [0.2, 0.3, 0.5] }] });
    const m = ExportGeneratorOnnx({ ...options, truncationCentre: "labels" });
    expect(ReadMetadata(m).truncationCentre).toBe("labels");
    expect(ReadMetadata(ExportGeneratorOnnx(options)).truncationCentre).toBeUndefined();
    const samples = RandomSamples(tinyConditional, 3, 2, 8);
    samples[2].psi = 0; // the label's own mean face
    const feeds = Feeds(tinyConditional, samples, 2);
    const out = await RunAsync(m, feeds);
    const expected = samples.flatMap((s) => [...ReferenceForward(tinyConditional, w, options.controls, s, "labels")]);
    expect(RelativeL2(out.image, expected)).toBeLessThan(1e-4);
    // Not the average centre: the faces at psi != 1 differ from an "average" export's.
    const average = samples.flatMap((s) => [...ReferenceForward(tinyConditional, w, options.controls, s)]);
    expect(RelativeL2(out.image, average)).toBeGreaterThan(1e-2);
    const half = await RunAsync(ExportGeneratorOnnx({ ...options, truncationCentre: "labels", weightType: "float16" }), feeds);
    expect(RelativeL2(half.image, out.image)).toBeLessThan(1e-2);
    expect(() => ExportGeneratorOnnx({ ...Options(tiny, weights, []), truncationCentre: "labels" })).toThrow(/conditional model/);
  });

  it("rgba is floor(clip(image * 127.5 + 128, 0, 255)) with alpha 255", async () => {
    const samples = RandomSamples(tiny, 2, controls.length, 6);
    samples[1].psi = 3; // push values past [-1, 1] so clipping is exercised
    const out = await RunAsync(model, Feeds(tiny, samples, controls.length));
    expect(out.dims.rgba).toEqual([2, 16, 16, 4]);
    const R = 16;
    let mismatches = 0;
    let clipped = 0;
    for (let n = 0; n < 2; n++)
      for (let y = 0; y < R; y++)
        for (let x = 0; x < R; x++) {
          const at = (n * R * R + y * R + x) * 4;
          for (let c = 0; c < 3; c++) {
            const v = Math.fround(Math.fround(out.image[((n * 3 + c) * R + y) * R + x] * 127.5) + 128);
            if (v < 0 || v > 255) clipped++;
            if (out.rgba[at + c] !== Math.floor(Math.min(255, Math.max(0, v)))) mismatches++;
          }
          if (out.rgba[at + 3] !== 255) mismatches++;
        }
    expect(mismatches).toBe(0);
    expect(clipped).toBeGreaterThan(0);
  });

  it("is deterministic, and the float16 variant is half the size and matches float32 within 1e-2", async () => {
    const again = ExportGeneratorOnnx(Options(tiny, RandomWeights(tiny, 1), RandomControls(tiny, 2)));
    expect(Buffer.from(again).equals(Buffer.from(model))).toBe(true);

    const half = ExportGeneratorOnnx(Options(tiny, weights, controls, { weightType: "float16" }));
    expect(Buffer.from(ExportGeneratorOnnx(Options(tiny, weights, controls, { weightType: "float16" }))).equals(Buffer.from(half))).toBe(true);
    expect(half.length).toBeLessThan(model.length * 0.65);
    const samples = RandomSamples(tiny, 2, controls.length, 7);
    const feeds = Feeds(tiny, samples, controls.length);
    const a = await RunAsync(model, feeds);
    const b = await RunAsync(half, feeds);
    expect(RelativeL2(b.image, a.image)).toBeLessThan(1e-2);
  });

  it("rejects bad weights, controls and metadata with a message naming the problem", () => {
    const missing = new Map(weights);
    missing.delete("synthesis.b8.conv0.weight");
    expect(() => ExportGeneratorOnnx(Options(tiny, missing, []))).toThrow(/synthesis\.b8\.conv0\.weight/);
    const short = new Map(weights).set("mapping.w_avg", new Float32Array(3));
    expect(() => ExportGeneratorOnnx(Options(tiny, short, []))).toThrow(/mapping\.w_avg/);
    expect(() => ExportGeneratorOnnx(Options(tiny, weights, [{ ...controls[0], layers: [6] }]))).toThrow(/layer 6/);
    expect(() => ExportGeneratorOnnx(Options(tiny, weights, [{ ...controls[0], direction: new Float32Array(3) }]))).toThrow(/direction/);
    expect(() => ExportGeneratorOnnx(Options(tiny, weights, [{ ...controls[0], name: "Bad Name" }]))).toThrow(/controls\.0\.name/);
  });
});

describe("SefaDirections", () => {
  const weights = RandomWeights(tiny, 11);

  it("returns deterministic, orthonormal eigenvectors of AᵀA, strongest first, largest component positive", () => {
    const count = 5;
    const dirs = SefaDirections(tiny, weights, count);
    expect(dirs).toHaveLength(count);
    expect(SefaDirections(tiny, weights, count)).toEqual(dirs);
    for (let a = 0; a < count; a++)
      for (let b = 0; b < count; b++) {
        const dot = dirs[a].reduce((acc, v, i) => acc + v * dirs[b][i], 0);
        expect(Math.abs(dot - (a === b ? 1 : 0))).toBeLessThan(1e-5);
      }
    for (const d of dirs) {
      const big = d.reduce((best, v, i) => (Math.abs(v) > Math.abs(d[best]) ? i : best), 0);
      expect(d[big]).toBeGreaterThan(0);
    }
    // Eigenvector check against an independently built AᵀA (rows normalised).
    const n = tiny.wDim;
    const gains = new Map(GeneratorParameterSpecs(tiny).map((p) => [p.name, p.gain]));
    const M = new Float64Array(n * n);
    for (const layer of SynthesisLayers(tiny)) {
      const W = weights.get(`${layer.name}.affine.weight`)!;
      const g = gains.get(`${layer.name}.affine.weight`)!;
      for (let c = 0; c < layer.inChannels; c++) {
        const row = Array.from({ length: n }, (_, j) => W[j * layer.inChannels + c] * g);
        const len = Math.hypot(...row);
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) M[i * n + j] += (row[i] * row[j]) / (len * len);
      }
    }
    const rayleigh = dirs.map((d) => {
      const Md = Array.from({ length: n }, (_, i) => d.reduce((acc, v, j) => acc + M[i * n + j] * v, 0));
      const lambda = Md.reduce((acc, v, i) => acc + v * d[i], 0);
      const residual = Math.hypot(...Md.map((v, i) => v - lambda * d[i]));
      expect(residual).toBeLessThan(1e-4 * lambda);
      return lambda;
    });
    for (let i = 1; i < count; i++) expect(rayleigh[i]).toBeLessThanOrEqual(rayleigh[i - 1] + 1e-9);
    // The top eigenvalue is the largest Rayleigh quotient: no random unit vector beats it.
    const rng = SeededRandom(99);
    for (let t = 0; t < 20; t++) {
      const v = Array.from({ length: n }, rng.normal);
      const len = Math.hypot(...v);
      const q = v.reduce((acc, a, i) => acc + (a / len) * v.reduce((s, b, j) => s + M[i * n + j] * (b / len), 0), 0);
      expect(q).toBeLessThanOrEqual(rayleigh[0] + 1e-9);
    }
  });

  it("UnsupervisedControls export as sefa sliders that move the image", async () => {
    const std = EstimateWStd(tiny, weights, 64);
    expect(std).toBeGreaterThan(0);
    const controls = UnsupervisedControls(tiny, weights, 3, { samples: 64 });
    expect(controls.map((c) => [c.name, c.kind, c.min, c.max, c.default, c.layers])).toEqual(
      [0, 1, 2].map((i) => [`direction_${i}`, "sefa", -3, 3, 0, [0, 1, 2, 3, 4, 5]]),
    );
    expect(Math.hypot(...controls[0].direction)).toBeCloseTo(std, 5);
    const model = ExportGeneratorOnnx(Options(tiny, weights, controls));
    const samples = RandomSamples(tiny, 1, 3, 12);
    const base = await RunAsync(model, Feeds(tiny, samples, 3));
    samples[0].controls = Float32Array.from([3, 0, 0]);
    const moved = await RunAsync(model, Feeds(tiny, samples, 3));
    expect(RelativeL2(moved.image, base.image)).toBeGreaterThan(1e-3);
    expect(RelativeL2(moved.image, ReferenceForward(tiny, weights, controls, samples[0]))).toBeLessThan(1e-4);
  });
});
