/**
 * Fuzzed training checkpoints: the trainer's reader (ParseCheckpoint) refuses damaged files with CheckpointError and
 * a one-line message, or returns a well-formed state; nothing else is thrown. Besides raw byte edits (which the
 * SHA-256 catches), the header JSON is edited structurally and the digest recomputed, to reach the parser behind it.
 */
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CheckpointError, ParseCheckpoint, SerializeCheckpoint, type CheckpointContents } from "../../../trainer/src/training/checkpoint.js";
import { ResolveTrainingOptions } from "../../../trainer/src/training/trainingOptions.js";
import { ApplyEdits, ByteEdits, FuzzParameters, IsOneLine } from "./fuzzUtil.js";

function SmallCheckpoint(): Uint8Array {
  const m = (n: number, fill: number) => new Map([["w", new Float32Array(n).fill(fill)], ["b", new Float32Array(3).fill(-fill)]]);
  const contents: CheckpointContents = {
    options: ResolveTrainingOptions({ preset: "tiny", batch: 4 }),
    data: { id: "fuzz", resolution: 16, labelNames: [] },
    state: {
      imagesSeen: 8, step: 2, plMean: 0, random: { "0": 4, "258": 3 }, augment: null,
      generator: m(5, 0.5), generatorEma: m(5, 0.25), discriminator: m(4, 1),
      adamG: { step: 2, m: [new Float32Array(5), new Float32Array(3)], v: [new Float32Array(5).fill(1e-12), new Float32Array(3)] },
      adamD: { step: 2, m: [new Float32Array(4), new Float32Array(3)], v: [new Float32Array(4), new Float32Array(3)] },
    },
    extra: { tick: 1 },
  };
  return SerializeCheckpoint(contents);
}

/** Parses; on success checks the state is usable (typed arrays, finite counters); on failure the error type and line. */
function ParseOrRefuse(bytes: Uint8Array): "accepted" | "refused" {
  let parsed: CheckpointContents;
  try {
    parsed = ParseCheckpoint(bytes, "fuzz.ckpt");
  } catch (error) {
    expect(error, (error as Error).stack).toBeInstanceOf(CheckpointError);
    expect(IsOneLine((error as Error).message), (error as Error).message).toBe(true);
    return "refused";
  }
  const s = parsed.state;
  for (const n of [s.imagesSeen, s.step, s.plMean, s.adamG.step, s.adamD.step]) expect(Number.isFinite(n)).toBe(true);
  for (const group of [s.generator, s.generatorEma, s.discriminator]) for (const v of group.values()) expect(v).toBeInstanceOf(Float32Array);
  for (const adam of [s.adamG, s.adamD]) {
    expect(adam.m.length).toBe(adam.v.length);
    for (const v of [...adam.m, ...adam.v]) expect(v).toBeInstanceOf(Float32Array);
  }
  expect(typeof s.random).toBe("object");
  return "accepted";
}

/** Replaces the header by `header` (any JSON value or text) and recomputes the length and the digest. */
function WithHeader(original: Uint8Array, header: string): Uint8Array {
  const view = new DataView(original.buffer, original.byteOffset, original.byteLength);
  const oldLength = view.getUint32(8, true);
  const blob = original.subarray(12 + oldLength, original.length - 32);
  const headerBytes = new TextEncoder().encode(header);
  const out = new Uint8Array(12 + headerBytes.length + blob.length + 32);
  out.set(original.subarray(0, 8), 0);
  new DataView(out.buffer).setUint32(8, headerBytes.length, true);
  out.set(headerBytes, 12);
  out.set(blob, 12 + headerBytes.length);
  out.set(createHash("sha256").update(out.subarray(0, out.length - 32)).digest(), out.length - 32);
  return out;
}

function Header(bytes: Uint8Array): Record<string, unknown> {
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  return JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + length))) as Record<string, unknown>;
}

/** Resigns bytes edited anywhere (the digest is recomputed over the edited content). */
function Resigned(bytes: Uint8Array): Uint8Array {
  if (bytes.length < 32) return bytes;
  const out = Uint8Array.from(bytes);
  out.set(createHash("sha256").update(out.subarray(0, out.length - 32)).digest(), out.length - 32);
  return out;
}

describe("fuzz: checkpoints", () => {
  const checkpoint = SmallCheckpoint();

  it("the fixture parses", () => {
    expect(ParseOrRefuse(checkpoint)).toBe("accepted");
  });

  it("byte edits (raw, re-signed, gzip-packed): CheckpointError or a well-formed state", () => {
    fc.assert(
      fc.property(ByteEdits(4), fc.constantFrom("raw", "resigned", "gzip"), (edits, form) => {
        const edited = ApplyEdits(checkpoint, edits);
        const bytes = form === "raw" ? edited : form === "resigned" ? Resigned(edited) : gzipSync(Resigned(edited));
        ParseOrRefuse(bytes);
      }),
      FuzzParameters(1500, 6000),
    );
  });

  it("header edits (any JSON in place of a field, the tensor table mangled), re-signed: CheckpointError or a well-formed state", () => {
    const header = Header(checkpoint);
    const fields = Object.keys(header);
    const tensorFields = ["group", "name", "length", "dtype", "offset"];
    fc.assert(
      fc.property(
        fc.oneof(
          // A whole field replaced by any JSON value (or removed).
          fc.record({ kind: fc.constant("field" as const), field: fc.constantFrom(...fields), value: fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }) }),
          // One tensor entry's field replaced by a hostile value.
          fc.record({
            kind: fc.constant("tensor" as const), index: fc.nat({ max: 30 }), field: fc.constantFrom(...tensorFields),
            value: fc.oneof(fc.integer(), fc.constantFrom(-1, 0, 1e12, 2 ** 31, 2 ** 53, 1.5, Number.NaN, null, "float64", "float16", "bfloat16", "__proto__", "constructor", "x"), fc.jsonValue({ maxDepth: 1 })),
          }),
          // The header as any JSON document at all.
          fc.record({ kind: fc.constant("document" as const), value: fc.jsonValue({ maxDepth: 3 }) }),
          fc.record({ kind: fc.constant("text" as const), value: fc.string({ maxLength: 40 }) }),
        ),
        (edit) => {
          let text: string;
          if (edit.kind === "text") text = edit.value;
          else if (edit.kind === "document") text = JSON.stringify(edit.value) ?? "null";
          else {
            const copy = structuredClone(header) as Record<string, unknown> & { tensors: Record<string, unknown>[] };
            if (edit.kind === "field") {
              if (edit.value === undefined) delete copy[edit.field];
              else copy[edit.field] = edit.value;
            } else {
              const entry = copy.tensors[edit.index % copy.tensors.length];
              entry[edit.field] = edit.value;
            }
            text = JSON.stringify(copy);
          }
          ParseOrRefuse(WithHeader(checkpoint, text));
        },
      ),
      FuzzParameters(2000, 8000),
    );
  });
});
