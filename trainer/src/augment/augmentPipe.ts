/**
 * Adaptive discriminator augmentation's image pipeline (Karras et al. 2020, "Training Generative Adversarial
 * Networks with Limited Data"; NVlabs/stylegan2-ada-pytorch `training/augment.py`, its "bgc" set).
 *
 * Each transform is applied to each image independently with probability p (times the transform's
 * multiplier in the spec). In the paper's order:
 *  - geometric, composed into ONE 2x3 matrix per image and applied with ONE bilinear resampling with reflect
 *    padding (./affineResample.ts): x-flip, rotation by a multiple of 90°, integer translation (uniform,
 *    ±1/8 of the size, rounded to pixels), isotropic scale (lognormal, std 0.2·ln 2), rotation (uniform
 *    ±180°, tried before and after the anisotropic scale with p_rot = 1 - sqrt(1 - p) each, so the
 *    probability of any rotation is p), anisotropic scale (lognormal, std 0.2·ln 2), fractional translation
 *    (normal, std 1/8 of the size);
 *  - colour, composed into ONE 4x4 matrix per image on RGB in [-1, 1]: brightness (+N(0, 0.2)), contrast
 *    (x lognormal(0, 0.5·ln 2)), luma flip, hue rotation (uniform ±180° about the luma axis (1,1,1)/√3),
 *    saturation (lognormal(0, ln 2) scaling away from the luma axis).
 * (The paper's image-space filtering, noise and cutout are not implemented; they are off in "bgc" too.)
 *
 * The result is differentiable w.r.t. the input images on every tfjs backend (D(augment(G(z))) trains G;
 * R1 through it trains D). A transform that does not fire leaves an image bit-exactly unchanged; a batch
 * where nothing fires is returned as is. Parameters are drawn from an {@link AugmentRandom} (Philox,
 * seeded), never Math.random; trigonometric/exponential functions of the draws use Math.* (deterministic
 * on one JS engine, which is all a training run needs).
 */
import { tf } from "../backends/tfjsBackend.js";
import { AffineResampleImages, DefaultResampleMode, type ResampleMode } from "./affineResample.js";
import { AugmentRandom, type ImageDraws } from "./augmentRandom.js";

/** Per-transform probability multipliers (0 = off, 1 = with probability p) and strengths. */
export interface AugmentSpec {
  readonly xflip: number;
  readonly rotate90: number;
  readonly xint: number;
  readonly scale: number;
  readonly rotate: number;
  readonly aniso: number;
  readonly xfrac: number;
  readonly brightness: number;
  readonly contrast: number;
  readonly lumaflip: number;
  readonly hue: number;
  readonly saturation: number;
  /** Largest integer translation as a fraction of the image size. */
  readonly xintMax: number;
  /** Std of log2 of the isotropic scale. */
  readonly scaleStd: number;
  /** Largest rotation as a fraction of 180°. */
  readonly rotateMax: number;
  /** Std of log2 of the anisotropic scale. */
  readonly anisoStd: number;
  /** Std of the fractional translation as a fraction of the image size. */
  readonly xfracStd: number;
  /** Std of the brightness offset (images in [-1, 1]). */
  readonly brightnessStd: number;
  /** Std of log2 of the contrast factor. */
  readonly contrastStd: number;
  /** Largest hue rotation as a fraction of 180°. */
  readonly hueMax: number;
  /** Std of log2 of the saturation factor. */
  readonly saturationStd: number;
}

const Off = { xflip: 0, rotate90: 0, xint: 0, scale: 0, rotate: 0, aniso: 0, xfrac: 0, brightness: 0, contrast: 0, lumaflip: 0, hue: 0, saturation: 0 };
const Strengths = { xintMax: 0.125, scaleStd: 0.2, rotateMax: 1, anisoStd: 0.2, xfracStd: 0.125, brightnessStd: 0.2, contrastStd: 0.5, hueMax: 1, saturationStd: 1 };

/** stylegan2-ada's pipelines: blit (pixel moves), geom (resampling), color, and their sums bg and bgc (default). */
export const AugmentPresets = {
  blit: { ...Off, ...Strengths, xflip: 1, rotate90: 1, xint: 1 },
  geom: { ...Off, ...Strengths, scale: 1, rotate: 1, aniso: 1, xfrac: 1 },
  color: { ...Off, ...Strengths, brightness: 1, contrast: 1, lumaflip: 1, hue: 1, saturation: 1 },
  bg: { ...Off, ...Strengths, xflip: 1, rotate90: 1, xint: 1, scale: 1, rotate: 1, aniso: 1, xfrac: 1 },
  bgc: { ...Off, ...Strengths, xflip: 1, rotate90: 1, xint: 1, scale: 1, rotate: 1, aniso: 1, xfrac: 1, brightness: 1, contrast: 1, lumaflip: 1, hue: 1, saturation: 1 },
} as const satisfies Record<string, AugmentSpec>;

