/**
 * Closed-form unsupervised control directions (SeFa, Shen & Zhou 2021, "Closed-Form Factorization of Latent
 * Semantics in GANs"): the directions in w space that the style affines of the synthesis network amplify most
 * are the top eigenvectors of AᵀA, where A stacks every layer's affine weight rows.
 */
import { GeneratorParameterSpecs, NumWs, SynthesisLayers, type GeneratorConfig, type GeneratorWeights } from "../networks/architecture.js";
import type { ExportControl } from "./exportGeneratorOnnx.js";

/**
 * The `count` top SeFa directions, each a unit-length Float32Array of length `wDim`, strongest first.
 * A = the gained affine weights of all synthesis layers, one row per style channel ([Cin, wDim] per layer),
 * each row normalised to unit length as in the SeFa reference code (so every channel counts equally).
 * Eigenvectors come from subspace iteration with Gram–Schmidt and a Rayleigh–Ritz step, started from a fixed
 * pseudo-random basis: fully deterministic. Sign convention: the largest-magnitude component is positive.
 */
export function SefaDirections(config: GeneratorConfig, weights: GeneratorWeights, count: number): Float32Array[] {
  const n = config.wDim;
  if (!Number.isInteger(count) || count < 0 || count > n) throw new Error(`count must be an integer in 0..${n}, got ${count}`);
  if (count === 0) return [];
  const M = SefaMatrix(config, weights);
  const vectors = TopEigenvectors(M, n, count);
  return vectors.map((v) => {
    let best = 0;
    for (let i = 1; i < n; i++) if (Math.abs(v[i]) > Math.abs(v[best])) best = i;
    const sign = v[best] < 0 ? -1 : 1;
    let norm = 0;
    for (let i = 0; i < n; i++) norm += v[i] * v[i];
    const scale = sign / Math.sqrt(norm);
    return Float32Array.from(v, (x) => x * scale);
  });
}

/** Options of {@link UnsupervisedControls}. */
export interface UnsupervisedControlOptions {
  /**
   * Length of one control unit in w space. Default: the typical per-dimension standard deviation of w
   * ({@link EstimateWStd}), so that the range -3..3 spans about ±3 standard deviations along each direction.
   */
  readonly scale?: number;
  /** Latents used to estimate the scale (default 256). */
  readonly samples?: number;
}

/**
 * Named controls `direction_0`, `direction_1`, ... from {@link SefaDirections}: kind "sefa", range -3..3,
 * default 0, acting on every style layer, direction = unit eigenvector × scale.
 */
export function UnsupervisedControls(config: GeneratorConfig, weights: GeneratorWeights, count: number, options: UnsupervisedControlOptions = {}): ExportControl[] {
  const scale = options.scale ?? EstimateWStd(config, weights, options.samples ?? 256);
  if (!(scale > 0) || !Number.isFinite(scale)) throw new Error(`control scale must be a positive number, got ${scale}`);
  const layers = Array.from({ length: NumWs(config) }, (_, i) => i);
  return SefaDirections(config, weights, count).map((unit, i) => ({
    name: `direction_${i}`,
    label: `Direction ${i}`,
    kind: "sefa" as const,
    min: -3,
    max: 3,
    default: 0,
    layers,
    description: `Unsupervised direction ${i} (SeFa eigenvector ${i}, strongest first); 1 unit = ${scale.toPrecision(4)} in w space, about one standard deviation of w.`,
    direction: Float32Array.from(unit, (x) => x * scale),
  }));
}

/**
 * Typical per-dimension standard deviation of w = sqrt(mean over dimensions of the variance), measured by running
 * the mapping network (float64, in plain JS) on `samples` deterministic pseudo-normal latents. Conditional models
 * get an all-zero label. The latents use an Irwin–Hall sum of 12 uniforms (mean 0, variance 1), only + and −, so
 * the estimate does not depend on the engine's Math.log.
 */
