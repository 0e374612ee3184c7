/**
 * The gradient-rule table: for each ONNX op, how the gradients of its inputs follow from the gradients of its
 * outputs. Every rule emits only ops that are themselves in this table (or non-differentiable shape/mask ops), so a
 * backward graph can be differentiated again (second order: R1, path length).
 */
import type { onnx as OnnxTypes } from "onnx-proto";
import type { OnnxAttribute } from "../export/onnxGraphBuilder.js";
import type { GradientEmitter } from "./gradientEmitter.js";
import { AttrFloat, AttrInt, AttrInts, AttrString, ReduceAxes, SliceBounds, type Dim } from "./graphShapes.js";

type INodeProto = OnnxTypes.INodeProto;

/** How a Conv's weight gradient is built (see docs/autodiff.md for the measurements behind the default). */
export type ConvWeightGradient = "auto" | "slices" | "tapGemms" | "conv";

/** How a stride-1 Conv's input gradient is built. */
export type ConvInputGradient = "auto" | "conv" | "convTranspose";

/** Options that steer the form of emitted gradients (not their values). */
export interface GradientRuleOptions {
  /**
   * Weight gradient of convolutions: `auto` = `slices`, except that at stride 1 the Slices are taken of whichever
   * operand has fewer values a tap (the output gradient, shifted over the padded input's frame, where the conv has
   * fewer output than input channels); `slices` = kh·kw shifted Slices of the padded channel-major input, stacked,
   * and one Gemm; `tapGemms` = the same Slices with one small Gemm each (no stacked copy); `conv` = a Conv of the
   * channel-major input with the channel-major output gradient as kernel (stride 1 only; strided convolutions use
   * `slices`). Big kernels (the output gradient smaller than the kernel, as when a `conv` weight gradient is
   * differentiated again) always use `conv`.
   */
  readonly convWeightGradient: ConvWeightGradient;
  /**
   * Input gradient of stride-1 convolutions: `conv` = a Conv with the flipped, in/out-transposed kernel;
   * `convTranspose` = a ConvTranspose with the kernel as it is; `auto` = ConvTranspose where the kernel's fan-in is at
   * least 16× the output's spatial size (big channels, small images), else Conv (see UseConvTranspose).
   */
  readonly convInputGradient: ConvInputGradient;
}

/** What a rule sees: the forward node, the gradients of its outputs, and an emitter for backward nodes. */
export interface GradientContext {
  readonly node: INodeProto;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Gradient of each output (null where none flows). */
  readonly dy: readonly (string | null)[];
  readonly e: GradientEmitter;
  readonly options: GradientRuleOptions;
  /** Whether input `k` needs a gradient (rules skip work for the others). */
  needs(k: number): boolean;
}

/** Returns the gradient of each input (null: none, or not needed). */
export type GradientRule = (c: GradientContext) => readonly (string | null)[];

/** Ops whose outputs are piecewise constant or integer in their inputs: gradients stop there. */
export const NonDifferentiableOps: ReadonlySet<string> = new Set([
  "Shape", "Size", "Greater", "Less", "Equal", "GreaterOrEqual", "LessOrEqual", "And", "Or", "Not", "Sign", "Floor",
  "Ceil", "Round", "ConstantOfShape", "Constant", "NonZero", "ArgMax", "ArgMin", "IsNaN", "IsInf", "RandomNormal",
  "RandomNormalLike", "RandomUniform", "RandomUniformLike", "Bernoulli", "Multinomial",
]);

const Out = (c: GradientContext): string => c.outputs[0];
const Dy = (c: GradientContext): string => c.dy[0]!;
const When = (c: GradientContext, k: number, f: () => string): string | null => (c.needs(k) ? f() : null);

/** dy · mask where `mask` (a constant wrt the inputs) is built from a comparison. */
function Masked(c: GradientContext, condition: string, whereFalse = 0): string {
  const { e } = c;
  const mask = e.node("Where", [condition, e.scalar(1), e.scalar(whereFalse)]);
  return e.mul(Dy(c), mask);
}

/** Reverses a tensor along the given axes (Slice with step -1), e.g. a convolution kernel. */
function Flip(e: GradientEmitter, t: string, axes: readonly number[], dims: readonly Dim[]): string {
  const starts = axes.map(() => -1);
  const ends = axes.map((a) => {
    const d = dims[a];
    if (d === null) throw new Error("autodiff: flipping needs static sizes");
    return -d - 1;
  });
  return e.node("Slice", [t, e.ints(starts), e.ints(ends), e.ints(axes), e.ints(axes.map(() => -1))]);
}

/** Checks the Conv / ConvTranspose attributes the rules support (2-D, group 1, dilation 1, explicit pads). */
function CheckConvNode(node: INodeProto): void {
  const op = `${node.opType} "${node.name}"`;
  if (AttrInt(node, "group", 1) !== 1) throw new Error(`autodiff: ${op}: grouped convolutions are not supported`);
  if ((AttrInts(node, "dilations") ?? []).some((d) => d !== 1)) throw new Error(`autodiff: ${op}: dilations are not supported`);
  const autoPad = AttrString(node, "auto_pad", "NOTSET");
  if (autoPad !== "NOTSET") throw new Error(`autodiff: ${op}: auto_pad ${autoPad} is not supported (write explicit pads)`);
}

