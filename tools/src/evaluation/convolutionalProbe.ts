/**
 * A shift-tolerant attribute probe: a small convolutional classifier (four 3×3 conv + ReLU + 2×2 max-pool layers of
 * 16, 32, 64 and 128 channels, a 256-unit hidden layer, one softmax head per attribute) trained with Adam on a data
 * set's training images, each shifted at random by up to ±2 pixels (edges repeated) every epoch.
 *
 * Why: the ridge probe on pixels (attributeClassifier.ts) is a template matcher; real held-out images shifted by one
 * pixel drop it from 97% to 42–47% of facesjs eye styles, so it misreads a generated face that draws the right
 * style a pixel off. This network reads the same held-out images at 95% clean and 94% shifted (docs/evaluation.md).
 * Written on tfjs core ops with the trainer's Conv2dSame, whose gradients are forward convolutions: tfjs-layers'
 * convolution gradients need a kernel the wasm backend lacks. Weights start from seeded Philox normals and the shifts
 * and batch order from a seeded stream, so a fit is repeatable on one machine.
 */
import { FillStandardNormal } from "@npc-faces/runtime";
import { Conv2dSame, tf } from "@npc-faces/trainer";
import { CreateSeededRandom } from "../dataset/seededRandom.js";

/** Channels of the four conv layers; each halves the side with a 2×2 max-pool. */
const ConvChannels = [16, 32, 64, 128];
const HiddenUnits = 256;
/** Largest random shift of a training image, in pixels, each way. */
const ProbeMaxShift = 2;
/** Default passes over the probe's training images. */
export const DefaultProbeEpochs = 9;
const BatchSize = 32;
const LearningRate = 1e-3;

/** One attribute the probe reads: its name, classes and a class index per training image (-1: none). */
export interface ProbeAttribute {
  readonly name: string;
  readonly classes: readonly string[];
  readonly labels?: Int32Array;
}

/** Options of {@link ConvolutionalProbe.FitAsync}. */
export interface ConvolutionalProbeFitOptions {
  readonly epochs?: number;
  readonly seed?: number;
  readonly onProgress?: (epoch: number, epochs: number) => void;
}

/** The stored form of a fitted probe (see {@link ConvolutionalProbe.toJSONAsync}). */
export interface ConvolutionalProbeJson {
  readonly side: number;
  /** Every parameter, in {@link ParameterShapes} order, as little-endian float32, base64. */
  readonly weights: string;
}

/** Shapes of the parameters for images of `side` px and `outputs` logits: per conv [3,3,in,out] and bias, then the two dense layers. */
function ParameterShapes(side: number, outputs: number): number[][] {
  const shapes: number[][] = [];
  let channels = 3;
  for (const c of ConvChannels) {
    shapes.push([3, 3, channels, c], [c]);
    channels = c;
  }
  const pooled = Math.max(1, side >> ConvChannels.length);
  shapes.push([pooled * pooled * channels, HiddenUnits], [HiddenUnits], [HiddenUnits, outputs], [outputs]);
  return shapes;
}

/** Copies image `from` of `images` (side×side×3 floats) shifted by (dx, dy) — content moves right/down, edges repeated — into `out` at image `to`. */
function WriteShifted(images: Float32Array, from: number, side: number, dx: number, dy: number, out: Float32Array, to: number): void {
  const size = side * side * 3;
  for (let y = 0; y < side; y++) {
    const sy = Math.min(side - 1, Math.max(0, y - dy));
    for (let x = 0; x < side; x++) {
      const sx = Math.min(side - 1, Math.max(0, x - dx));
      const s = from * size + (sy * side + sx) * 3;
      const d = to * size + (y * side + x) * 3;
      out[d] = images[s];
      out[d + 1] = images[s + 1];
      out[d + 2] = images[s + 2];
    }
  }
}

/** A fitted convolutional probe (see the file comment). Call {@link dispose} when done. */
export class ConvolutionalProbe {
  /** Where each attribute's logits start. */
  private readonly offsets: number[];

  private constructor(
    readonly side: number,
    readonly attributes: readonly ProbeAttribute[],
    private readonly params: tf.Variable[],
  ) {
    let next = 0;
    this.offsets = attributes.map((a) => (next += a.classes.length) - a.classes.length);
  }