export function EstimateWStd(config: GeneratorConfig, weights: GeneratorWeights, samples = 256): number {
  const gain = new Map(GeneratorParameterSpecs(config).map((s) => [s.name, s.gain]));
  const get = (name: string): Float64Array => {
    const v = weights.get(name);
    if (!v) throw new Error(`missing generator weight "${name}"`);
    const g = gain.get(name)!;
    return Float64Array.from(v, (x) => x * g);
  };
  const { zDim, wDim, labelDim } = config;
  const dense = (x: Float64Array, w: Float64Array, b: Float64Array, fanIn: number, fanOut: number): Float64Array => {
    const y = Float64Array.from(b);
    for (let i = 0; i < fanIn; i++) {
      const xi = x[i];
      if (xi === 0) continue;
      const row = i * fanOut;
      for (let o = 0; o < fanOut; o++) y[o] += xi * w[row + o];
    }
    return y;
  };
  const normalize = (x: Float64Array): Float64Array => {
    let ms = 0;
    for (const v of x) ms += v * v;
    const inv = 1 / Math.sqrt(ms / x.length + 1e-8);
    return x.map((v) => v * inv);
  };
  const layers = Array.from({ length: config.mappingLayers }, (_, i) => ({ w: get(`mapping.fc${i}.weight`), b: get(`mapping.fc${i}.bias`) }));
  let embed: Float64Array | null = null;
  if (labelDim > 0) embed = normalize(get("mapping.embed.bias")); // zero label: only the bias remains
  const rand = Mulberry32(0x5efa);
  const sum = new Float64Array(wDim);
  const sumSq = new Float64Array(wDim);
  for (let s = 0; s < samples; s++) {
    const z = new Float64Array(zDim);
    for (let i = 0; i < zDim; i++) {
      let acc = -6;
      for (let k = 0; k < 12; k++) acc += rand();
      z[i] = acc;
    }
    let x = normalize(z);
    if (embed) {
      const cat = new Float64Array(zDim + wDim);
      cat.set(x);
      cat.set(embed, zDim);
      x = cat;
    }
    for (const [i, l] of layers.entries()) {
      x = dense(x, l.w, l.b, i === 0 ? x.length : wDim, wDim);
      for (let o = 0; o < wDim; o++) x[o] = (x[o] < 0 ? 0.2 * x[o] : x[o]) * Math.SQRT2;
    }
    for (let o = 0; o < wDim; o++) {
      sum[o] += x[o];
      sumSq[o] += x[o] * x[o];
    }
  }
  let variance = 0;
  for (let o = 0; o < wDim; o++) variance += Math.max(0, sumSq[o] / samples - (sum[o] / samples) ** 2);
  return Math.sqrt(variance / wDim);
}

/** M = AᵀA ([wDim, wDim], row-major float64) with A's rows the unit-normalised style channels' weight vectors. */
function SefaMatrix(config: GeneratorConfig, weights: GeneratorWeights): Float64Array {
  const n = config.wDim;
  const gain = new Map(GeneratorParameterSpecs(config).map((s) => [s.name, s.gain]));
  const M = new Float64Array(n * n);
  const row = new Float64Array(n);
  for (const layer of SynthesisLayers(config)) {
    const name = `${layer.name}.affine.weight`;
    const w = weights.get(name); // [wDim, Cin]
    if (!w) throw new Error(`missing generator weight "${name}"`);
    const cin = layer.inChannels;
    const g = gain.get(name)!;
    for (let c = 0; c < cin; c++) {
      let norm = 0;
      for (let j = 0; j < n; j++) {
        row[j] = w[j * cin + c] * g;
        norm += row[j] * row[j];
      }
      if (norm === 0) continue;
      for (let j = 0; j < n; j++) row[j] /= Math.sqrt(norm);
      for (let a = 0; a < n; a++) {
        const ra = row[a];
        for (let b = a; b < n; b++) M[a * n + b] += ra * row[b];
      }
    }
  }
  for (let a = 0; a < n; a++) for (let b = 0; b < a; b++) M[a * n + b] = M[b * n + a];
  return M;
}

/**
 * Top-`count` eigenvectors of a symmetric PSD matrix by subspace iteration (block of `2 * count + 8` vectors,
 * modified Gram–Schmidt twice) with a Rayleigh–Ritz rotation each step; stops when every wanted Ritz pair's
 * residual is below 1e-9 of the top eigenvalue, or after 1000 steps. The power step multiplies by M⁴ (same
 * eigenvectors, eigenvalue ratios to the 4th power: 4x fewer steps for the price of two n³ products).
 */
function TopEigenvectors(M: Float64Array, n: number, count: number): Float64Array[] {
  const p = Math.min(n, 2 * count + 8);
  const M2 = SquareSymmetric(M, n);
  const M4 = SquareSymmetric(M2, n);
  const rand = Mulberry32(0x5efa5efa);
  let Q: Float64Array[] = Array.from({ length: p }, () => Float64Array.from({ length: n }, () => rand() - 0.5));
  Orthonormalize(Q);
  for (let iter = 0; iter < 1000; iter++) {
    const { ritz, mRitz, values } = RayleighRitz(M, Q, n);
    const top = Math.max(values[0], 1e-300);
    let converged = true;
    for (let k = 0; k < count && converged; k++) {
      let r = 0;
      for (let t = 0; t < n; t++) r += (mRitz[k][t] - values[k] * ritz[k][t]) ** 2;
      if (Math.sqrt(r) > 1e-9 * top) converged = false;
    }
    if (converged) return ritz.slice(0, count);
    Q = ritz.map((q) => MatVec(M4, q, n));
    Orthonormalize(Q);
  }
  // Not converged to 1e-9 (near-degenerate eigenvalues): the Ritz vectors are still an orthonormal, deterministic answer.
  return RayleighRitz(M, Q, n).ritz.slice(0, count);
}

