/**
 * The feature network of the quality metrics: the InceptionV3 that the `nsfwjs` npm package (4.4.0) ships in
 * tfjs format inside the package, read offline from the package's files, cut at its pooled 2048-d layer.
 *
 * NOT the standard FID Inception: nsfwjs's InceptionV3 is a Keras InceptionV3 retrained (at least its upper
 * blocks) to classify 5 content classes, and its weights are 8-bit quantised. Fréchet/kernel distances on its
 * features are therefore not comparable with published FID/KID figures; they compare only with each other
 * (same network name = same features).
 *
 * Loading: nsfwjs packs `model.json` and the weight shards as CommonJS modules (`dist/models/inception_v3/
 * model.min.js` exports the model JSON, `group1-shardKof6.min.js` each export a base64 string) so that
 * bundlers can inline them. We `require` them from the package folder, decode the (uint8-quantised) weights
 * with `tf.io.decodeWeights`, and run the Keras graph ourselves with tfjs-core ops instead of
 * tfjs-layers' `loadLayersModel`: every Conv2D -> BatchNormalization -> ReLU triple is folded into ONE fused
 * convolution (bias and ReLU inside the conv kernel), which is several times faster on the wasm backend than
 * the layer-by-layer model and needs neither `@tensorflow/tfjs-layers` nor the full `@tensorflow/tfjs` bundle
 * at run time. Where onnxruntime-node is installed, the same folded ops run as one ONNX graph on its CPU kernels
 * instead (featureNetworkOnnx.ts; ~6x faster on 2 cores). Tests check both against nsfwjs's own Keras model
 * loaded with tfjs-layers.
 *
 * Pre-processing (documented contract of the features): RGB bytes / 255 (nsfwjs's normalisation, [0, 1]);
 * resized to 299x299 with bilinear interpolation, half-pixel centres; images more than 2x larger than 299
 * are first box-filtered by the integer factor floor(size / 299) so downscaling does not alias. Non-square
 * images are stretched. The features are the output of `flatten_1` (= 8x8 average pooling of `mixed10`),
 * the same place as the standard FID "pool3" features.
 */
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { tf } from "../backends/tfjsBackend.js";
import { LoadOnnxRuntimeNodeAsync } from "../ortTraining/ortSessions.js";
import { BuildFeatureNetworkOnnx, FeatureOnnxNames } from "./featureNetworkOnnx.js";

/** Name and version of the feature network, stored with every metric (figures compare only within one name). */
export const FeatureNetworkName = "nsfwjs-4.4.0/inception_v3/flatten_1";
/** Side of the square network input. */
export const FeatureInputSize = 299;
/** Length of one feature vector. */
export const FeatureDimension = 2048;
/** The Keras layer whose output is the feature vector. */
const FeatureLayer = "flatten_1";
/** Default images per forward pass (activations of a 299x299 batch of 8 take ~200 MB). */
export const DefaultFeatureBatch = 8;

/** An 8-bit image, RGB or RGBA (alpha is ignored), row-major, top row first. */
export interface FeatureImage {
  readonly width: number;
  readonly height: number;
  /** 3 (RGB) or 4 (RGBA). */
  readonly channels: 3 | 4;
  /** width * height * channels bytes. */
  readonly data: Uint8Array;
}

interface KerasLayer {
  class_name: string;
  name: string;
  config: Record<string, unknown>;
  inbound_nodes: [string, number, number, unknown][][];
}