/** Geometry of a convolution y = Conv(x, w): x [N, C, H, W], w [O, C, kh, kw], y [N, O, Ho, Wo]. */
interface ConvGeometry {
  readonly C: number;
  readonly H: number;
  readonly W: number;
  readonly O: number;
  readonly kh: number;
  readonly kw: number;
  readonly Ho: number;
  readonly Wo: number;
  readonly strides: readonly [number, number];
  /** [top, left, bottom, right] */
  readonly pads: readonly [number, number, number, number];
}

/**
 * dL/dw of y = Conv(x, w) given g = dL/dy, in the form `options.convWeightGradient` names (see GradientRuleOptions).
 * Also the weight gradient of ConvTranspose, which is this with the roles of its input and output gradient swapped.
 */
function ConvWeightGradientOf(e: GradientEmitter, x: string, g: string, geo: ConvGeometry, form: ConvWeightGradient): string {
  const { C, O, kh, kw, Ho, Wo } = geo;
  const [sh, sw] = geo.strides;
  const [pt, pl, pb, pr] = geo.pads;
  const stride1 = sh === 1 && sw === 1;
  const xt = e.node("Transpose", [x], { perm: { ints: [1, 0, 2, 3] } });
  const gt = e.node("Transpose", [g], { perm: { ints: [1, 0, 2, 3] } });
  if (stride1 && (form === "conv" || Ho * Wo < kh * kw)) {
    // gW[o, c] = Σ_n xcm[c, n] ⋆ gcm[o, n]: a valid-size Conv over the batch as channels.
    const r = e.node("Conv", [xt, gt], { kernel_shape: { ints: [Ho, Wo] }, pads: { ints: [pt, pl, pb, pr] } });
    return e.node("Transpose", [r], { perm: { ints: [1, 0, 2, 3] } });
  }
  const xp = pt || pl || pb || pr ? e.node("Pad", [xt, e.ints([0, 0, pt, pl, 0, 0, pb, pr])]) : xt;
  const perTap = form === "tapGemms";
  const taps: [number, number][] = [];
  for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) taps.push([ky, kx]);
  const Hp = geo.H + pt + pb;
  const Wp = geo.W + pl + pr;
  // Each tap is a copy of one operand: of the padded input (C·Ho·Wo values a tap), or, with `auto` at stride 1 where
  // it is smaller, of the output gradient shifted over the padded input's frame (O·Hp·Wp values a tap):
  // gW[o, c, ky, kx] = Σ xpad[c, n, q, r] · gpad[o, n, q - ky + kh - 1, r - kx + kw - 1] (gpad: g with kh - 1, kw - 1
  // zeros around it).
  if (form === "auto" && stride1 && taps.length > 1 && O * Hp * Wp < C * Ho * Wo) {
    const gp = e.node("Pad", [gt, e.ints([0, 0, kh - 1, kw - 1, 0, 0, kh - 1, kw - 1])]);
    const shifted = taps.map(([ky, kx]) =>
      e.node("Reshape", [e.node("Slice", [gp, e.ints([kh - 1 - ky, kw - 1 - kx]), e.ints([kh - 1 - ky + Hp, kw - 1 - kx + Wp]), e.ints([2, 3])]), e.ints([O, -1])]));
    return TapsWeightGradient(e, geo, shifted, e.node("Reshape", [xp, e.ints([C, -1])]), "output", perTap);
  }
  const sliced =
    taps.length === 1 && stride1
      ? [e.node("Reshape", [xp, e.ints([C, -1])])]
      : taps.map(([ky, kx]) =>
          e.node("Reshape", [e.node("Slice", [xp, e.ints([ky, kx]), e.ints([ky + (Ho - 1) * sh + 1, kx + (Wo - 1) * sw + 1]), e.ints([2, 3]), e.ints([sh, sw])]), e.ints([C, -1])]));
  return TapsWeightGradient(e, geo, sliced, e.node("Reshape", [gt, e.ints([O, -1])]), "input", perTap);
}

/**
 * The weight gradient [O, C, kh, kw] from the taps (one [rows, K] copy of the shifted operand each, tap-major in
 * kh × kw order) and the other operand [other rows, K]: one Gemm per tap, or the taps stacked into one matrix and one
 * Gemm. `shifted` says which operand the taps copy: the conv's input (C rows) or its output gradient (O rows).
 */
function TapsWeightGradient(e: GradientEmitter, geo: ConvGeometry, taps: readonly string[], other: string, shifted: "input" | "output", perTap: boolean): string {
  const { C, O, kh, kw } = geo;
  const gemm = (tap: string): string => (shifted === "input" ? e.node("Gemm", [other, tap], { transB: { int: 1 } }) : e.node("Gemm", [tap, other], { transB: { int: 1 } }));
  if (taps.length === 1) return e.node("Reshape", [gemm(taps[0]), e.ints([O, C, kh, kw])]);
  if (perTap) {
    const per = taps.map((tap) => e.node("Unsqueeze", [gemm(tap), e.ints([2])]));
    return e.node("Reshape", [e.node("Concat", per, { axis: { int: 2 } }), e.ints([O, C, kh, kw])]);
  }
  const rows = shifted === "input" ? C : O;
  const stacked = e.node("Reshape", [e.node("Concat", taps.map((tap) => e.node("Unsqueeze", [tap, e.ints([1])])), { axis: { int: 1 } }), e.ints([rows * taps.length, -1])]);
  const product = gemm(stacked);
  if (shifted === "input") return e.node("Reshape", [product, e.ints([O, C, kh, kw])]);
  // [O·taps, C] -> [O, C, taps].
  const perChannel = e.node("Transpose", [e.node("Reshape", [product, e.ints([O, taps.length, C])])], { perm: { ints: [0, 2, 1] } });
  return e.node("Reshape", [perChannel, e.ints([O, C, kh, kw])]);
}