/** Name of a preset in {@link AugmentPresets}. */
export type AugmentPresetName = keyof typeof AugmentPresets;

/** Names of the single transforms (the probability multipliers of {@link AugmentSpec}). */
export const AugmentTransformNames = Object.keys(Off) as (keyof typeof Off)[];

/** The sampled parameters of one batch: one 2x3 geometric and one 3x4 colour matrix per image. */
export interface AugmentParams {
  readonly batch: number;
  /** Row-major 2x3 per image: output -> input, centred pixel coordinates. */
  readonly geometric: Float64Array;
  /** Row-major 3x4 per image: rgb' = M[:, :3] rgb + M[:, 3]. */
  readonly colour: Float64Array;
  /** True when some image has a non-identity geometric matrix. */
  readonly anyGeometric: boolean;
  /** True when some image has a non-identity colour matrix. */
  readonly anyColour: boolean;
}

// Slots of an image's draws (see ./augmentRandom.ts): fixed, so one transform never shifts another's draws.
const Slot = {
  xflip: 0, xflipValue: 1, rotate90: 2, rotate90Value: 3, xint: 4, xintX: 5, xintY: 6, scale: 7, scaleValue: 8,
  rotatePre: 9, rotatePreValue: 10, aniso: 11, anisoValue: 12, rotatePost: 13, rotatePostValue: 14,
  xfrac: 15, xfracX: 16, xfracY: 17, brightness: 18, brightnessValue: 19, contrast: 20, contrastValue: 21,
  lumaflip: 22, lumaflipValue: 23, hue: 24, hueValue: 25, saturation: 26, saturationValue: 27,
} as const;

type Mat3 = number[]; // row-major 3x3
type Mat4 = number[]; // row-major 4x4

function Mul3(a: Mat3, b: Mat3): Mat3 {
  const out = new Array<number>(9);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) out[i * 3 + j] = a[i * 3] * b[j] + a[i * 3 + 1] * b[3 + j] + a[i * 3 + 2] * b[6 + j];
  return out;
}

function Mul4(a: Mat4, b: Mat4): Mat4 {
  const out = new Array<number>(16);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) {
    let s = 0;
    for (let k = 0; k < 4; k++) s += a[i * 4 + k] * b[k * 4 + j];
    out[i * 4 + j] = s;
  }
  return out;
}

