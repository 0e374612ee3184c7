/**
 * How many of an attribute's classes a set of faces covers, from class counts (true labels or a probe's
 * predictions):
 *  - effective number of classes: exp of the Shannon entropy of the class shares — k for k equally common
 *    classes, near 1 when one class dominates, so it falls when a generator draws only a few eyes or mouths;
 *  - classes at half share: how many of the reference's classes (the training labels) reach at least half their
 *    reference share, i.e. are drawn about as often as the data draws them, not just once.
 * Both depend on the sample size (a small sample misses rare classes), so compare generated and real images at
 * the same count.
 */

/** Coverage of one attribute by one set of faces. */
export interface ClassCoverage {
  /** Faces counted. */
  readonly count: number;
  /** exp(entropy of the class shares), 1..classes. */
  readonly effectiveClasses: number;
  /** Classes with a positive reference share whose share here is at least half of it. */
  readonly classesAtHalfShare: number;
  /** Classes seen at least once. */
  readonly classesSeen: number;
}

/** Counts of class indices 0..classCount-1 (other values are ignored). */
export function CountClasses(classes: ArrayLike<number>, classCount: number): Float64Array {
  const counts = new Float64Array(classCount);
  for (let i = 0; i < classes.length; i++) {
    const c = classes[i];
    if (Number.isInteger(c) && c >= 0 && c < classCount) counts[c]++;
  }
  return counts;
}

/** Shares (summing to 1) of class counts; all zero when the counts are. */
export function ClassShares(counts: ArrayLike<number>): Float64Array {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  return Float64Array.from(counts, (c) => (total > 0 ? c / total : 0));
}

/** exp of the Shannon entropy (nats) of class counts: the effective number of classes (0 for no faces). */
export function EffectiveClassCount(counts: ArrayLike<number>): number {
  const shares = ClassShares(counts);
  let entropy = 0;
  let any = false;
  for (const p of shares) {
    if (p > 0) {
      entropy -= p * Math.log(p);
      any = true;
    }
  }
  return any ? Math.exp(entropy) : 0;
}

/** Coverage of class counts against reference shares (see the file comment). */
export function MeasureClassCoverage(counts: ArrayLike<number>, referenceShares: ArrayLike<number>): ClassCoverage {
  if (counts.length !== referenceShares.length) throw new Error(`class coverage: ${counts.length} counts for ${referenceShares.length} reference shares`);
  const shares = ClassShares(counts);
  let count = 0;
  let atHalf = 0;
  let seen = 0;
  for (let c = 0; c < counts.length; c++) {
    count += counts[c];
    if (counts[c] > 0) seen++;
    if (referenceShares[c] > 0 && shares[c] >= referenceShares[c] / 2) atHalf++;
  }
  return { count, effectiveClasses: EffectiveClassCount(counts), classesAtHalfShare: atHalf, classesSeen: seen };
}