  /** One-line description for reports. */
  static Describe(side: number): string {
    return `CNN ${ConvChannels.join("-")} on ${side}x${side} RGB, trained with ±${ProbeMaxShift} px shifts`;
  }

  /**
   * Trains a probe on `count` images (side×side×3 floats in 0..1, HWC) with each attribute's `labels`.
   * @throws when an attribute has no labels or the images are not `count` of `side`² pixels
   */
  static async FitAsync(images: Float32Array, count: number, side: number, attributes: readonly ProbeAttribute[], options: ConvolutionalProbeFitOptions = {}): Promise<ConvolutionalProbe> {
    if (images.length !== count * side * side * 3) throw new Error(`probe: ${images.length} values for ${count} images of ${side}×${side}×3`);
    for (const a of attributes) if (!a.labels || a.labels.length !== count) throw new Error(`probe: attribute ${a.name} needs one label per training image`);
    const seed = options.seed ?? 0;
    const outputs = attributes.reduce((n, a) => n + a.classes.length, 0);
    const params = ParameterShapes(side, outputs).map((shape, i) => {
      const size = shape.reduce((a, b) => a * b, 1);
      if (shape.length === 1) return tf.variable(tf.zeros(shape));
      // He initialisation for the ReLU layers, 1/fan-in for the logits.
      const fanIn = shape.length === 4 ? shape[0] * shape[1] * shape[2] : shape[0];
      const scale = Math.sqrt((i === 2 * ConvChannels.length + 2 ? 1 : 2) / fanIn);
      const values = FillStandardNormal(seed, 0x7000 + i, new Float32Array(size)).map((v) => v * scale);
      return tf.variable(tf.tensor(values, shape));
    });
    const probe = new ConvolutionalProbe(side, attributes.map(({ name, classes }) => ({ name, classes })), params);
    const epochs = Math.max(1, Math.floor(options.epochs ?? DefaultProbeEpochs));
    const batch = Math.min(BatchSize, count);
    const stepsPerEpoch = Math.max(1, Math.floor(count / batch));
    const total = epochs * stepsPerEpoch;
    const optimizer = tf.train.adam(LearningRate);
    const random = CreateSeededRandom(seed);
    const input = new Float32Array(batch * side * side * 3);
    try {
      for (let epoch = 0, step = 0; epoch < epochs; epoch++) {
        const order = Array.from({ length: count }, (_, i) => i);
        for (let i = count - 1; i > 0; i--) {
          const j = Math.floor(random() * (i + 1));
          [order[i], order[j]] = [order[j], order[i]];
        }
        for (let s = 0; s < stepsPerEpoch; s++, step++) {
          // Full rate for 60% of the steps, then down linearly to 5%: the last epochs settle.
          const progress = step / total;
          // tfjs reads the (protected) field on every step; its Adam has no schedule of its own.
          (optimizer as unknown as { learningRate: number }).learningRate = progress < 0.6 ? LearningRate : LearningRate * (1 - 0.95 * ((progress - 0.6) / 0.4));
          const rows = order.slice(s * batch, (s + 1) * batch);
          rows.forEach((row, b) => {
            const dx = Math.floor(random() * (2 * ProbeMaxShift + 1)) - ProbeMaxShift;
            const dy = Math.floor(random() * (2 * ProbeMaxShift + 1)) - ProbeMaxShift;
            WriteShifted(images, row, side, dx, dy, input, b);
          });
          tf.tidy(() => {
            const x = tf.tensor4d(input, [batch, side, side, 3]);
            // Images without a label (-1) take no part in that attribute's loss.
            const targets = attributes.map((a) => tf.oneHot(tf.tensor1d(Int32Array.from(rows, (row) => Math.max(0, a.labels![row])), "int32"), a.classes.length));
            const knowns = attributes.map((a) => tf.tensor1d(Float32Array.from(rows, (row) => (a.labels![row] >= 0 ? 1 : 0))));
            optimizer.minimize(() => {
              const logits = probe.logits(x);
              const losses = attributes.map((a, k) => {
                const known = knowns[k];
                const oneHot = targets[k];
                const perImage = tf.losses.softmaxCrossEntropy(oneHot, tf.slice(logits, [0, probe.offsets[k]], [-1, a.classes.length]), undefined, undefined, tf.Reduction.NONE);
                return tf.div(tf.sum(tf.mul(perImage, known)), tf.maximum(tf.sum(known), 1));
              });
              return tf.addN(losses) as tf.Scalar;
            }, false, params);
          });
        }
        options.onProgress?.(epoch + 1, epochs);
        await new Promise((resolve) => setImmediate(resolve)); // let progress lines and signals through
      }
    } catch (error) {
      probe.dispose();
      throw error;
    } finally {
      optimizer.dispose();
    }
    return probe;
  }