const Identity3 = (): Mat3 => [1, 0, 0, 0, 1, 0, 0, 0, 1];
const Identity4 = (): Mat4 => [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
const Translate2d = (tx: number, ty: number): Mat3 => [1, 0, tx, 0, 1, ty, 0, 0, 1];
const Scale2d = (sx: number, sy: number): Mat3 => [sx, 0, 0, 0, sy, 0, 0, 0, 1];
function Rotate2d(theta: number): Mat3 {
  const c = Math.cos(theta);
  const s = Math.sin(theta);
  return [c, -s, 0, s, c, 0, 0, 0, 1];
}
const Translate3d = (t: number): Mat4 => [1, 0, 0, t, 0, 1, 0, t, 0, 0, 1, t, 0, 0, 0, 1];
const Scale3d = (s: number): Mat4 => [s, 0, 0, 0, 0, s, 0, 0, 0, 0, s, 0, 0, 0, 0, 1];
/** Luma axis of the colour transforms (as augment.py: the grey diagonal, not a perceptual luma). */
const V = [1 / Math.sqrt(3), 1 / Math.sqrt(3), 1 / Math.sqrt(3)];
/** v vᵀ (4x4, zero in the homogeneous row/column). */
const VV: Mat4 = [V[0] * V[0], V[0] * V[1], V[0] * V[2], 0, V[1] * V[0], V[1] * V[1], V[1] * V[2], 0, V[2] * V[0], V[2] * V[1], V[2] * V[2], 0, 0, 0, 0, 0];
/** Rotation by theta about the luma axis (Rodrigues). */
function RotateLuma(theta: number): Mat4 {
  const [x, y, z] = V;
  const s = Math.sin(theta);
  const c = Math.cos(theta);
  const cc = 1 - c;
  return [
    x * x * cc + c, x * y * cc - z * s, x * z * cc + y * s, 0,
    y * x * cc + z * s, y * y * cc + c, y * z * cc - x * s, 0,
    z * x * cc - y * s, z * y * cc + x * s, z * z * cc + c, 0,
    0, 0, 0, 1,
  ];
}
/** Scales colours away from the luma axis by s: v vᵀ + (I - v vᵀ) s. */
function Saturate(s: number): Mat4 {
  const I = Identity4();
  return I.map((value, i) => (i === 15 ? 1 : VV[i] + (value - VV[i]) * s));
}
/** Reflects colours through the plane orthogonal to the luma axis: I - 2 v vᵀ. */
const LumaFlip = (): Mat4 => Identity4().map((value, i) => value - 2 * VV[i]);

/** The ADA pipeline with one spec; stateless (randomness comes from the caller's {@link AugmentRandom}). */
export class AugmentPipe {
  readonly spec: AugmentSpec;
  /** How the resampling runs (default: chosen from the backend at each call). */
  readonly mode: ResampleMode | null;

  /** @param spec a preset name (default "bgc") or a spec (missing fields from "bgc") */
  constructor(spec: AugmentPresetName | Partial<AugmentSpec> = "bgc", options: { mode?: ResampleMode } = {}) {
    const base = typeof spec === "string" ? AugmentPresets[spec] : { ...AugmentPresets.bgc, ...spec };
    if (!base) throw new Error(`unknown augment preset "${String(spec)}" (known: ${Object.keys(AugmentPresets).join(", ")})`);
    for (const [key, value] of Object.entries(base)) {
      if (typeof value !== "number" || !Number.isFinite(value) || value < 0) throw new RangeError(`augment spec ${key}: expected a finite number >= 0, got ${String(value)}`);
    }
    this.spec = base;
    this.mode = options.mode ?? null;
  }

  /**
   * Draws the parameters of `batch` images of `width` x `height` at probability p, advancing `random` by
   * `batch` images (whatever p is).
   */
  sampleParams(batch: number, height: number, width: number, p: number, random: AugmentRandom): AugmentParams {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`augment probability p: expected a number in 0..1, got ${p}`);
    const geometric = new Float64Array(batch * 6);
    const colour = new Float64Array(batch * 12);
    let anyGeometric = false;
    let anyColour = false;
    for (let b = 0; b < batch; b++) {
      const draws = random.drawImage();
      const G = this.geometricMatrix(draws, p, height, width);
      const C = this.colourMatrix(draws, p);
      geometric.set(G.slice(0, 6), b * 6);
      colour.set(C.slice(0, 12), b * 12);
      anyGeometric ||= !IsIdentity(G);
      anyColour ||= !IsIdentity(C);
    }
    return { batch, geometric, colour, anyGeometric, anyColour };
  }

  /** Applies sampled parameters to images [N, H, W, 3] in [-1, 1]. Differentiable w.r.t. `images`. */
  apply(images: tf.Tensor4D, params: AugmentParams): tf.Tensor4D {
    const [n, h, w, c] = images.shape;
    if (params.batch !== n) throw new Error(`augment: parameters for ${params.batch} images, got a batch of ${n}`);
    if (!params.anyGeometric && !params.anyColour) return images;
    return tf.tidy(() => {
      let x = images;
      if (params.anyGeometric) x = AffineResampleImages(x, params.geometric, this.mode ?? DefaultResampleMode());
      if (params.anyColour) {
        if (c !== 3) throw new Error(`augment: colour transforms need 3 channels, got ${c}`);
        // rgb' = rgb · M[:, :3]ᵀ + M[:, 3] as one batched matMul: [N, HW, 3] x [N, 3, 3].
        const linear = new Float32Array(n * 9);
        const offset = new Float32Array(n * 3);
        for (let b = 0; b < n; b++) {
          for (let i = 0; i < 3; i++) {
            for (let j = 0; j < 3; j++) linear[b * 9 + j * 3 + i] = params.colour[b * 12 + i * 4 + j];
            offset[b * 3 + i] = params.colour[b * 12 + i * 4 + 3];
          }
        }
        const mixed = tf.matMul(tf.reshape(x, [n, h * w, 3]), tf.tensor3d(linear, [n, 3, 3]));
        x = tf.reshape(tf.add(mixed, tf.tensor3d(offset, [n, 1, 3])), [n, h, w, 3]);
      }
      return x;
    });
  }

  /**
   * Augments a batch [N, H, W, 3] in [-1, 1] at probability p with draws from `random` (advanced by N).
   * Returns `images` itself when no transform fires (always at p = 0).
   */
  augment(images: tf.Tensor4D, p: number, random: AugmentRandom): tf.Tensor4D {
    const [n, h, w] = images.shape;
    return this.apply(images, this.sampleParams(n, h, w, p, random));
  }

  /** The 3x3 (homogeneous) output -> input matrix of one image, as augment.py composes it. */
  private geometricMatrix(d: ImageDraws, p: number, height: number, width: number): Mat3 {
    const s = this.spec;
    const fires = (slot: number, multiplier: number, prob = p * multiplier): boolean => multiplier > 0 && d.uniform(slot) < prob;
    let G = Identity3();
    if (fires(Slot.xflip, s.xflip)) {
      const i = Math.floor(d.uniform(Slot.xflipValue) * 2);
      G = Mul3(G, Scale2d(1 - 2 * i, 1));
    }
    if (fires(Slot.rotate90, s.rotate90)) {
      const i = Math.floor(d.uniform(Slot.rotate90Value) * 4);
      G = Mul3(G, Rotate2d((Math.PI / 2) * i)); // augment.py: rotate2d_inv(-pi/2 * i)
    }
    if (fires(Slot.xint, s.xint)) {
      const tx = Math.round((d.uniform(Slot.xintX) * 2 - 1) * s.xintMax * width);
      const ty = Math.round((d.uniform(Slot.xintY) * 2 - 1) * s.xintMax * height);
      G = Mul3(G, Translate2d(-tx, -ty)); // translate2d_inv
    }
    if (fires(Slot.scale, s.scale)) {
      const k = 2 ** (d.normal(Slot.scaleValue) * s.scaleStd);
      G = Mul3(G, Scale2d(1 / k, 1 / k));
    }
    // Rotation is tried twice (around the anisotropic scale) with p_rot such that P(pre or post) = p.
    const pRot = 1 - Math.sqrt(Math.min(1, Math.max(0, 1 - s.rotate * p)));
    if (fires(Slot.rotatePre, s.rotate, pRot)) {
      const theta = (d.uniform(Slot.rotatePreValue) * 2 - 1) * Math.PI * s.rotateMax;
      G = Mul3(G, Rotate2d(theta)); // rotate2d_inv(-theta)
    }
    if (fires(Slot.aniso, s.aniso)) {
      const k = 2 ** (d.normal(Slot.anisoValue) * s.anisoStd);
      G = Mul3(G, Scale2d(1 / k, k));
    }
    if (fires(Slot.rotatePost, s.rotate, pRot)) {
      const theta = (d.uniform(Slot.rotatePostValue) * 2 - 1) * Math.PI * s.rotateMax;
      G = Mul3(G, Rotate2d(theta));
    }
    if (fires(Slot.xfrac, s.xfrac)) {
      const tx = d.normal(Slot.xfracX) * s.xfracStd * width;
      const ty = d.normal(Slot.xfracY) * s.xfracStd * height;
      G = Mul3(G, Translate2d(-tx, -ty));
    }
    return G;
  }

  /** The 4x4 colour matrix of one image (applied to column vectors [r, g, b, 1]). */
  private colourMatrix(d: ImageDraws, p: number): Mat4 {
    const s = this.spec;
    const fires = (slot: number, multiplier: number): boolean => multiplier > 0 && d.uniform(slot) < p * multiplier;
    let C = Identity4();
    if (fires(Slot.brightness, s.brightness)) C = Mul4(Translate3d(d.normal(Slot.brightnessValue) * s.brightnessStd), C);
    if (fires(Slot.contrast, s.contrast)) C = Mul4(Scale3d(2 ** (d.normal(Slot.contrastValue) * s.contrastStd)), C);
    if (fires(Slot.lumaflip, s.lumaflip) && Math.floor(d.uniform(Slot.lumaflipValue) * 2) === 1) C = Mul4(LumaFlip(), C);
    if (fires(Slot.hue, s.hue)) C = Mul4(RotateLuma((d.uniform(Slot.hueValue) * 2 - 1) * Math.PI * s.hueMax), C);
    if (fires(Slot.saturation, s.saturation)) C = Mul4(Saturate(2 ** (d.normal(Slot.saturationValue) * s.saturationStd)), C);
    return C;
  }
}

/** True when a square row-major matrix is exactly the identity. */
function IsIdentity(m: number[]): boolean {
  const n = Math.round(Math.sqrt(m.length));
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (m[i * n + j] !== (i === j ? 1 : 0)) return false;
  return true;
}

const defaultPipes = new Map<string, AugmentPipe>();

/**
 * ADA augmentation of images [N, H, W, 3] in [-1, 1]: each transform of the preset (default "bgc") fires per
 * image with probability p; draws come from `random` (advanced by N images). Differentiable w.r.t. `images`
 * on every backend. Returns `images` itself when nothing fires (always at p = 0).
 */
export function AugmentImages(images: tf.Tensor4D, p: number, random: AugmentRandom, preset: AugmentPresetName = "bgc"): tf.Tensor4D {
  let pipe = defaultPipes.get(preset);
  if (!pipe) {
    pipe = new AugmentPipe(preset);
    defaultPipes.set(preset, pipe);
  }
  return pipe.augment(images, p, random);
}