/** Rayleigh–Ritz on span(Q) (orthonormal): T = Qᵀ M Q, Q rotated to T's eigenvectors, eigenvalues descending. */
function RayleighRitz(M: Float64Array, Q: Float64Array[], n: number): { ritz: Float64Array[]; mRitz: Float64Array[]; values: number[] } {
  const p = Q.length;
  const Z = Q.map((q) => MatVec(M, q, n));
  const T = new Float64Array(p * p);
  for (let i = 0; i < p; i++) for (let j = i; j < p; j++) T[i * p + j] = T[j * p + i] = Dot(Q[i], Z[j]);
  const { values, vectors } = JacobiEigen(T, p);
  const order = Array.from({ length: p }, (_, i) => i).sort((a, b) => values[b] - values[a] || a - b);
  const rotate = (basis: Float64Array[]) =>
    order.map((k) => {
      const v = new Float64Array(n);
      for (let i = 0; i < p; i++) {
        const c = vectors[i * p + k];
        for (let t = 0; t < n; t++) v[t] += c * basis[i][t];
      }
      return v;
    });
  return { ritz: rotate(Q), mRitz: rotate(Z), values: order.map((k) => values[k]) };
}

function MatVec(A: Float64Array, v: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let a = 0; a < n; a++) {
    let s = 0;
    const base = a * n;
    for (let b = 0; b < n; b++) s += A[base + b] * v[b];
    out[a] = s;
  }
  return out;
}

/** A·A for a symmetric row-major n×n matrix (the result is symmetric; computed on one triangle). */
function SquareSymmetric(A: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ri = A.subarray(i * n, (i + 1) * n);
    for (let j = i; j < n; j++) {
      const rj = A.subarray(j * n, (j + 1) * n); // row j = column j by symmetry
      let s = 0;
      for (let k = 0; k < n; k++) s += ri[k] * rj[k];
      out[i * n + j] = out[j * n + i] = s;
    }
  }
  return out;
}

function Dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Modified Gram–Schmidt, applied twice for orthogonality to machine precision; a vanishing vector is re-seeded. */
function Orthonormalize(vectors: Float64Array[]): void {
  const n = vectors[0].length;
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < vectors.length; i++) {
      const v = vectors[i];
      for (let j = 0; j < i; j++) {
        const d = Dot(vectors[j], v);
        for (let t = 0; t < n; t++) v[t] -= d * vectors[j][t];
      }
      let norm = Math.sqrt(Dot(v, v));
      if (norm < 1e-200) {
        // Rank-deficient block: use a coordinate vector, orthogonalised on the next pass.
        v.fill(0);
        v[i % n] = 1;
        norm = 1;
      }
      for (let t = 0; t < n; t++) v[t] /= norm;
    }
  }
}

/** Cyclic Jacobi eigen-decomposition of a small symmetric matrix; `vectors` holds the eigenvectors as columns. */
function JacobiEigen(matrix: Float64Array, p: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(p * p);
  for (let i = 0; i < p; i++) v[i * p + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < p; i++) for (let j = i + 1; j < p; j++) off += a[i * p + j] ** 2;
    if (off < 1e-30) break;
    for (let i = 0; i < p; i++)
      for (let j = i + 1; j < p; j++) {
        const aij = a[i * p + j];
        if (aij === 0) continue;
        const theta = (a[j * p + j] - a[i * p + i]) / (2 * aij);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < p; k++) {
          const aki = a[k * p + i];
          const akj = a[k * p + j];
          a[k * p + i] = c * aki - s * akj;
          a[k * p + j] = s * aki + c * akj;
        }
        for (let k = 0; k < p; k++) {
          const aik = a[i * p + k];
          const ajk = a[j * p + k];
          a[i * p + k] = c * aik - s * ajk;
          a[j * p + k] = s * aik + c * ajk;
        }
        for (let k = 0; k < p; k++) {
          const vki = v[k * p + i];
          const vkj = v[k * p + j];
          v[k * p + i] = c * vki - s * vkj;
          v[k * p + j] = s * vki + c * vkj;
        }
      }
  }
  return { values: Float64Array.from({ length: p }, (_, i) => a[i * p + i]), vectors: v };
}

/** Small deterministic PRNG (Mulberry32) for start vectors and latent samples: integer operations only. */
function Mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