/**
 * Whether the input gradient of a conv uses ConvTranspose with the weight as it is, rather than a Conv with the
 * flipped, in/out-transposed weight (over the zero-inserted output gradient, for strides).
 * Stride 1: the flip and transpose cost ~10 ms each per 512×512 3×3 weight on onnxruntime's CPU provider, while
 * ConvTranspose runs about as fast as Conv where the kernel is large against the image (measured, batch 8: 512
 * channels at 4×4 and 8×8, 256 and 128 at 8×8); from 16×16 up Conv is faster (128 channels at 16×16: flip + Conv
 * 9.9 ms, ConvTranspose 17.6 ms).
 * Strides: the zero-inserted Conv does s² times the forward's work, ConvTranspose about the forward's, so it is
 * used unless the form says `conv` or the transposed output would need output_padding to reach the input's size.
 */
function UseConvTranspose(geo: ConvGeometry, form: ConvInputGradient): boolean {
  const [sh, sw] = geo.strides;
  if (sh !== 1 || sw !== 1) {
    const [pt, pl, pb, pr] = geo.pads;
    const exact = (geo.Ho - 1) * sh + geo.kh - pt - pb === geo.H && (geo.Wo - 1) * sw + geo.kw - pl - pr === geo.W;
    return form !== "conv" && exact;
  }
  if (form !== "auto") return form === "convTranspose";
  return geo.C * geo.kh * geo.kw >= 16 * geo.Ho * geo.Wo;
}

/** Largest image (Ho·Wo) whose ConvTranspose input gradient runs with the batch stacked (see StackedConvTranspose). */
export const StackedConvTransposeMaxPixels = 16;

/**
 * The ConvTranspose input gradient of a stride-1 same-size conv with the batch of g [N, O, H, W] stacked along H
 * (pt zero rows after each image, so no tap reaches the next one): one [O, N·(H + pt), W] image, then each image's
 * rows back. onnxruntime runs ConvTranspose image by image, a Gemm of H·W columns each; at 4×4 the stacked form
 * takes half the CPU time (512 channels, batch 8 and 16: 36 -> 17 and 85 -> 35 ms; at 8×8 no gain), the same values.
 */
function StackedConvTranspose(e: GradientEmitter, g: string, w: string, geo: ConvGeometry, n: number): string {
  const { C, O, H, W, kh, kw } = geo;
  const [pt] = geo.pads;
  const rows = H + pt;
  let t = e.node("Transpose", [g], { perm: { ints: [1, 0, 2, 3] } });
  if (pt > 0) t = e.node("Pad", [t, e.ints([0, 0, 0, 0, 0, 0, pt, 0])]);
  const z = e.node("ConvTranspose", [e.node("Reshape", [t, e.ints([1, O, n * rows, W])]), w], { kernel_shape: { ints: [kh, kw] }, pads: { ints: [...geo.pads] } });
  let blocks = e.node("Reshape", [z, e.ints([C, n, rows, W])]);
  if (pt > 0) blocks = e.node("Slice", [blocks, e.ints([0]), e.ints([H]), e.ints([2])]);
  return e.node("Transpose", [blocks], { perm: { ints: [1, 0, 2, 3] } });
}

const ConvRule: GradientRule = (c) => {
  const { e, node } = c;
  const [x, w, b] = c.inputs;
  const g = Dy(c);
  CheckConvNode(node);
  const xd = e.dims(x);
  const wd = e.staticDims(w, `Conv "${node.name}"`);
  const yd = e.dims(Out(c));
  if (xd.length !== 4) throw new Error(`autodiff: Conv "${node.name}": only 2D convolutions are supported`);
  // The batch may be symbolic; channels and spatial sizes must be known.
  if (xd.slice(1).some((d) => d === null)) throw new Error(`autodiff: Conv "${node.name}": needs static channels and spatial sizes`);
  const [, C, H, W] = xd as number[];
  const [O, , kh, kw] = wd;
  const [sh, sw] = AttrInts(node, "strides") ?? [1, 1];
  const [pt, pl, pb, pr] = AttrInts(node, "pads") ?? [0, 0, 0, 0];
  const geo: ConvGeometry = { C, H, W, O, kh, kw, Ho: yd[2]!, Wo: yd[3]!, strides: [sh, sw], pads: [pt, pl, pb, pr] };
  const { Ho, Wo } = geo;

  const gx = When(c, 0, () => {
    if (UseConvTranspose(geo, c.options.convInputGradient)) {
      const n = xd[0];
      const sameSize = sh === 1 && sw === 1 && Ho === H && Wo === W && pt === pb;
      if (sameSize && n !== null && n > 1 && Ho * Wo <= StackedConvTransposeMaxPixels) return StackedConvTranspose(e, g, w, geo, n);
      return e.node("ConvTranspose", [g, w], { kernel_shape: { ints: [kh, kw] }, pads: { ints: [pt, pl, pb, pr] }, ...StridesAttribute(geo.strides) });
    }
    // A stride-1 Conv of the (zero-inserted, for strides) output gradient with the flipped, in/out-transposed kernel.
    let gz = g;
    if (sh > 1 || sw > 1) {
      const u = e.node("Unsqueeze", [g, e.ints([3, 5])]);
      const p = e.node("Pad", [u, e.ints([0, 0, 0, 0, 0, 0, 0, 0, 0, sh - 1, 0, sw - 1])]);
      gz = e.node("Reshape", [p, e.ints([0, 0, Ho * sh, Wo * sw])]);
    }
    const L = [kh - 1 - pt, kw - 1 - pl];
    const R = [H - Ho * sh + pt, W - Wo * sw + pl];
    if (L.some((v) => v < 0) || R.some((v) => v < 0)) {
      gz = e.padSigned(gz, [yd[0], O, Ho * sh, Wo * sw], [2, 3], L.map((v) => Math.min(0, v)), R.map((v) => Math.min(0, v)));
    }
    const wf = e.node("Transpose", [Flip(e, w, [2, 3], wd)], { perm: { ints: [1, 0, 2, 3] } });
    const pads = [...L, ...R].map((v) => Math.max(0, v));
    return e.node("Conv", [gz, wf], { kernel_shape: { ints: [kh, kw] }, pads: { ints: pads } });
  });
  const gw = When(c, 1, () => ConvWeightGradientOf(e, x, g, geo, c.options.convWeightGradient));
  const gb = b && c.needs(2) ? e.node("ReduceSum", [g, e.ints([0, 2, 3])], { keepdims: { int: 0 } }) : null;
  return [gx, gw, gb];
};