interface ModelJson {
  modelTopology: { model_config: { config: { layers: KerasLayer[] } } };
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

/** One step of the compiled graph. */
export type FeatureGraphOp =
  | { kind: "conv"; name: string; input: string; filter: tf.Tensor4D; bias: tf.Tensor1D | null; relu: boolean; strides: [number, number]; pad: "same" | "valid" }
  | { kind: "affine"; name: string; input: string; scale: tf.Tensor1D; offset: tf.Tensor1D }
  | { kind: "relu"; name: string; input: string }
  | { kind: "pool"; name: string; input: string; type: "max" | "avg"; size: [number, number]; strides: [number, number]; pad: "same" | "valid" }
  | { kind: "concat"; name: string; inputs: string[]; axis: number }
  | { kind: "flatten"; name: string; input: string };

/** A mutable conv op while folding. */
type ConvOp = Extract<FeatureGraphOp, { kind: "conv" }>;

/** The folder of nsfwjs's InceptionV3 files. */
export function InceptionWeightsDir(): string {
  // nsfwjs's ESM main file is dist/esm/index.js; the models sit in dist/models/.
  return fileURLToPath(new URL("../models/inception_v3/", import.meta.resolve("nsfwjs")));
}

/** Reads nsfwjs's InceptionV3 model JSON and its weights (concatenated) from the package folder. */
export function ReadInceptionArtifacts(): { json: ModelJson; weightData: ArrayBuffer; weightSpecs: tf.io.WeightsManifestEntry[] } {
  const dir = InceptionWeightsDir();
  const require = createRequire(dir);
  const json = require(`${dir}model.min.js`) as ModelJson;
  const parts: Buffer[] = [];
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  for (const group of json.weightsManifest) {
    for (const path of group.paths) parts.push(Buffer.from(require(`${dir}${path}.min.js`) as string, "base64"));
    weightSpecs.push(...group.weights);
  }
  const all = Buffer.concat(parts);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  return { json, weightData, weightSpecs };
}

const Pair = (v: unknown): [number, number] => {
  const a = v as number[];
  return [a[0], a[1]];
};

/** Compiles the Keras layer list up to `output` into ops, folding BatchNormalization and ReLU into convs. */
function CompileGraph(layers: KerasLayer[], weights: tf.NamedTensorMap, output: string): { input: string; ops: FeatureGraphOp[] } {
  const ops: FeatureGraphOp[] = [];
  const byName = new Map<string, FeatureGraphOp>();
  const alias = new Map<string, string>(); // folded layer -> the op that now produces its value
  const consumers = new Map<string, number>();
  const resolve = (name: string): string => alias.get(name) ?? name;
  const end = layers.findIndex((l) => l.name === output);
  if (end < 0) throw new Error(`feature network: layer ${output} not found`);
  const used = layers.slice(0, end + 1);
  for (const layer of used) for (const node of layer.inbound_nodes) for (const [from] of node) consumers.set(from, (consumers.get(from) ?? 0) + 1);
  let input = "";
  const add = (op: FeatureGraphOp): void => {
    ops.push(op);
    byName.set(op.name, op);
  };
  const weight = (name: string): Float32Array => {
    const t = weights[name];
    if (!t) throw new Error(`feature network: weight ${name} missing`);
    return t.dataSync() as Float32Array;
  };
  for (const layer of used) {
    const c = layer.config;
    const inputs = (layer.inbound_nodes[0] ?? []).map(([from]) => resolve(from));
    // A layer can be folded into the conv producing its input when that conv has no other consumer.
    const foldable = (): ConvOp | null => {
      const src = byName.get(inputs[0]);
      const raw = layer.inbound_nodes[0][0][0];
      return src?.kind === "conv" && consumers.get(raw) === 1 && !src.relu ? src : null;
    };
    switch (layer.class_name) {
      case "InputLayer":
        input = layer.name;
        break;
      case "Conv2D": {
        if (c.data_format !== "channels_last" || Pair(c.dilation_rate).some((d) => d !== 1)) throw new Error(`feature network: unsupported Conv2D ${layer.name}`);
        const kernel = weights[`${layer.name}/kernel`] as tf.Tensor4D;
        const bias = c.use_bias ? (weights[`${layer.name}/bias`] as tf.Tensor1D) : null;
        add({ kind: "conv", name: layer.name, input: inputs[0], filter: kernel, bias, relu: false, strides: Pair(c.strides), pad: c.padding as "same" | "valid" });
        if (c.activation === "relu") (byName.get(layer.name) as ConvOp).relu = true;
        else if (c.activation !== "linear") throw new Error(`feature network: unsupported activation ${String(c.activation)}`);
        break;
      }
      case "BatchNormalization": {
        const eps = c.epsilon as number;
        const mean = weight(`${layer.name}/moving_mean`);
        const variance = weight(`${layer.name}/moving_variance`);
        const n = mean.length;
        const gamma = c.scale ? weight(`${layer.name}/gamma`) : new Float32Array(n).fill(1);
        const beta = c.center ? weight(`${layer.name}/beta`) : new Float32Array(n);
        // y = (x - mean) * gamma / sqrt(var + eps) + beta = x * scale + offset
        const scale = new Float32Array(n);
        const offset = new Float32Array(n);
        for (let i = 0; i < n; i++) {
          scale[i] = gamma[i] / Math.sqrt(variance[i] + eps);
          offset[i] = beta[i] - mean[i] * scale[i];
        }
        const conv = foldable();
        if (conv) {
          // Fold into the conv: W' = W * scale (per output channel), b' = b * scale + offset.
          const w = conv.filter.dataSync() as Float32Array;
          const folded = new Float32Array(w.length);
          for (let i = 0; i < w.length; i++) folded[i] = w[i] * scale[i % n];
          const b = conv.bias ? (conv.bias.dataSync() as Float32Array) : new Float32Array(n);
          const newBias = new Float32Array(n);
          for (let i = 0; i < n; i++) newBias[i] = b[i] * scale[i] + offset[i];
          conv.filter = tf.tensor4d(folded, conv.filter.shape);
          conv.bias = tf.tensor1d(newBias);
          alias.set(layer.name, conv.name);
        } else {
          add({ kind: "affine", name: layer.name, input: inputs[0], scale: tf.tensor1d(scale), offset: tf.tensor1d(offset) });
        }
        break;
      }
      case "Activation": {
        if (c.activation !== "relu") throw new Error(`feature network: unsupported activation ${String(c.activation)}`);
        const conv = foldable();
        if (conv) {
          conv.relu = true;
          alias.set(layer.name, conv.name);
        } else add({ kind: "relu", name: layer.name, input: inputs[0] });
        break;
      }
      case "MaxPooling2D":
      case "AveragePooling2D":
        add({ kind: "pool", name: layer.name, input: inputs[0], type: layer.class_name === "MaxPooling2D" ? "max" : "avg", size: Pair(c.pool_size), strides: Pair(c.strides), pad: c.padding as "same" | "valid" });
        break;
      case "Concatenate":
        add({ kind: "concat", name: layer.name, inputs, axis: c.axis as number });
        break;
      case "Flatten":
        add({ kind: "flatten", name: layer.name, input: inputs[0] });
        break;
      default:
        throw new Error(`feature network: unsupported layer ${layer.class_name} (${layer.name})`);
    }
  }
  // Consumers of a folded conv now read the conv's name; the output layer itself is never folded away.
  return { input, ops };
}

/** Runs the compiled ops on a [N, 299, 299, 3] batch in [0, 1]; returns the output layer's value. */
function RunGraph(graph: { input: string; ops: FeatureGraphOp[] }, x: tf.Tensor4D): tf.Tensor {
  const values = new Map<string, tf.Tensor>([[graph.input, x]]);
  const get = (name: string): tf.Tensor => {
    const v = values.get(name);
    if (!v) throw new Error(`feature network: value ${name} not computed`);
    return v;
  };
  let last: tf.Tensor = x;
  for (const op of graph.ops) {
    switch (op.kind) {
      case "conv":
        last = tf.fused.conv2d({ x: get(op.input) as tf.Tensor4D, filter: op.filter, strides: op.strides, pad: op.pad, bias: op.bias ?? undefined, activation: op.relu ? "relu" : "linear" });
        break;
      case "affine":
        last = tf.add(tf.mul(get(op.input), op.scale), op.offset);
        break;
      case "relu":
        last = tf.relu(get(op.input));
        break;
      case "pool":
        last = op.type === "max"
          ? tf.maxPool(get(op.input) as tf.Tensor4D, op.size, op.strides, op.pad)
          : tf.avgPool(get(op.input) as tf.Tensor4D, op.size, op.strides, op.pad);
        break;
      case "concat":
        last = tf.concat(op.inputs.map(get), op.axis);
        break;
      case "flatten":
        last = tf.reshape(get(op.input), [get(op.input).shape[0], -1]);
        break;
    }
    values.set(op.name, last);
  }
  return last;
}

/**
 * Converts 8-bit images (all of the same size) into the network input: [N, 299, 299, 3] in [0, 1]
 * (see the file comment for the resampling filter).
 */
export function PrepareFeatureInput(images: readonly FeatureImage[]): tf.Tensor4D {
  const { width, height } = images[0];
  const pixels = width * height;
  const rgb = new Float32Array(images.length * pixels * 3);
  images.forEach((image, n) => {
    if (image.width !== width || image.height !== height) throw new Error("PrepareFeatureInput: images of one batch must have one size");
    if (image.data.length !== pixels * image.channels) throw new Error(`feature image has ${image.data.length} bytes, expected ${pixels * image.channels}`);
    const src = image.data;
    const step = image.channels;
    let o = n * pixels * 3;
    for (let p = 0; p < pixels * step; p += step) {
      rgb[o++] = src[p] / 255;
      rgb[o++] = src[p + 1] / 255;
      rgb[o++] = src[p + 2] / 255;
    }
  });
  return tf.tidy(() => {
    let x = tf.tensor4d(rgb, [images.length, height, width, 3]);
    // Box pre-filter for large images: bilinear alone aliases when shrinking by more than 2x.
    const fy = Math.floor(height / FeatureInputSize);
    const fx = Math.floor(width / FeatureInputSize);
    if (fy >= 2 || fx >= 2) x = tf.avgPool(x, [Math.max(1, fy), Math.max(1, fx)], [Math.max(1, fy), Math.max(1, fx)], "valid");
    if (x.shape[1] === FeatureInputSize && x.shape[2] === FeatureInputSize) return x;
    return tf.image.resizeBilinear(x, [FeatureInputSize, FeatureInputSize], false, true);
  });
}

/** Where the feature network runs: onnxruntime-node's CPU convolutions (when installed) or the current tfjs backend. */
export type FeatureEngine = "onnxruntime" | "tfjs";

/** nsfwjs's InceptionV3 up to its pooled layer, ready to turn images into 2048-d features. */
export class FeatureNetwork {
  /** See {@link FeatureNetworkName}. */
  readonly name = FeatureNetworkName;
  /** See {@link FeatureDimension}. */
  readonly dimension = FeatureDimension;
  private disposed = false;

