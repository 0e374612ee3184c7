/**
 * Shared parts of the fuzz tests (fast-check): a fixed seed and bounded runs, so a run is repeatable and the
 * suite's time stays bounded, and byte mutations of a valid input.
 */
import fc from "fast-check";

/** Seed of every property: a failure reproduces on the next run, and fast-check prints the counterexample. */
export const FuzzSeed = 0x4e5043;

/** fast-check parameters: the fixed seed, `numRuns` runs, and a time limit (ms) after which it stops early. */
export function FuzzParameters(numRuns: number, timeLimitMs: number): fc.Parameters<unknown> {
  return { seed: FuzzSeed, numRuns, interruptAfterTimeLimit: timeLimitMs, markInterruptAsFailure: false };
}

/** One edit of a byte string. */
export type ByteEdit =
  | { readonly kind: "flip"; readonly at: number; readonly xor: number }
  | { readonly kind: "set"; readonly at: number; readonly value: number }
  | { readonly kind: "truncate"; readonly at: number }
  | { readonly kind: "insert"; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: "delete"; readonly at: number; readonly count: number };

/** 1 to `max` random edits; positions are fractions of the length, so they fit any input. */
export function ByteEdits(max = 4): fc.Arbitrary<{ kind: string; where: number; n: number; bytes: Uint8Array }[]> {
  return fc.array(
    fc.record({
      kind: fc.constantFrom("flip", "set", "truncate", "insert", "delete"),
      where: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
      n: fc.integer({ min: 1, max: 255 }),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
    }),
    { minLength: 1, maxLength: max },
  );
}

/** Applies edits from {@link ByteEdits} (in order) to a copy of `input`. */
export function ApplyEdits(input: Uint8Array, edits: readonly { kind: string; where: number; n: number; bytes: Uint8Array }[]): Uint8Array {
  let out = Uint8Array.from(input);
  for (const e of edits) {
    const at = Math.floor(e.where * out.length);
    if (e.kind === "flip" && out.length > 0) out[at] ^= e.n;
    else if (e.kind === "set" && out.length > 0) out[at] = e.n & 0xff;
    else if (e.kind === "truncate") out = out.slice(0, at);
    else if (e.kind === "insert") out = Uint8Array.from([...out.subarray(0, at), ...e.bytes, ...out.subarray(at)]);
    else if (e.kind === "delete") out = Uint8Array.from([...out.subarray(0, at), ...out.subarray(Math.min(out.length, at + e.n))]);
  }
  return out;
}

/** Edits to the bytes around each occurrence of a string — an easy way to reach fields deep in a format. */
export function Occurrences(haystack: Uint8Array, needle: string): number[] {
  const bytes = new TextEncoder().encode(needle);
  const found: number[] = [];
  outer: for (let i = 0; i + bytes.length <= haystack.length; i++) {
    for (let j = 0; j < bytes.length; j++) if (haystack[i + j] !== bytes[j]) continue outer;
    found.push(i);
  }
  return found;
}

/** A message for people: one line, not empty. */
export function IsOneLine(message: string): boolean {
  return message.trim().length > 0 && !message.includes("\n");
}