/** The `strides` attribute, omitted for stride 1. */
function StridesAttribute(strides: readonly number[]): { strides?: { ints: number[] } } {
  return strides.some((s) => s !== 1) ? { strides: { ints: [...strides] } } : {};
}

/**
 * ConvTranspose (as the Conv rule emits it: no output_padding): z = ConvT(u, w) is the adjoint of x ↦ Conv(x, w), so
 * du = Conv(dz, w) with the same pads and strides, and dw is Conv's weight gradient with x := dz and dy := u.
 */
const ConvTransposeRule: GradientRule = (c) => {
  const { e, node } = c;
  const [u, w, b] = c.inputs;
  const g = Dy(c);
  CheckConvNode(node);
  const [sh, sw] = AttrInts(node, "strides") ?? [1, 1];
  if ((AttrInts(node, "output_padding") ?? []).some((p) => p !== 0) || AttrInts(node, "output_shape")) {
    throw new Error(`autodiff: ConvTranspose "${node.name}": output_padding and output_shape are not supported`);
  }
  const ud = e.dims(u);
  const zd = e.dims(Out(c));
  const wd = e.staticDims(w, `ConvTranspose "${node.name}"`);
  if (ud.slice(1).some((d) => d === null) || zd.slice(1).some((d) => d === null)) throw new Error(`autodiff: ConvTranspose "${node.name}": needs static channels and spatial sizes`);
  const [O, C, kh, kw] = wd;
  const pads = (AttrInts(node, "pads") ?? [0, 0, 0, 0]) as [number, number, number, number];
  const geo: ConvGeometry = { C, H: zd[2]!, W: zd[3]!, O, kh, kw, Ho: ud[2]!, Wo: ud[3]!, strides: [sh, sw], pads };
  return [
    When(c, 0, () => e.node("Conv", [g, w], { kernel_shape: { ints: [kh, kw] }, pads: { ints: [...pads] }, ...StridesAttribute(geo.strides) })),
    When(c, 1, () => ConvWeightGradientOf(e, g, u, geo, c.options.convWeightGradient)),
    b && c.needs(2) ? e.node("ReduceSum", [g, e.ints([0, 2, 3])], { keepdims: { int: 0 } }) : null,
  ];
};

const GemmRule: GradientRule = (c) => {
  const { e, node } = c;
  const [a, b, cc] = c.inputs;
  const g = Dy(c);
  const alpha = AttrFloat(node, "alpha", 1);
  const beta = AttrFloat(node, "beta", 1);
  const tA = AttrInt(node, "transA", 0);
  const tB = AttrInt(node, "transB", 0);
  const al: Record<string, OnnxAttribute> = alpha === 1 ? {} : { alpha: { float: alpha } };
  // Y = α·A'B' + βC with A' = tA ? Aᵀ : A (likewise B'); each case is one Gemm with the right transposes.
  const ga = When(c, 0, () =>
    tA ? e.node("Gemm", [b, g], { transA: { int: tB }, transB: { int: 1 }, ...al }) : e.node("Gemm", [g, b], { transB: { int: tB ? 0 : 1 }, ...al }),
  );
  const gb = When(c, 1, () =>
    tB ? e.node("Gemm", [g, a], { transA: { int: 1 }, transB: { int: tA }, ...al }) : e.node("Gemm", [a, g], { transA: { int: tA ? 0 : 1 }, ...al }),
  );
  const gc = cc && c.needs(2) ? e.reduceTo(beta === 1 ? g : e.mul(g, e.scalar(beta)), cc, Out(c)) : null;
  return [ga, gb, gc];
};

