/**
 * Finite-difference checks of the ONNX autodiff on real onnxruntime-node sessions (float32). A forward graph
 * with float inputs gets the loss L = Σ r·y + Σ s·y² (random constants r, s: the y² term makes every op's output
 * gradient depend on the inputs, so its backward graph is exercised by the second-order check), then:
 *  - first order: ∇L from the gradient graph vs a 5-point central difference of L along random directions;
 *  - second order: L2 = Σ_i |∂L/∂x_i|² differentiated again vs the difference of L2 along the same directions.
 */
import * as ort from "onnxruntime-node";
import { OnnxGraphBuilder, SerializeOnnxModel } from "../../src/export/onnxGraphBuilder.js";
import { AddGradients, type AddGradientsOptions } from "../../src/onnxAutodiff/buildGradients.js";
import { InferShapes } from "../../src/onnxAutodiff/graphShapes.js";

/** How test values of an input are drawn. */
export type InputKind = "normal" | "positive" | "awayFromZero";

export interface InputSpec {
  readonly dims: readonly number[];
  readonly kind?: InputKind;
  /** Multiplies the drawn values (weights at their usual 1/sqrt(fan-in) scale keep the network smooth). */
  readonly scale?: number;
}

export interface GradientCase {
  readonly name: string;
  readonly inputs: Readonly<Record<string, InputSpec>>;
  /**
   * Builds the forward graph from the declared inputs and returns the output tensor, or the output and the
   * tensors at kinks (pre-activations of a leaky ReLU): directions that flip the sign of any of them within the
   * difference stencil are skipped, since a difference across a kink measures no derivative.
   */
  readonly build: (g: OnnxGraphBuilder, x: Readonly<Record<string, string>>) => string | { readonly y: string; readonly kinks: readonly string[] };
  readonly options?: AddGradientsOptions;
  /** Skip the second-order check (set only with a reason). */
  readonly firstOrderOnly?: boolean;
  /** Inputs whose gradient's squared norm is the second-order loss (default: all); R1 uses the image only. */
  readonly penaltyOf?: readonly string[];
  /** Difference step along the (|v| ≤ 1 per element) directions; default 1e-2. */
  readonly step?: number;
}

/** Deterministic normal numbers (xorshift + Box-Muller; test data only). */
export function Random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  const u = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

function Draw(spec: InputSpec, rnd: () => number): Float32Array {
  const n = spec.dims.reduce((a, b) => a * b, 1);
  const kind = spec.kind ?? "awayFromZero";
  const scale = spec.scale ?? 1;
  return Float32Array.from({ length: n }, () => scale * draw());
  function draw(): number {
    const v = rnd();
    if (kind === "positive") return 0.5 + Math.abs(v);
    // Keep values off kinks (Relu, Abs, Clip) by more than the difference step.
    if (kind === "awayFromZero") return Math.sign(v || 1) * (0.15 + Math.abs(v) * 0.85);
    return v;
  }
}

export interface GradientCheckResult {
  /** Worst relative error of the directional derivatives, per order. */
  readonly firstOrder: number;
  readonly secondOrder: number | null;
  /** Sizes of the compared directional derivatives (to see that the check is not vacuous). */
  readonly firstMagnitude: number;
  readonly secondMagnitude: number | null;
}

interface Built {
  readonly session: ort.InferenceSession;
  readonly lossName: string;
  readonly gradNames: readonly string[];
  readonly kinkNames: readonly string[];
}

