/**
 * Ridge regression in closed form: minimise ‖Xw + b − y‖² + λ‖w‖² (the intercept b is not penalised) by
 * solving the normal equations (XᵀX + λI) [w; b] = Xᵀy in Float64 with a Cholesky factorisation. One Gram
 * matrix serves every target, so fitting several probes on the same images costs one pass over them.
 * Sized for ~10³ features: the Gram pass is n·d²/2 multiply-adds (4,000 images × 768 features ≈ 1.2·10⁹).
 */

/** A fitted linear model: prediction = weights · x + bias. */
export interface RidgeModel {
  readonly weights: Float64Array;
  readonly bias: number;
  /** The penalty it was fitted with. */
  readonly lambda: number;
}

/**
 * Gram matrix of the rows `rows` of X with a constant 1 appended: (d+1)×(d+1), symmetric, Float64.
 * @param features X, row-major with `d` values per row
 */
export function GramMatrix(features: Float32Array, d: number, rows: readonly number[]): Float64Array {
  const size = d + 1;
  const gram = new Float64Array(size * size);
  const x = new Float64Array(size);
  for (const row of rows) {
    for (let j = 0; j < d; j++) x[j] = features[row * d + j];
    x[d] = 1;
    for (let i = 0; i < size; i++) {
      const xi = x[i];
      if (xi === 0) continue;
      const base = i * size;
      for (let j = i; j < size; j++) gram[base + j] += xi * x[j];
    }
  }
  for (let i = 0; i < size; i++) for (let j = 0; j < i; j++) gram[i * size + j] = gram[j * size + i];
  return gram;
}

/** Xᵀy of the rows `rows` (with the constant 1 column last): length d+1. */
export function CrossProduct(features: Float32Array, d: number, rows: readonly number[], targets: ArrayLike<number>): Float64Array {
  const out = new Float64Array(d + 1);
  for (const row of rows) {
    const y = targets[row];
    for (let j = 0; j < d; j++) out[j] += features[row * d + j] * y;
    out[d] += y;
  }
  return out;
}

/** Cholesky factor L (lower, row-major) of a symmetric positive definite `size`×`size` matrix; throws when it is not. */
export function Cholesky(matrix: Float64Array, size: number): Float64Array {
  const l = new Float64Array(size * size);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = matrix[i * size + j];
      const li = i * size;
      const lj = j * size;
      for (let k = 0; k < j; k++) sum -= l[li + k] * l[lj + k];
      if (i === j) {
        if (!(sum > 0)) throw new Error(`ridge: the normal equations are not positive definite (pivot ${i} is ${sum})`);
        l[li + i] = Math.sqrt(sum);
      } else {
        l[li + j] = sum / l[lj + j];
      }
    }
  }
  return l;
}

/** Solves L Lᵀ x = b for the Cholesky factor `l`. */
export function CholeskySolve(l: Float64Array, size: number, b: ArrayLike<number>): Float64Array {
  const y = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    let sum = b[i];
    for (let k = 0; k < i; k++) sum -= l[i * size + k] * y[k];
    y[i] = sum / l[i * size + i];
  }
  const x = new Float64Array(size);
  for (let i = size - 1; i >= 0; i--) {
    let sum = y[i];
    for (let k = i + 1; k < size; k++) sum -= l[k * size + i] * x[k];
    x[i] = sum / l[i * size + i];
  }
  return x;
}

/** Cholesky factor of XᵀX + λ·diag(1, …, 1, 0) (the intercept is not penalised). */
function RidgeFactor(gram: Float64Array, d: number, lambda: number): Float64Array {
  const size = d + 1;
  const a = Float64Array.from(gram);
  for (let j = 0; j < d; j++) a[j * size + j] += lambda;
  return Cholesky(a, size);
}

/** Solves the ridge normal equations for one target (see the file comment). */
export function SolveRidge(gram: Float64Array, xty: Float64Array, d: number, lambda: number): RidgeModel {
  const solution = CholeskySolve(RidgeFactor(gram, d, lambda), d + 1, xty);
  return { weights: solution.subarray(0, d), bias: solution[d], lambda };
}