const MatMulRule: GradientRule = (c) => {
  const { e } = c;
  const [a, b] = c.inputs;
  const g = Dy(c);
  const ad = e.dims(a);
  const bd = e.dims(b);
  if (ad.length === 2 && bd.length === 2) {
    return [When(c, 0, () => e.node("Gemm", [g, b], { transB: { int: 1 } })), When(c, 1, () => e.node("Gemm", [a, g], { transA: { int: 1 } }))];
  }
  const yd = e.dims(Out(c));
  const swap = (t: string, r: number): string => e.node("Transpose", [t], { perm: { ints: [...[...Array(r - 2).keys()], r - 1, r - 2] } });
  const batch = yd.slice(0, -2);
  return [
    When(c, 0, () => e.reduceTo(e.node("MatMul", [g, swap(b, bd.length)]), a, [...batch, ad[ad.length - 2], ad[ad.length - 1]])),
    When(c, 1, () => e.reduceTo(e.node("MatMul", [swap(a, ad.length), g]), b, [...batch, bd[bd.length - 2], bd[bd.length - 1]])),
  ];
};

const PadRule: GradientRule = (c) => {
  const { e, node } = c;
  const x = c.inputs[0];
  const g = Dy(c);
  const pads = e.info(c.inputs[1]).values as number[];
  const dims = e.dims(x);
  const r = dims.length;
  const axes = c.inputs[3] ? (e.info(c.inputs[3]).values as number[]).map((a) => (a < 0 ? a + r : a)) : [...Array(r).keys()];
  const n = axes.length;
  const mode = AttrString(node, "mode", "constant");
  if (mode === "constant") {
    // The adjoint of padding is cropping (and of cropping, zero padding).
    return [When(c, 0, () => e.padSigned(g, e.dims(Out(c)), axes, pads.slice(0, n).map((p) => -p), pads.slice(n).map((p) => -p)))];
  }
  if (mode !== "edge") throw new Error(`autodiff: Pad "${node.name}": mode ${mode} is not supported`);
  return [
    When(c, 0, () => {
      // Edge padding repeats the border: the border's gradients sum back into the first/last row, axis by axis.
      let cur = g;
      const curDims = [...e.dims(Out(c))];
      axes.forEach((a, k) => {
        const before = pads[k];
        const after = pads[k + n];
        if (before === 0 && after === 0) return;
        if (before < 0 || after < 0) throw new Error(`autodiff: Pad "${node.name}": negative edge pads are not supported`);
        const size = dims[a];
        if (size === null) throw new Error(`autodiff: Pad "${node.name}": edge padding needs static sizes`);
        const ax = e.ints([a]);
        let sum = e.node("Slice", [cur, e.ints([before]), e.ints([before + size]), ax]);
        const withSize = curDims.map((d, i) => (i === a ? size : d));
        const border = (from: number, to: number, at: "first" | "last"): void => {
          const s = e.node("ReduceSum", [e.node("Slice", [cur, e.ints([from]), e.ints([to]), ax]), ax], { keepdims: { int: 1 } });
          const placed = e.padSigned(s, withSize.map((d, i) => (i === a ? 1 : d)), [a], [at === "first" ? 0 : size - 1], [at === "first" ? size - 1 : 0]);
          sum = e.add(sum, placed);
        };
        if (before > 0) border(0, before, "first");
        if (after > 0) border(before + size, before + size + after, "last");
        cur = sum;
        curDims[a] = size;
      });
      return cur;
    }),
  ];
};

const SliceRule: GradientRule = (c) => {
  const { e, node } = c;
  const x = c.inputs[0];
  const value = (k: number): number[] | undefined => (c.inputs[k] ? (e.info(c.inputs[k]).values as number[]) : undefined);
  const dims = e.dims(x);
  const bounds = SliceBounds(node, value(1)!, value(2)!, value(3), value(4), dims);
  return [
    When(c, 0, () => {
      let t = Dy(c);
      const cur = [...e.dims(Out(c))];
      for (const bd of bounds) {
        const { axis, count, size } = bd;
        if (count === 0) return e.zerosLike(x);
        let first = bd.start;
        let step = bd.step;
        if (step < 0) {
          // A reversed slice: flip the gradient back, then treat it as a forward slice from its last element.
          t = Flip(e, t, [axis], cur);
          first = bd.start + (count - 1) * step;
          step = -step;
        }
        if (step > 1) {
          // Zero insertion: [.., count, ..] -> [.., count, step, ..] padded -> [.., count·step, ..].
          const u = e.node("Unsqueeze", [t, e.ints([axis + 1])]);
          const r = cur.length + 1;
          const pads = new Array(2 * r).fill(0);
          pads[axis + 1 + r] = step - 1;
          const p = e.node("Pad", [u, e.ints(pads)]);
          const after = cur.slice(axis + 1);
          if (after.some((d) => d === null)) throw new Error(`autodiff: Slice "${node.name}": strided slice needs static trailing sizes`);
          t = e.node("Reshape", [p, e.ints([...cur.slice(0, axis).map(() => 0), count * step, ...(after as number[])])]);
          cur[axis] = count * step;
        }
        t = e.padSigned(t, cur, [axis], [first], [size - first - cur[axis]!]);
        cur[axis] = size;
      }
      return t;
    }),
  ];
};

