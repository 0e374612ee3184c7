/**
 * uint32 -> standard normal, by the inverse normal CDF (Acklam's rational approximation, relative error
 * 1.15e-9), built only from + - * / and sqrt. Math.log/exp/cos may differ in their last bit between
 * JavaScript engines; IEEE-754 basic operations and sqrt are correctly rounded everywhere, so this is
 * bit-identical on every engine.
 */

const A = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
const B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const C = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
const P_LOW = 0.02425;
const TWO_POW_MINUS_32 = 1 / 4294967296;
const LN2 = 0.6931471805599453;
const SQRT_HALF = 0.7071067811865476;

/** Natural logarithm of p in (0, 1] from basic operations: p = m * 2^e, ln m by the atanh series. */
export function PortableLog(p: number): number {
  let m = p;
  let e = 0;
  while (m < 0.5) {
    m *= 2; // exact
    e--;
  }
  if (m < SQRT_HALF) {
    m *= 2;
    e--;
  }
  // m in [sqrt(1/2), sqrt(2)): t = (m-1)/(m+1), |t| < 0.1716; ln m = 2 (t + t^3/3 + t^5/5 + ...).
  const t = (m - 1) / (m + 1);
  const t2 = t * t;
  let term = t;
  let sum = 0;
  for (let k = 1; k <= 23; k += 2) {
    sum += term / k;
    term *= t2;
  }
  return e * LN2 + 2 * sum;
}

function Tail(p: number): number {
  const q = Math.sqrt(-2 * PortableLog(p));
  return (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1);
}

/**
 * Maps a uint32 to a standard normal value. u = (x + 0.5) / 2^32 lies strictly inside (0, 1); the upper tail
 * uses the mirrored integer so the transform is exactly antisymmetric.
 */
export function NormalFromUint32(x: number): number {
  const p = (x + 0.5) * TWO_POW_MINUS_32;
  if (p < P_LOW) return Tail(p);
  if (p > 1 - P_LOW) return -Tail((4294967295 - x + 0.5) * TWO_POW_MINUS_32);
  const q = p - 0.5;
  const r = q * q;
  return ((((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q) / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1);
}