/** Builds forward + loss (+ squared gradient norm for order 2) and its gradient graph; returns a session. */
async function BuildSessionAsync(c: GradientCase, order: 1 | 2, seed: number): Promise<Built> {
  const g = new OnnxGraphBuilder();
  const names = Object.keys(c.inputs);
  const x: Record<string, string> = {};
  for (const n of names) x[n] = g.addInput(n, "float", c.inputs[n].dims);
  const built = c.build(g, x);
  const y = typeof built === "string" ? built : built.y;
  const kinks = typeof built === "string" ? [] : built.kinks;
  const shapes = InferShapes(g.inputList, g.initializerList, g.nodeList);
  const yDims = shapes.get(y)!.dims as number[];
  const count = yDims.reduce((a, b) => a * b, 1);
  const rnd = Random(seed + 7);
  const r = g.addInitializer("loss_r", "float", yDims, Float32Array.from({ length: count }, rnd));
  const s = g.addInitializer("loss_s", "float", yDims, Float32Array.from({ length: count }, () => 0.5 * rnd()));
  const linear = g.node("ReduceSum", [g.node("Mul", [y, r])], { keepdims: { int: 0 } });
  const square = g.node("ReduceSum", [g.node("Mul", [g.node("Mul", [y, y]), s])], { keepdims: { int: 0 } });
  let loss = g.node("Add", [linear, square]);
  let grads = AddGradients(g, loss, names, c.options).gradients;
  if (order === 2) {
    const terms = (c.penaltyOf ?? names).map((n) => {
      const gr = grads.get(n)!;
      return g.node("ReduceSum", [g.node("Mul", [gr, gr])], { keepdims: { int: 0 } });
    });
    loss = terms.length === 1 ? terms[0] : g.node("Sum", terms);
    grads = AddGradients(g, loss, names, c.options).gradients;
  }
  g.addOutput(loss, "loss", "float", []);
  const gradNames = names.map((n) => g.addOutput(grads.get(n)!, `${n}_grad`, "float", c.inputs[n].dims));
  const kinkNames = kinks.map((k, i) => {
    const signs = g.node("Sign", [k]);
    return g.addOutput(signs, `kink_${i}`, "float", InferShapes(g.inputList, g.initializerList, g.nodeList).get(k)!.dims as number[]);
  });
  const bytes = SerializeOnnxModel(g.build({ name: c.name, producerName: "test", producerVersion: "0" }));
  // No graph optimisation: the test checks the graph as written (and CSE could hide nothing here anyway).
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: "disabled", intraOpNumThreads: 1 });
  return { session, lossName: "loss", gradNames, kinkNames };
}

/** Runs the first- and second-order checks of one case. */
export async function CheckGradientCaseAsync(c: GradientCase, seed = 1, directions = 2): Promise<GradientCheckResult> {
  const names = Object.keys(c.inputs);
  const rnd = Random(seed);
  const x0 = names.map((n) => Draw(c.inputs[n], rnd));
  const direction = () => names.map((n) => Float32Array.from({ length: x0[names.indexOf(n)].length }, () => Math.max(-1, Math.min(1, rnd() * 0.6))));
  const orders: (1 | 2)[] = c.firstOrderOnly ? [1] : [1, 2];
  const worst: number[] = [];
  const magnitude: number[] = [];
  for (const order of orders) {
    const built = await BuildSessionAsync(c, order, seed);
    const run = async (t: number, dir: Float32Array[]) => {
      const feeds: Record<string, ort.Tensor> = {};
      names.forEach((n, i) => {
        const v = Float32Array.from(x0[i], (a, k) => a + t * dir[i][k]);
        feeds[n] = new ort.Tensor("float32", v, c.inputs[n].dims as number[]);
      });
      return built.session.run(feeds);
    };
    const h = c.step ?? 1e-2;
    const base = await run(0, direction());
    // Directions whose stencil crosses no kink (the sign pattern at ±2h agrees), up to `directions` of them.
    const dirs: Float32Array[][] = [];
    for (let tries = 0; dirs.length < directions && tries < 40; tries++) {
      const dir = direction();
      if (built.kinkNames.length > 0) {
        const [lo, hi] = [await run(-2 * h, dir), await run(2 * h, dir)];
        const same = built.kinkNames.every((k) => (lo[k].data as Float32Array).every((v, i) => v === (hi[k].data as Float32Array)[i]));
        if (!same) continue;
      }
      dirs.push(dir);
    }
    if (dirs.length < directions) throw new Error(`${c.name}: only ${dirs.length} of ${directions} directions avoid the kinks; use a smaller step`);
    let err = 0;
    let mag = 0;
    for (const dir of dirs) {
      let analytic = 0;
      // Σ|g·v| is the size the float32 rounding of the sums scales with (a directional derivative can cancel).
      let absolute = 0;
      names.forEach((_, i) => {
        const gr = base[built.gradNames[i]].data as Float32Array;
        for (let k = 0; k < gr.length; k++) {
          analytic += gr[k] * dir[i][k];
          absolute += Math.abs(gr[k] * dir[i][k]);
        }
      });
      const L = async (t: number) => Number((await run(t, dir))[built.lossName].data[0]);
      const numeric = (8 * (await L(h)) - 8 * (await L(-h)) - (await L(2 * h)) + (await L(-2 * h))) / (12 * h);
      const scale = Math.max(Math.abs(analytic), Math.abs(numeric), absolute, 1e-2);
      err = Math.max(err, Math.abs(analytic - numeric) / scale);
      if (process.env.AUTODIFF_DEBUG) console.log(c.name, order, analytic, numeric);
      mag = Math.max(mag, Math.abs(analytic));
    }
    await built.session.release();
    worst.push(err);
    magnitude.push(mag);
  }
  return { firstOrder: worst[0], secondOrder: worst[1] ?? null, firstMagnitude: magnitude[0], secondMagnitude: magnitude[1] ?? null };
}