const ConcatRule: GradientRule = (c) => {
  const { e, node } = c;
  const r = e.dims(c.inputs[0]).length;
  const a = AttrInt(node, "axis", 0);
  const axis = a < 0 ? a + r : a;
  let offset = 0;
  return c.inputs.map((name, k) => {
    const size = e.dims(name)[axis];
    if (size === null) throw new Error(`autodiff: Concat "${node.name}": axis ${axis} needs static sizes`);
    const start = offset;
    offset += size;
    return When(c, k, () => e.node("Slice", [Dy(c), e.ints([start]), e.ints([start + size]), e.ints([axis])]));
  });
};

/** Scatter-adds `updates` at `indices` (ScatterND layout) into zeros of the given shape tensor. */
function ScatterAddIntoZeros(e: GradientEmitter, shape: string, indices: string, updates: string): string {
  const zeros = e.node("Expand", [e.scalar(0), shape]);
  return e.node("ScatterND", [zeros, indices, updates], { reduction: { string: "add" } });
}

const SplitRule: GradientRule = (c) => {
  const { e, node } = c;
  const r = e.dims(c.inputs[0]).length;
  const a = AttrInt(node, "axis", 0);
  // The pieces' gradients side by side again; pieces nobody used contribute zeros.
  const parts = c.outputs.map((o, k) => c.dy[k] ?? e.zerosLike(o));
  return [When(c, 0, () => e.node("Concat", parts, { axis: { int: a < 0 ? a + r : a } })), null];
};

const TileRule: GradientRule = (c) => {
  const { e, node } = c;
  const [x, repeats] = c.inputs;
  const dims = e.staticDims(x, `Tile "${node.name}"`);
  const reps = e.info(repeats).values as number[];
  return [
    When(c, 0, () => {
      // Output axis i is [reps_i, dims_i] row-major: split each and sum over the repeats.
      const split = e.node("Reshape", [Dy(c), e.ints(dims.flatMap((d, i) => [reps[i], d]))]);
      return e.node("ReduceSum", [split, e.ints(dims.map((_, i) => 2 * i))], { keepdims: { int: 0 } });
    }),
    null,
  ];
};

const GatherRule: GradientRule = (c) => {
  const { e, node } = c;
  const [x, idx] = c.inputs;
  const dims = e.dims(x);
  const r = dims.length;
  const a = AttrInt(node, "axis", 0);
  const axis = a < 0 ? a + r : a;
  const size = dims[axis];
  const values = e.info(idx).values;
  const scalar = e.dims(idx).length === 0;
  const indices = size !== null && values && values.every((v) => v !== null) ? (values as number[]).map((v) => (v < 0 ? v + size : v)) : null;
  if (indices && size !== null && indices.every((v, i) => v === indices[0] + i)) {
    return [
      When(c, 0, () => {
        // A contiguous gather is a slice: its adjoint pads zeros around the gradient.
        const t = scalar ? e.node("Unsqueeze", [Dy(c), e.ints([axis])]) : Dy(c);
        const tDims = dims.map((d, i) => (i === axis ? indices.length : d));
        return e.padSigned(t, tDims, [axis], [indices[0]], [size - indices[0] - indices.length]);
      }),
      null,
    ];
  }
  return [
    When(c, 0, () => {
      // Any indices (non-negative; repeats add up): a scatter-add of dy into zeros, with `axis` moved to the front.
      const k = e.dims(idx).length;
      const nested = e.node("Unsqueeze", [idx, e.ints([k])]);
      if (axis === 0) return ScatterAddIntoZeros(e, e.shapeOf(x), nested, Dy(c));
      const dataPerm = [axis, ...[...Array(r).keys()].filter((i) => i !== axis)];
      const gPerm = [...[...Array(k).keys()].map((i) => axis + i), ...[...Array(axis).keys()], ...[...Array(r - axis - 1).keys()].map((i) => axis + k + i)];
      const permuted = dataPerm.map((p) => dims[p]);
      const shape = permuted.every((d) => d !== null) ? e.ints(permuted as number[]) : e.node("Shape", [e.node("Transpose", [x], { perm: { ints: dataPerm } })]);
      const scattered = ScatterAddIntoZeros(e, shape, nested, e.node("Transpose", [Dy(c)], { perm: { ints: gPerm } }));
      const inverse = new Array<number>(r);
      dataPerm.forEach((p, i) => (inverse[p] = i));
      return e.node("Transpose", [scattered], { perm: { ints: inverse } });
    }),
    null,
  ];
};

const GatherNDRule: GradientRule = (c) => {
  const { e, node } = c;
  if (AttrInt(node, "batch_dims", 0) !== 0) throw new Error(`autodiff: GatherND "${node.name}": batch_dims is not supported`);
  const [x, idx] = c.inputs;
  return [When(c, 0, () => ScatterAddIntoZeros(e, e.shapeOf(x), idx, Dy(c))), null];
};

const ScatterNDRule: GradientRule = (c) => {
  const { e, node } = c;
  const [, idx, updates] = c.inputs;
  const reduction = AttrString(node, "reduction", "none");
  if (reduction !== "add" && reduction !== "none") throw new Error(`autodiff: ScatterND "${node.name}": reduction ${reduction} is not supported`);
  return [
    // "add" passes dy through; "none" overwrites, so the overwritten entries get no gradient.
    When(c, 0, () => (reduction === "add" ? Dy(c) : e.node("ScatterND", [Dy(c), idx, e.zerosLike(updates)]))),
    null,
    When(c, 2, () => e.node("GatherND", [Dy(c), idx])),
  ];
};