  /** A probe from its stored form, for `attributes` (names and classes in the order it was fitted with). */
  static FromJSON(json: ConvolutionalProbeJson, attributes: readonly ProbeAttribute[]): ConvolutionalProbe {
    const outputs = attributes.reduce((n, a) => n + a.classes.length, 0);
    const shapes = ParameterShapes(json.side, outputs);
    const bytes = Buffer.from(json.weights, "base64");
    const expected = shapes.reduce((n, shape) => n + shape.reduce((a, b) => a * b, 1), 0);
    if (bytes.length !== expected * 4) throw new Error(`probe weights: ${bytes.length} bytes, expected ${expected * 4}`);
    let offset = 0;
    const params = shapes.map((shape) => {
      const size = shape.reduce((a, b) => a * b, 1);
      const values = Float32Array.from({ length: size }, (_, i) => bytes.readFloatLE((offset + i) * 4));
      offset += size;
      return tf.variable(tf.tensor(values, shape));
    });
    return new ConvolutionalProbe(json.side, attributes.map(({ name, classes }) => ({ name, classes })), params);
  }

  /** The stored form: the side and every weight, exactly (float32). */
  async toJSONAsync(): Promise<ConvolutionalProbeJson> {
    const values = await Promise.all(this.params.map((p) => p.data()));
    const bytes = Buffer.alloc(values.reduce((n, v) => n + v.length, 0) * 4);
    let offset = 0;
    for (const v of values) for (const x of v as Float32Array) bytes.writeFloatLE(x, 4 * offset++);
    return { side: this.side, weights: bytes.toString("base64") };
  }

  /** The class index each of `count` images (side×side×3 floats in 0..1) is read as, per attribute. */
  async classifyAsync(images: Float32Array, count: number): Promise<Int32Array[]> {
    const size = this.side * this.side * 3;
    if (images.length !== count * size) throw new Error(`probe: ${images.length} values for ${count} images of ${this.side}×${this.side}×3`);
    const out = this.attributes.map(() => new Int32Array(count));
    for (let start = 0; start < count; start += 100) {
      const n = Math.min(100, count - start);
      const predicted = tf.tidy(() => {
        const logits = this.logits(tf.tensor4d(images.subarray(start * size, (start + n) * size), [n, this.side, this.side, 3]));
        return this.attributes.map((a, k) => tf.argMax(tf.slice(logits, [0, this.offsets[k]], [-1, a.classes.length]), 1));
      });
      const values = await Promise.all(predicted.map((t) => t.data()));
      predicted.forEach((t) => t.dispose());
      values.forEach((v, k) => out[k].set(v as Int32Array, start));
    }
    return out;
  }

  dispose(): void {
    for (const p of this.params) p.dispose();
  }

  private logits(x: tf.Tensor4D): tf.Tensor2D {
    let h: tf.Tensor4D = x;
    let k = 0;
    for (let layer = 0; layer < ConvChannels.length; layer++) {
      h = tf.relu(tf.add(Conv2dSame(h, this.params[k++] as tf.Tensor4D), this.params[k++])) as tf.Tensor4D;
      if (h.shape[1] >= 2) h = tf.maxPool(h, 2, 2, "valid");
    }
    const flat = tf.reshape(h, [h.shape[0], -1]) as tf.Tensor2D;
    const hidden = tf.relu(tf.add(tf.matMul(flat, this.params[k++] as tf.Tensor2D), this.params[k++]));
    return tf.add(tf.matMul(hidden, this.params[k++] as tf.Tensor2D), this.params[k++]) as tf.Tensor2D;
  }
}