  private constructor(
    /** Which engine computes the features (the same function; float32 rounding differs between them, ~1e-6). */
    readonly engine: FeatureEngine,
    private readonly run: (input: tf.Tensor4D) => Promise<Float32Array>,
    private readonly release: () => void,
  ) {}

  /**
   * Reads the weights from the installed nsfwjs package (no network) and compiles the graph, for onnxruntime-node
   * when it is installed ("auto", the default) or the current tfjs backend (call `InitializeTfjsBackendAsync`
   * first; the input's resampling runs there in both cases). Takes a few seconds.
   */
  static async LoadAsync(options: { engine?: FeatureEngine | "auto" } = {}): Promise<FeatureNetwork> {
    const { json, weightData, weightSpecs } = ReadInceptionArtifacts();
    const weights = tf.io.decodeWeights(weightData, weightSpecs);
    const graph = CompileGraph(json.modelTopology.model_config.config.layers, weights, FeatureLayer);
    const owned: tf.Tensor[] = [];
    for (const op of graph.ops) {
      if (op.kind === "conv") owned.push(op.filter, ...(op.bias ? [op.bias] : []));
      if (op.kind === "affine") owned.push(op.scale, op.offset);
    }
    // Free the decoded originals that folding replaced.
    const keep = new Set(owned);
    for (const t of Object.values(weights)) if (!keep.has(t)) t.dispose();
    const engine = options.engine ?? "auto";
    const ort = engine === "tfjs" ? null : await LoadOnnxRuntimeNodeAsync().catch((error: Error) => {
      if (engine === "onnxruntime") throw error;
      return null;
    });
    if (ort) {
      const bytes = BuildFeatureNetworkOnnx(graph, FeatureInputSize, FeatureDimension);
      for (const t of owned) t.dispose();
      const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: "all", executionProviders: ["cpu"] });
      const run = async (input: tf.Tensor4D): Promise<Float32Array> => {
        const feed = new ort.Tensor("float32", (await input.data()) as Float32Array, input.shape);
        const result = await session.run({ [FeatureOnnxNames.input]: feed });
        const features = result[FeatureOnnxNames.output];
        const data = (features.data as Float32Array).slice();
        features.dispose();
        return data;
      };
      return new FeatureNetwork("onnxruntime", run, () => void session.release());
    }
    const run = async (input: tf.Tensor4D): Promise<Float32Array> => {
      const features = tf.tidy(() => RunGraph(graph, input));
      const data = (await features.data()) as Float32Array;
      features.dispose();
      return data;
    };
    // Warm-up: the first run of each kernel shape allocates; doing it here keeps timings honest.
    tf.tidy(() => RunGraph(graph, tf.zeros([1, FeatureInputSize, FeatureInputSize, 3]))).dispose();
    return new FeatureNetwork("tfjs", run, () => owned.forEach((t) => t.dispose()));
  }

  /** Features of a network-ready batch [N, 299, 299, 3] in [0, 1], N x 2048 values. */
  async forwardAsync(input: tf.Tensor4D): Promise<Float32Array> {
    this.assertLive();
    return this.run(input);
  }

  /**
   * 2048-d features of 8-bit images (RGB or RGBA, any size; batches group consecutive images of equal size).
   * Deterministic for a given engine and backend.
   */
  async extractAsync(images: readonly FeatureImage[], options: { batchSize?: number } = {}): Promise<Float32Array[]> {
    this.assertLive();
    const batchSize = Math.max(1, Math.floor(options.batchSize ?? DefaultFeatureBatch));
    const out: Float32Array[] = [];
    let start = 0;
    while (start < images.length) {
      let end = start + 1;
      while (end < images.length && end - start < batchSize && images[end].width === images[start].width && images[end].height === images[start].height) end++;
      const input = PrepareFeatureInput(images.slice(start, end));
      const data = await this.run(input).finally(() => input.dispose());
      for (let i = 0; i < end - start; i++) out.push(data.slice(i * FeatureDimension, (i + 1) * FeatureDimension));
      start = end;
    }
    return out;
  }

  /** Releases the weights. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.release();
  }

  private assertLive(): void {
    if (this.disposed) throw new Error("FeatureNetwork: used after dispose()");
  }
}

let shared: Promise<FeatureNetwork> | null = null;

/** The process-wide feature network (loaded once, on first use: onnxruntime-node when installed, else the current tfjs backend). */
export function LoadFeatureNetworkAsync(): Promise<FeatureNetwork> {
  shared ??= FeatureNetwork.LoadAsync().catch((error: unknown) => {
    shared = null;
    throw error;
  });
  return shared;
}

/**
 * 2048-d features of 8-bit RGB/RGBA images with the shared {@link FeatureNetwork} (see the file comment for the
 * pre-processing). Runs on onnxruntime-node when installed, else on the current tfjs backend (the trainer uses wasm:
 * `InitializeTfjsBackendAsync("wasm")`).
 */
export async function ExtractFeaturesAsync(images: readonly FeatureImage[], options: { batchSize?: number } = {}): Promise<Float32Array[]> {
  return (await LoadFeatureNetworkAsync()).extractAsync(images, options);
}