/** Max/Min of two tensors: dy goes to the selected input (the first one on ties). */
const SelectRule = (compare: "GreaterOrEqual" | "LessOrEqual"): GradientRule => (c) => {
  const { e, node } = c;
  if (c.inputs.length !== 2) throw new Error(`autodiff: ${node.opType} "${node.name}": only two inputs are supported`);
  const [a, b] = c.inputs;
  const first = e.node(compare, [a, b]);
  const zero = e.scalar(0);
  return [
    When(c, 0, () => e.reduceTo(e.node("Where", [first, Dy(c), zero]), a, Out(c))),
    When(c, 1, () => e.reduceTo(e.node("Where", [first, zero, Dy(c)]), b, Out(c))),
  ];
};

const ReduceRule = (mean: boolean): GradientRule => (c) => {
  const { e, node } = c;
  const x = c.inputs[0];
  const dims = e.dims(x);
  const axesInput = c.inputs[1] ? (e.info(c.inputs[1]).values as number[]) : undefined;
  const axes = ReduceAxes(node, dims.length, axesInput);
  return [
    When(c, 0, () => {
      let t = Dy(c);
      if (axes.length === 0) return t;
      if (AttrInt(node, "keepdims", 1) === 0) t = e.node("Unsqueeze", [t, e.ints(axes)]);
      if (mean) {
        const count = axes.reduce<number | null>((p, a) => (p === null || dims[a] === null ? null : p * dims[a]!), 1);
        if (count === null) throw new Error(`autodiff: ReduceMean "${node.name}": needs static sizes on its axes`);
        t = e.mul(t, e.scalar(1 / count));
      }
      return e.node("Expand", [t, e.shapeOf(x)]);
    }),
    null,
  ];
};

/**
 * ReduceSumSquare: dx = x · 2dy, the Mul broadcasting dy over the reduced axes (no Expand to x's shape, which costs
 * as much as the Mul on a 512×512 3×3 weight: the weight demodulation's sum of squares).
 */
const ReduceSumSquareRule: GradientRule = (c) => {
  const { e, node } = c;
  const x = c.inputs[0];
  const axesInput = c.inputs[1] ? (e.info(c.inputs[1]).values as number[]) : undefined;
  const axes = ReduceAxes(node, e.dims(x).length, axesInput);
  return [
    When(c, 0, () => {
      let t = e.mul(Dy(c), e.scalar(2));
      if (AttrInt(node, "keepdims", 1) === 0 && axes.length > 0) t = e.node("Unsqueeze", [t, e.ints(axes)]);
      return e.mul(x, t);
    }),
    null,
  ];
};

const ResizeRule: GradientRule = (c) => {
  const { e, node } = c;
  const x = c.inputs[0];
  const mode = AttrString(node, "mode", "nearest");
  const ct = AttrString(node, "coordinate_transformation_mode", "half_pixel");
  const xd = e.dims(x);
  const yd = e.dims(Out(c));
  const H = xd[2];
  const W = xd[3];
  if (H === null || W === null) throw new Error(`autodiff: Resize "${node.name}": needs static spatial sizes`);
  const twice = xd.length === 4 && xd[0] === yd[0] && xd[1] === yd[1] && yd[2] === 2 * H && yd[3] === 2 * W;
  if (mode !== "linear" || ct !== "half_pixel" || !twice) {
    throw new Error(`autodiff: Resize "${node.name}": only 2x bilinear up-sampling with half_pixel coordinates is supported`);
  }
  return [
    When(c, 0, () => {
      // The adjoint of half-pixel bilinear 2x up-sampling (edge clamped) is 4x the [1,3,3,1]/8 filter at stride 2
      // over the edge-padded gradient (see filteredResampling.ts): one 4x4 stride-2 Conv per channel.
      const taps = [1, 3, 3, 1];
      const k = taps.flatMap((a) => taps.map((b) => (a * b) / 16));
      const kernel = e.g.constFloat(k, [1, 1, 4, 4]);
      const flat = e.node("Reshape", [Dy(c), e.ints([-1, 1, 2 * H, 2 * W])]);
      const padded = e.node("Pad", [flat, e.ints([0, 0, 1, 1, 0, 0, 1, 1])], { mode: { string: "edge" } });
      const down = e.node("Conv", [padded, kernel], { kernel_shape: { ints: [4, 4] }, strides: { ints: [2, 2] } });
      return e.reshapeLike(down, x);
    }),
    null,
    null,
    null,
  ];
};

/** Same-shaped input and output, gradient = dy · f(x, y). */
const Unary = (f: (c: GradientContext, x: string, y: string) => string): GradientRule => (c) => [When(c, 0, () => f(c, c.inputs[0], Out(c)))];

