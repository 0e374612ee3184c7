/**
 * The random draws of the augmentation: counter-based (Philox4x32-10, the seed contract's generator), so the
 * whole state is a seed and a counter that a checkpoint stores and a resumed run restores exactly.
 *
 * Every image takes a fixed block of {@link AugmentDrawsPerImage} uint32 values (Philox counter
 * `counter * 8 + j`, key `[seed, SeedStream.Training(AugmentStreamPurpose)]`), and every transform reads fixed
 * slots of that block. So the draws of image k never depend on p, on the enabled transforms, or on the batch
 * size: only on (seed, image counter).
 */
import { NormalFromUint32, Philox4x32, SeedStream, AssertValidSeed } from "@npc-faces/runtime";

/** `SeedStream.Training` purpose of the augmentation parameters (distinct from the training loop's own streams). */
export const AugmentStreamPurpose = 0x4000;
/** uint32 values reserved per augmented image (8 Philox blocks). */
export const AugmentDrawsPerImage = 32;

/** JSON-safe state of an {@link AugmentRandom}. */
export interface AugmentRandomState {
  readonly seed: number;
  /** Number of images drawn for so far. */
  readonly counter: number;
}

/** Per-image random draws for the augmentation, advanced by one per image. */
export class AugmentRandom {
  readonly seed: number;
  private next: number;

  /** @param seed any uint32; @param counter images already drawn for (0 for a fresh stream) */
  constructor(seed: number, counter = 0) {
    AssertValidSeed(seed, "augment seed");
    if (!Number.isSafeInteger(counter) || counter < 0) throw new RangeError(`augment counter: expected a non-negative integer, got ${counter}`);
    this.seed = seed;
    this.next = counter;
  }

  /** Images drawn for so far (the value to checkpoint). */
  get counter(): number {
    return this.next;
  }

  /** The {@link AugmentDrawsPerImage} uint32 draws of the next image; advances the counter by one. */
  drawImage(): ImageDraws {
    const index = this.next++;
    const out = new Uint32Array(AugmentDrawsPerImage);
    const block = new Uint32Array(4);
    const key1 = SeedStream.Training(AugmentStreamPurpose);
    for (let j = 0; j < AugmentDrawsPerImage / 4; j++) {
      const c = index * (AugmentDrawsPerImage / 4) + j;
      Philox4x32(c >>> 0, Math.floor(c / 4294967296) >>> 0, 0, 0, this.seed, key1, block);
      out.set(block, j * 4);
    }
    return new ImageDraws(out);
  }

  /** State for checkpoints. */
  toJSON(): AugmentRandomState {
    return { seed: this.seed, counter: this.next };
  }

  /** Restores a state written by {@link AugmentRandom.toJSON}. */
  static fromJSON(state: AugmentRandomState): AugmentRandom {
    return new AugmentRandom(state.seed, state.counter);
  }
}

/** One image's block of draws, read by slot. */
export class ImageDraws {
  constructor(readonly values: Uint32Array) {}

  /** Uniform in (0, 1) from slot `i`. */
  uniform(i: number): number {
    return (this.values[i] + 0.5) / 4294967296;
  }

  /** Standard normal from slot `i` (the seed contract's portable inverse-CDF transform). */
  normal(i: number): number {
    return NormalFromUint32(this.values[i]);
  }
}