/** The model's prediction for row `row` of X. */
export function PredictRidge(model: RidgeModel, features: Float32Array, row = 0): number {
  const d = model.weights.length;
  let sum = model.bias;
  for (let j = 0; j < d; j++) sum += model.weights[j] * features[row * d + j];
  return sum;
}

/** Options of {@link FitRidgeModels}. */
export interface FitRidgeOptions {
  /**
   * Penalties tried, as multiples of the mean diagonal of XᵀX (so they scale with the image count and pixel
   * range); default 1e-4 … 1. Each target takes the one with the least squared error on the validation rows.
   */
  readonly relativeLambdas?: readonly number[];
  /** Share of the rows (the last ones) held back to choose λ; default 0.2. With one λ, nothing is held back. */
  readonly validationFraction?: number;
}

/** Default {@link FitRidgeOptions.relativeLambdas}. */
export const DefaultRelativeLambdas = [1e-4, 1e-3, 1e-2, 1e-1, 1];

/**
 * Fits one ridge model per target on all `n` rows of X, each with the penalty that predicts the validation
 * rows best when fitted on the others (see {@link FitRidgeOptions}).
 * @param targets one array of n values per model
 */
export function FitRidgeModels(features: Float32Array, d: number, targets: readonly ArrayLike<number>[], options: FitRidgeOptions = {}): RidgeModel[] {
  const n = Math.floor(features.length / d);
  if (n * d !== features.length) throw new Error(`ridge: ${features.length} feature values are not rows of ${d}`);
  for (const t of targets) if (t.length !== n) throw new Error(`ridge: a target has ${t.length} values for ${n} rows`);
  const relative = options.relativeLambdas ?? DefaultRelativeLambdas;
  if (relative.length === 0 || relative.some((r) => !(r > 0))) throw new Error("ridge: penalties must be positive");
  const validationCount = relative.length > 1 ? Math.floor(n * (options.validationFraction ?? 0.2)) : 0;
  const fitRows = Array.from({ length: n - validationCount }, (_, i) => i);
  const validationRows = Array.from({ length: validationCount }, (_, i) => n - validationCount + i);
  if (fitRows.length < 2) throw new Error(`ridge: ${n} rows are too few to fit`);
  const fitGram = GramMatrix(features, d, fitRows);
  let scale = 0;
  for (let j = 0; j < d; j++) scale += fitGram[j * (d + 1) + j];
  scale = Math.max(scale / Math.max(d, 1), 1e-12);

  const chosen = targets.map(() => relative[0]);
  if (validationCount > 0) {
    const errors = targets.map(() => relative.map(() => 0));
    const fitXty = targets.map((t) => CrossProduct(features, d, fitRows, t));
    relative.forEach((r, k) => {
      const factor = RidgeFactor(fitGram, d, r * scale);
      targets.forEach((t, m) => {
        const solution = CholeskySolve(factor, d + 1, fitXty[m]);
        const model = { weights: solution.subarray(0, d), bias: solution[d], lambda: r * scale };
        for (const row of validationRows) errors[m][k] += (PredictRidge(model, features, row) - t[row]) ** 2;
      });
    });
    errors.forEach((e, m) => (chosen[m] = relative[e.indexOf(Math.min(...e))]));
  }
  // Refit on every row with the chosen penalty: add the validation rows' Gram to the fit rows'.
  const gram = validationCount > 0 ? AddInPlace(fitGram, GramMatrix(features, d, validationRows)) : fitGram;
  const allRows = Array.from({ length: n }, (_, i) => i);
  const factors = new Map<number, Float64Array>();
  return targets.map((t, m) => {
    const lambda = chosen[m] * scale * (n / fitRows.length);
    let factor = factors.get(lambda);
    if (!factor) factors.set(lambda, (factor = RidgeFactor(gram, d, lambda)));
    const solution = CholeskySolve(factor, d + 1, CrossProduct(features, d, allRows, t));
    return { weights: solution.subarray(0, d), bias: solution[d], lambda };
  });
}

function AddInPlace(a: Float64Array, b: Float64Array): Float64Array {
  for (let i = 0; i < a.length; i++) a[i] += b[i];
  return a;
}