/** The rule table. Ops missing here (and not in {@link NonDifferentiableOps}) fail with a clear message. */
export const GradientRules: Readonly<Record<string, GradientRule>> = {
  Identity: Unary((c) => Dy(c)),
  Cast: (c) => [AttrInt(c.node, "to", 1) === 1 ? When(c, 0, () => Dy(c)) : null],
  Neg: Unary((c) => c.e.neg(Dy(c))),
  Sqrt: Unary((c, _x, y) => c.e.node("Div", [c.e.mul(Dy(c), c.e.scalar(0.5)), y])),
  Reciprocal: Unary((c, _x, y) => c.e.neg(c.e.mul(Dy(c), c.e.mul(y, y)))),
  Exp: Unary((c, _x, y) => c.e.mul(Dy(c), y)),
  Log: Unary((c, x) => c.e.node("Div", [Dy(c), x])),
  Sigmoid: Unary((c, _x, y) => c.e.mul(Dy(c), c.e.mul(y, c.e.node("Sub", [c.e.scalar(1), y])))),
  Tanh: Unary((c, _x, y) => c.e.mul(Dy(c), c.e.node("Sub", [c.e.scalar(1), c.e.mul(y, y)]))),
  Softplus: Unary((c, x) => c.e.mul(Dy(c), c.e.node("Sigmoid", [x]))),
  Relu: Unary((c, x) => Masked(c, c.e.node("Greater", [x, c.e.scalar(0)]))),
  LeakyRelu: Unary((c, x) => Masked(c, c.e.node("Greater", [x, c.e.scalar(0)]), AttrFloat(c.node, "alpha", 0.01))),
  Abs: Unary((c, x) => c.e.mul(Dy(c), c.e.node("Sign", [x]))),
  Clip: (c) => {
    const { e } = c;
    const [x, lo, hi] = c.inputs;
    const conds = [lo ? e.node("GreaterOrEqual", [x, lo]) : "", hi ? e.node("LessOrEqual", [x, hi]) : ""].filter((s) => s !== "");
    if (conds.length === 0) return [When(c, 0, () => Dy(c)), null, null];
    const cond = conds.length === 1 ? conds[0] : e.node("And", conds);
    return [When(c, 0, () => Masked(c, cond)), null, null];
  },
  Pow: (c) => {
    const { e } = c;
    const [x, p] = c.inputs;
    if (c.needs(1)) throw new Error(`autodiff: Pow "${c.node.name}": the exponent must be a constant`);
    const d = e.mul(p, e.node("Pow", [x, e.node("Sub", [p, e.scalar(1)])]));
    return [When(c, 0, () => e.reduceTo(e.mul(Dy(c), d), x, Out(c))), null];
  },
  Add: (c) => [When(c, 0, () => c.e.reduceTo(Dy(c), c.inputs[0], Out(c))), When(c, 1, () => c.e.reduceTo(Dy(c), c.inputs[1], Out(c)))],
  Sub: (c) => [When(c, 0, () => c.e.reduceTo(Dy(c), c.inputs[0], Out(c))), When(c, 1, () => c.e.reduceTo(c.e.neg(Dy(c)), c.inputs[1], Out(c)))],
  Sum: (c) => c.inputs.map((x, k) => When(c, k, () => c.e.reduceTo(Dy(c), x, Out(c)))),
  Mul: (c) => {
    const [a, b] = c.inputs;
    return [When(c, 0, () => c.e.reduceTo(c.e.mul(Dy(c), b), a, Out(c))), When(c, 1, () => c.e.reduceTo(c.e.mul(Dy(c), a), b, Out(c)))];
  },
  Div: (c) => {
    const { e } = c;
    const [a, b] = c.inputs;
    const q = e.node("Div", [Dy(c), b]);
    return [When(c, 0, () => e.reduceTo(q, a, Out(c))), When(c, 1, () => e.reduceTo(e.neg(e.mul(q, Out(c))), b, Out(c)))];
  },
  Where: (c) => {
    const { e } = c;
    const [cond, a, b] = c.inputs;
    const zero = e.scalar(0);
    return [
      null,
      When(c, 1, () => e.reduceTo(e.node("Where", [cond, Dy(c), zero]), a, Out(c))),
      When(c, 2, () => e.reduceTo(e.node("Where", [cond, zero, Dy(c)]), b, Out(c))),
    ];
  },
  MatMul: MatMulRule,
  Gemm: GemmRule,
  Conv: ConvRule,
  ConvTranspose: ConvTransposeRule,
  Pad: PadRule,
  Slice: SliceRule,
  Concat: ConcatRule,
  Split: SplitRule,
  Tile: TileRule,
  Gather: GatherRule,
  GatherND: GatherNDRule,
  ScatterND: ScatterNDRule,
  Max: SelectRule("GreaterOrEqual"),
  Min: SelectRule("LessOrEqual"),
  Reshape: (c) => [When(c, 0, () => c.e.reshapeLike(Dy(c), c.inputs[0])), null],
  Flatten: Unary((c, x) => c.e.reshapeLike(Dy(c), x)),
  Squeeze: (c) => [When(c, 0, () => c.e.reshapeLike(Dy(c), c.inputs[0])), null],
  Unsqueeze: (c) => [When(c, 0, () => c.e.reshapeLike(Dy(c), c.inputs[0])), null],
  Transpose: (c) => {
    const r = c.e.dims(c.inputs[0]).length;
    const perm = AttrInts(c.node, "perm") ?? [...Array(r).keys()].reverse();
    const inverse = new Array<number>(r);
    perm.forEach((p, i) => (inverse[p] = i));
    return [When(c, 0, () => c.e.node("Transpose", [Dy(c)], { perm: { ints: inverse } }))];
  },
  Expand: (c) => [When(c, 0, () => c.e.reduceTo(Dy(c), c.inputs[0], Out(c))), null],
  ReduceSum: ReduceRule(false),
  ReduceMean: ReduceRule(true),
  ReduceSumSquare: ReduceSumSquareRule,
  Resize: ResizeRule,
};