/** A session whose outputs include a scalar loss, the gradient of one float input, and optional kink signs. */
export interface DirectionalCheck {
  readonly session: ort.InferenceSession;
  readonly feeds: Readonly<Record<string, ort.Tensor>>;
  readonly input: string;
  readonly loss: string;
  readonly gradient: string;
  readonly kinks: readonly string[];
  readonly step: number;
}

/**
 * Directional derivatives of `loss` along random directions of one input vs its gradient output, skipping
 * directions whose stencil flips a kink sign. Returns the worst relative error and the largest derivative.
 */
export async function CheckDirectionsAsync(check: DirectionalCheck, directions: number, seed: number): Promise<{ error: number; magnitude: number }> {
  const { session, feeds, input, step: h } = check;
  const rnd = Random(seed);
  const x0 = feeds[input].data as Float32Array;
  const dims = feeds[input].dims;
  const run = (t: number, dir: Float32Array) =>
    session.run({ ...feeds, [input]: new ort.Tensor("float32", Float32Array.from(x0, (a, k) => a + t * dir[k]), dims) });
  const base = await run(0, new Float32Array(x0.length));
  const gradient = base[check.gradient].data as Float32Array;
  let error = 0;
  let magnitude = 0;
  let used = 0;
  for (let tries = 0; used < directions && tries < 40; tries++) {
    const dir = Float32Array.from(x0, () => Math.max(-1, Math.min(1, rnd() * 0.6)));
    if (check.kinks.length > 0) {
      const [lo, hi] = [await run(-2 * h, dir), await run(2 * h, dir)];
      if (!check.kinks.every((k) => (lo[k].data as Float32Array).every((v, i) => v === (hi[k].data as Float32Array)[i]))) continue;
    }
    used++;
    let analytic = 0;
    let absolute = 0;
    for (let k = 0; k < gradient.length; k++) {
      analytic += gradient[k] * dir[k];
      absolute += Math.abs(gradient[k] * dir[k]);
    }
    const L = async (t: number) => Number((await run(t, dir))[check.loss].data[0]);
    const numeric = (8 * (await L(h)) - 8 * (await L(-h)) - (await L(2 * h)) + (await L(-2 * h))) / (12 * h);
    if (process.env.AUTODIFF_DEBUG) console.log(input, analytic, numeric);
    error = Math.max(error, Math.abs(analytic - numeric) / Math.max(Math.abs(analytic), Math.abs(numeric), absolute, 1e-2));
    magnitude = Math.max(magnitude, Math.abs(analytic));
  }
  if (used < directions) throw new Error(`only ${used} of ${directions} directions avoid the kinks; use a smaller step`);
  return { error, magnitude };
}
