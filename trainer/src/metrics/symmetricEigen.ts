/**
 * Eigen-decomposition of a real symmetric matrix in float64: Householder reduction to tridiagonal form, then
 * the implicit QL algorithm (EISPACK tred2/tql2, as in the public-domain JAMA library).
 *
 * Why not Jacobi rotations: the Fréchet distance needs this for matrices up to 2048x2048 (the feature size),
 * where cyclic Jacobi takes ~10 sweeps of ~16·n³ flops (minutes in JS) while tred2/tql2 takes ~(4/3)·n³ for
 * the eigenvalues (+ ~3·n³ for vectors). Both are backward stable; this one is just faster.
 *
 * Storage: the transformation matrix is kept TRANSPOSED (W = Vᵀ, row-major) so the inner loops of both
 * phases run over contiguous memory.
 */

/** Eigenvalues (ascending) and, when asked, eigenvectors. */
export interface SymmetricEigenResult {
  readonly values: Float64Array;
  /** Row-major n x n; COLUMN j is the unit eigenvector of values[j]: A = V diag(values) Vᵀ. */
  readonly vectors: Float64Array | null;
}

/**
 * Eigen-decomposition of the symmetric n x n matrix `a` (row-major; only symmetric input is meaningful,
 * it is not checked). `a` is not modified.
 */
export function SymmetricEigen(a: ArrayLike<number>, n: number, options: { vectors?: boolean } = {}): SymmetricEigenResult {
  if (a.length !== n * n) throw new Error(`SymmetricEigen: expected ${n * n} values, got ${a.length}`);
  const wantVectors = options.vectors ?? false;
  if (n === 0) return { values: new Float64Array(0), vectors: wantVectors ? new Float64Array(0) : null };
  // W[j*n + k] holds V[k][j]; V starts as A (symmetric, so W = A too).
  const w = Float64Array.from(a);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  Tred2(w, d, e, n, wantVectors);
  Tql2(w, d, e, n, wantVectors);
  // Sort ascending (tql2 leaves them unordered).
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => d[x] - d[y]);
  const values = Float64Array.from(order, (i) => d[i]);
  if (!wantVectors) return { values, vectors: null };
  const vectors = new Float64Array(n * n);
  for (let c = 0; c < n; c++) {
    const row = order[c] * n; // W row = eigenvector
    for (let k = 0; k < n; k++) vectors[k * n + c] = w[row + k];
  }
  return { values, vectors };
}

/** Householder tridiagonalisation. On exit d = diagonal, e = sub-diagonal (e[0] = 0), W = accumulated Vᵀ. */
function Tred2(w: Float64Array, d: Float64Array, e: Float64Array, n: number, wantVectors: boolean): void {
  // V(r, c) = w[c * n + r]
  for (let j = 0; j < n; j++) d[j] = w[j * n + (n - 1)];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = w[j * n + (i - 1)];
        w[j * n + i] = 0;
        w[i * n + j] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j];
        w[i * n + j] = f; // V[j][i]
        const col = j * n; // V[k][j] = w[col + k]
        g = e[j] + w[col + j] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += w[col + k] * d[k];
          e[k] += w[col + k] * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      for (let j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        const col = j * n;
        for (let k = j; k <= i - 1; k++) w[col + k] -= f * e[k] + g * d[k];
        d[j] = w[col + (i - 1)];
        w[col + i] = 0; // V[i][j]
      }
    }
    d[i] = h;
  }
  if (!wantVectors) {
    // The diagonal of the reduced matrix is what the accumulation below would leave in d.
    for (let j = 0; j < n; j++) d[j] = w[j * n + j];
    e[0] = 0;
    return;
  }
  for (let i = 0; i < n - 1; i++) {
    w[i * n + (n - 1)] = w[i * n + i]; // V[n-1][i] = V[i][i]
    w[i * n + i] = 1;
    const h = d[i + 1];
    const next = (i + 1) * n; // V[k][i+1] = w[next + k]
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = w[next + k] / h;
      for (let j = 0; j <= i; j++) {
        const col = j * n;
        let g = 0;
        for (let k = 0; k <= i; k++) g += w[next + k] * w[col + k];
        for (let k = 0; k <= i; k++) w[col + k] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) w[next + k] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = w[j * n + (n - 1)];
    w[j * n + (n - 1)] = 0;
  }
  w[(n - 1) * n + (n - 1)] = 1;
  e[0] = 0;
}

/** Implicit QL on the tridiagonal (d, e); accumulates the rotations into W when asked. */
function Tql2(w: Float64Array, d: Float64Array, e: Float64Array, n: number, wantVectors: boolean): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]) <= eps * tst1) break;
      m++;
    }
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 60) throw new Error("SymmetricEigen: QL iteration did not converge");
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          if (wantVectors) {
            const ri = i * n; // V[k][i] = w[ri + k]
            const rj = (i + 1) * n;
            for (let k = 0; k < n; k++) {
              const t = w[rj + k];
              w[rj + k] = s * w[ri + k] + c * t;
              w[ri + k] = c * w[ri + k] - s * t;
            }
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
}
