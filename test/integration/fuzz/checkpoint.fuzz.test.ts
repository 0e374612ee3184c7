/**
 * Fuzzed training checkpoints: the trainer's reader (ParseCheckpoint) refuses damaged files with CheckpointError and
 * a one-line message, or returns a well-formed state; nothing else is thrown. Besides raw byte edits (which the
 * SHA-256 catches), the safetensors header and the checkpoint header inside it are edited structurally and the digest
 * recomputed, to reach the parser behind it.
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

const Zeros = "0".repeat(64);

/** A safetensors file from header text (8-byte length, header, tensor bytes). */
function SafetensorsFile(text: string, body: Uint8Array): Uint8Array {
  const header = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + header.length + body.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  out.set(body, 8 + header.length);
  return out;
}

/** Signs header text whose `__metadata__.sha256` holds the 64 zeros: the digest of everything after the length, zeros in place. */
function Signed(text: string, body: Uint8Array): Uint8Array {
  const field = `"sha256":"${Zeros}"`;
  if (!text.includes(field)) return SafetensorsFile(text, body);
  const digest = createHash("sha256").update(new TextEncoder().encode(text)).update(body).digest("hex");
  return SafetensorsFile(text.replace(field, `"sha256":"${digest}"`), body);
}

/** The safetensors header table of a file, its tensor bytes, and the checkpoint header inside `__metadata__`. */
function Parts(bytes: Uint8Array): { table: Record<string, unknown>; body: Uint8Array; header: Record<string, unknown> } {
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const table = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length))) as Record<string, unknown>;
  const metadata = table.__metadata__ as Record<string, string>;
  return { table, body: bytes.subarray(8 + length), header: JSON.parse(metadata.header) as Record<string, unknown> };
}

/** Re-signs bytes edited anywhere (the digest is recomputed over the edited content), when the header still reads. */
function Resigned(bytes: Uint8Array): Uint8Array {
  try {
    const { table, body } = Parts(bytes);
    (table.__metadata__ as Record<string, string>).sha256 = Zeros;
    return Signed(JSON.stringify(table), body);
  } catch {
    return bytes;
  }
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
    const { table, body, header } = Parts(checkpoint);
    const fields = Object.keys(header);
    const tensors = Object.keys(table).filter((k) => k !== "__metadata__");
    const tensorFields = ["dtype", "shape", "data_offsets"];
    const hostile = fc.oneof(fc.integer(), fc.constantFrom(-1, 0, 1e12, 2 ** 31, 2 ** 53, 1.5, Number.NaN, null, "F64", "F16", "BF16", "I8", "__proto__", "constructor", "x", [0], [0, 1e12], [-4, 4], [[1]]), fc.jsonValue({ maxDepth: 1 }));
    fc.assert(
      fc.property(
        fc.oneof(
          // A field of the checkpoint header replaced by any JSON value (or removed).
          fc.record({ kind: fc.constant("field" as const), field: fc.constantFrom(...fields), value: fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }) }),
          // One tensor entry's field replaced by a hostile value, or the entry renamed.
          fc.record({ kind: fc.constant("tensor" as const), index: fc.nat({ max: 30 }), field: fc.constantFrom(...tensorFields), value: hostile }),
          fc.record({ kind: fc.constant("rename" as const), index: fc.nat({ max: 30 }), value: fc.constantFrom("", "w", "G", "G/", "/w", "adamG/m9", "adamG/x", "__metadata__", "G/__proto__") }),
          // The metadata or the whole header as any JSON document at all.
          fc.record({ kind: fc.constant("metadata" as const), value: fc.jsonValue({ maxDepth: 2 }) }),
          fc.record({ kind: fc.constant("document" as const), value: fc.jsonValue({ maxDepth: 3 }) }),
          fc.record({ kind: fc.constant("text" as const), value: fc.string({ maxLength: 40 }) }),
        ),
        (edit) => {
          if (edit.kind === "text") return void ParseOrRefuse(SafetensorsFile(edit.value, body));
          if (edit.kind === "document") return void ParseOrRefuse(SafetensorsFile(JSON.stringify(edit.value) ?? "null", body));
          const copy = structuredClone(table) as Record<string, unknown>;
          const metadata = copy.__metadata__ as Record<string, unknown>;
          metadata.sha256 = Zeros;
          if (edit.kind === "field") {
            const inner = structuredClone(header);
            if (edit.value === undefined) delete inner[edit.field];
            else inner[edit.field] = edit.value;
            metadata.header = JSON.stringify(inner);
          } else if (edit.kind === "metadata") {
            copy.__metadata__ = { ...metadata, header: edit.value };
          } else {
            const name = tensors[edit.index % tensors.length];
            if (edit.kind === "rename") {
              copy[edit.value] = copy[name];
              if (edit.value !== name) delete copy[name];
            } else (copy[name] as Record<string, unknown>)[edit.field] = edit.value;
          }
          ParseOrRefuse(Signed(JSON.stringify(copy), body));
        },
      ),
      FuzzParameters(2000, 8000),
    );
  });
});
