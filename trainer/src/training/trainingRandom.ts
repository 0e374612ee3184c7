/**
 * The trainer's random numbers: counter-based (Philox, the seed contract's generator), so the whole state is a
 * handful of counters that checkpoints store and `--resume` restores exactly.
 */
import { FillStandardNormal, Philox4x32, SeedStream } from "@npc-faces/runtime";

/** What the draws are for; each purpose is its own stream so that changing one use never shifts another. */
export const RandomPurpose = {
  Latent: 0,
  Noise: 1,
  BatchIndex: 2,
  StyleMixing: 3,
  Augment: 4,
  PathLengthNoise: 5,
  Label: 6,
} as const;

/** Counters by purpose (number of values drawn so far). */
export type RandomState = Record<string, number>;

/** Deterministic, resumable random source for training. */
export class TrainingRandom {
  readonly seed: number;
  private readonly counters = new Map<number, number>();
  private readonly block = new Uint32Array(4);

  constructor(seed: number, state?: RandomState) {
    this.seed = seed >>> 0;
    if (state) for (const [k, v] of Object.entries(state)) this.counters.set(Number(k), v);
  }

  private take(purpose: number, count: number): number {
    const start = this.counters.get(purpose) ?? 0;
    this.counters.set(purpose, start + count);
    return start;
  }

  /** `count` standard normal values of stream `purpose`. */
  normal(purpose: number, count: number): Float32Array {
    const out = new Float32Array(count);
    return FillStandardNormal(this.seed, SeedStream.Training(purpose), out, this.take(purpose, count));
  }

  /** `count` uniform 32-bit integers of stream `purpose` (a separate key range from the normals). */
  uint32(purpose: number, count: number): Uint32Array {
    const out = new Uint32Array(count);
    const start = this.take(0x100 + purpose, count);
    for (let i = 0; i < count; i++) {
      const index = start + i;
      const counter = Math.floor(index / 4);
      Philox4x32(counter >>> 0, Math.floor(counter / 4294967296) >>> 0, 0, 0, this.seed, SeedStream.Training(0x100 + purpose), this.block);
      out[i] = this.block[index % 4];
    }
    return out;
  }

  /** A uniform number in [0, 1). */
  uniform(purpose: number): number {
    return this.uint32(purpose, 1)[0] / 4294967296;
  }

  /** An integer in [0, n). */
  integer(purpose: number, n: number): number {
    return Math.floor(this.uniform(purpose) * n);
  }

  /** The counters (JSON-safe). */
  getState(): RandomState {
    return Object.fromEntries([...this.counters].sort((a, b) => a[0] - b[0]).map(([k, v]) => [String(k), v]));
  }
}
