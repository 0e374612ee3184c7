/**
 * The "adaptive" in adaptive discriminator augmentation (Karras et al. 2020, stylegan2-ada-pytorch
 * `training_loop.py`): the overfitting heuristic r_t = E[sign(D(real))] is averaged over a few minibatches,
 * and the augmentation probability p moves up when r_t is above the target (D is too sure about the reals:
 * it is memorising them) and down when below, at a speed that lets p go from 0 to 1 in `adjustImages`
 * real images (500k by default, as ADA's ada_kimg = 500). This is how the trainer answers overfitting on
 * small studio data sets: the fewer the images, the sooner D overfits and the higher p settles.
 */

/** Options of {@link AdaController}. */
export interface AdaControllerOptions {
  /** Starting probability (default 0). */
  readonly p?: number;
  /** Target of r_t (default 0.6, as ADA). */
  readonly target?: number;
  /** Real images for p to move by 1; null keeps p fixed (default 500 000). */
  readonly adjustImages?: number | null;
  /** Minibatches averaged per adjustment (default 4, as ADA's ada_interval). */
  readonly interval?: number;
}

/** JSON-safe state of an {@link AdaController} (checkpoints). */
export interface AdaControllerState {
  readonly p: number;
  readonly target: number;
  readonly adjustImages: number | null;
  readonly interval: number;
  /** Sum of signs and number of images since the last adjustment. */
  readonly signSum: number;
  readonly signCount: number;
  /** Minibatches since the last adjustment. */
  readonly batches: number;
  /** r_t of the last adjustment (null before the first). */
  readonly lastSignMean: number | null;
}

/** Adjusts the augmentation probability p from the sign of D's output on real images. */
export class AdaController {
  readonly target: number;
  readonly adjustImages: number | null;
  readonly interval: number;
  private pValue: number;
  private signSum = 0;
  private signCount = 0;
  private batches = 0;
  private lastSignMean: number | null = null;

  constructor(options: AdaControllerOptions = {}) {
    const { p = 0, target = 0.6, adjustImages = 500_000, interval = 4 } = options;
    if (!(p >= 0 && p <= 1)) throw new RangeError(`ADA p: expected a number in 0..1, got ${p}`);
    if (!(target > -1 && target < 1)) throw new RangeError(`ADA target: expected a number in (-1, 1), got ${target}`);
    if (adjustImages !== null && !(adjustImages > 0 && Number.isFinite(adjustImages))) throw new RangeError(`ADA adjustImages: expected a positive number or null, got ${adjustImages}`);
    if (!(Number.isInteger(interval) && interval >= 1)) throw new RangeError(`ADA interval: expected an integer >= 1, got ${interval}`);
    this.pValue = p;
    this.target = target;
    this.adjustImages = adjustImages;
    this.interval = interval;
  }

  /** The current augmentation probability, in 0..1. */
  get p(): number {
    return this.pValue;
  }

  /** r_t = mean sign of D(real) over the last adjustment interval (null before the first). */
  get signMean(): number | null {
    return this.lastSignMean;
  }

  /**
   * Feeds one minibatch of D's real logits: either their signs' sum (with `batchSize`), or the logits/signs
   * themselves (batchSize defaults to their count). Every `interval` minibatches p moves by
   * sign(r_t - target) * images / adjustImages, clamped to 0..1.
   * @returns true when p was re-evaluated on this call
   */
  update(signs: number | ArrayLike<number>, batchSize?: number): boolean {
    let sum: number;
    let count: number;
    if (typeof signs === "number") {
      if (batchSize === undefined) throw new Error("AdaController.update: batchSize is required with a sign sum");
      sum = signs;
      count = batchSize;
    } else {
      sum = 0;
      for (let i = 0; i < signs.length; i++) sum += Math.sign(signs[i]);
      count = batchSize ?? signs.length;
    }
    if (!Number.isFinite(sum) || !(count > 0)) throw new RangeError(`AdaController.update: bad minibatch (sign sum ${sum}, ${count} images)`);
    this.signSum += sum;
    this.signCount += count;
    this.batches++;
    if (this.batches < this.interval) return false;
    const rt = this.signSum / this.signCount;
    this.lastSignMean = rt;
    if (this.adjustImages !== null) {
      const adjust = Math.sign(rt - this.target) * (this.signCount / this.adjustImages);
      this.pValue = Math.min(1, Math.max(0, this.pValue + adjust));
    }
    this.signSum = 0;
    this.signCount = 0;
    this.batches = 0;
    return true;
  }

  /** One line for progress output, e.g. `ada p=0.132 rt=0.64`. */
  describe(): string {
    return `ada p=${this.pValue.toFixed(3)} rt=${this.lastSignMean === null ? "-" : this.lastSignMean.toFixed(2)}`;
  }

  /** State for checkpoints. */
  toJSON(): AdaControllerState {
    return {
      p: this.pValue, target: this.target, adjustImages: this.adjustImages, interval: this.interval,
      signSum: this.signSum, signCount: this.signCount, batches: this.batches, lastSignMean: this.lastSignMean,
    };
  }

  /** Restores a state written by {@link AdaController.toJSON} (throws on a malformed one). */
  static fromJSON(state: AdaControllerState): AdaController {
    if (typeof state !== "object" || state === null) throw new Error("ADA state: expected an object");
    const c = new AdaController({ p: state.p, target: state.target, adjustImages: state.adjustImages, interval: state.interval });
    for (const key of ["signSum", "signCount", "batches"] as const) {
      if (!Number.isFinite(state[key])) throw new Error(`ADA state: ${key} must be a finite number`);
    }
    c.signSum = state.signSum;
    c.signCount = state.signCount;
    c.batches = state.batches;
    c.lastSignMean = state.lastSignMean ?? null;
    return c;
  }
}
