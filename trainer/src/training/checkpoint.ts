/**
 * Training checkpoints: one file holding everything `--resume` needs to continue bit-identically.
 *
 * Layout (format version 3): a **safetensors** file (Hugging Face's format, opened by Python's `safetensors` or
 * with `json` + `numpy`: u64 little-endian header length | JSON header, space-padded to 8 bytes | raw little-endian
 * tensors, contiguous). Tensors are named `<group>/<name>`: G, G_ema and D stored weights (`G/mapping.fc0.weight`,
 * shapes as the trainer's specs: conv HWIO, FC [in, out]), Adam moments `adamG/m<i>`, `adamG/v<i>` (and adamD) in
 * parameter order. `__metadata__` holds `format` ("npc-faces-checkpoint"), `formatVersion`, `header` (JSON: options,
 * data set, counters, RNG counters, ADA state, extras) and `sha256`: the SHA-256 of the file after the length with
 * this field's 64 hex digits read as "0"s, so a flipped byte anywhere is detected. Versions 1 and 2 ("NPCFCKPT" |
 * u32 header length | JSON header | blob | SHA-256) are still read.
 *
 * Tensors are fp32, or in the compact form (for committing a run's checkpoint: it can be exported, and resumed with
 * slightly rounded values) weights as fp16 and Adam moments as bfloat16: fp16 flushes values below 6e-8 to zero, and
 * Adam's second moments (squared gradients, often 1e-12) would vanish, which makes the first steps after a resume up
 * to 10x too large. With beta1 = 0 (the StyleGAN default) the first moment is never read (m' = 0·m + g), so the
 * compact form stores zeros for it.
 * A packed checkpoint ({@link PackCheckpoint}) is the compact form, gzip-compressed, with the run's log up to
 * the checkpoint in `extra.log`; the readers here take plain, compact and packed files alike.
 * Writes are atomic: a temporary file in the same folder, fsync, rename over the target, fsync of the folder,
 * so a crash (even SIGKILL) mid-write leaves the previous checkpoint intact.
 */
import { createHash } from "node:crypto";
import { open, readFile, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { Float16BitsToFloat32, Float32ToFloat16Bits } from "../export/onnxGraphBuilder.js";
import { GeneratorParameterSpecs } from "../networks/architecture.js";
import { DiscriminatorParameterSpecs } from "../networks/discriminatorArchitecture.js";
import type { AdamState } from "./adam.js";
import type { TrainingStateSnapshot } from "./trainingLoop.js";
import { z } from "zod";
import { DiscriminatorOptionsOf, TrainingGeneratorConfig, TrainingOptionsSchema, type TrainingOptions } from "./trainingOptions.js";

/** Magic of the format versions 1 and 2 (read only). */
const LegacyMagic = "NPCFCKPT";
/** `__metadata__.format` of a safetensors checkpoint. */
const FormatName = "npc-faces-checkpoint";
/**
 * Layout version: 1 = NPCFCKPT with fp32 and fp16 tensors, 2 = also bfloat16 ones, 3 = safetensors (written now;
 * 1 and 2 are still read).
 */
export const CheckpointFormatVersion = 3;

/** What a checkpoint file holds. */
export interface CheckpointContents {
  readonly options: TrainingOptions;
  /** Data-set identity and label columns the run was trained on. */
  readonly data: { readonly id: string | null; readonly resolution: number; readonly labelNames: readonly string[] };
  readonly state: TrainingStateSnapshot;
  /** Free-form extras (e.g. tick counters, timing) kept verbatim. */
  readonly extra?: Record<string, unknown>;
  /** How the file stored it (set by {@link ParseCheckpoint}; ignored when writing). */
  readonly stored?: CheckpointStorage;
}

/** How a checkpoint file stores its contents. */
export interface CheckpointStorage {
  readonly formatVersion: number;
  /** Packed: gzip around the checkpoint. */
  readonly gzip: boolean;
  /** Size of the checkpoint itself (uncompressed when packed). */
  readonly bytes: number;
  /** Tensor types in the file, e.g. ["float16", "bfloat16"] for the compact form. */
  readonly types: readonly TensorType[];
}

/** Element type of a stored tensor. */
export type TensorType = "float32" | "float16" | "bfloat16";
const BytesPer: Record<TensorType, number> = { float32: 4, float16: 2, bfloat16: 2 };
/** safetensors' names of the element types. */
const SafetensorsDtype: Record<TensorType, string> = { float32: "F32", float16: "F16", bfloat16: "BF16" };

/** One tensor of a file: where its values lie (absolute byte offset). */
interface TensorEntry {
  group: string;
  name: string;
  length: number;
  dtype: TensorType;
  offset: number;
}

const Count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** The header's shape (options are checked by TrainingOptionsSchema, the ADA state by the augmentation). */
const CheckpointHeaderSchema = z.object({
  format: z.literal(FormatName),
  formatVersion: z.number(),
  options: z.unknown(),
  data: z.object({ id: z.string().nullable(), resolution: z.number().int().positive(), labelNames: z.array(z.string()) }),
  counters: z.object({ imagesSeen: Count, step: Count, plMean: z.number().refine(Number.isFinite, "must be finite"), adamGStep: Count, adamDStep: Count }),
  random: z.record(z.string().regex(/^\d+$/), Count),
  augment: z.unknown(),
  extra: z.record(z.string(), z.unknown()).default({}),
  /** Versions 1 and 2: the tensor table (offsets into the blob); version 3 keeps it in the safetensors header. */
  tensors: z.array(z.object({ group: z.string(), name: z.string(), length: Count, dtype: z.string(), offset: Count })).optional(),
});

/** A safetensors header entry. */
const SafetensorsEntrySchema = z.object({ dtype: z.string(), shape: z.array(Count), data_offsets: z.tuple([Count, Count]) });

/** A checkpoint that cannot be used (truncated, corrupted, not a checkpoint, unknown version). */
export class CheckpointError extends Error {
  constructor(path: string, why: string) {
    super(`checkpoint ${path}: ${why}`);
    this.name = "CheckpointError";
  }
}

function Groups(state: TrainingStateSnapshot): [string, Map<string, Float32Array>][] {
  const adam = (s: AdamState) => new Map(s.m.flatMap((m, i) => [[`m${i}`, m] as const, [`v${i}`, s.v[i]] as const]));
  return [
    ["G", state.generator],
    ["G_ema", state.generatorEma],
    ["D", state.discriminator],
    ["adamG", adam(state.adamG)],
    ["adamD", adam(state.adamD)],
  ];
}

/**
 * The shape of each tensor `<group>/<name>` from the run's parameter specs (Adam moments take their parameter's),
 * for Python readers; a tensor the specs do not describe (or with another size) is written flat.
 */
function TensorShapes(contents: CheckpointContents): (group: string, name: string, length: number) => number[] {
  const shapes = new Map<string, readonly number[]>();
  try {
    const config = TrainingGeneratorConfig(contents.options, contents.data.labelNames.length);
    const g = GeneratorParameterSpecs(config);
    const d = DiscriminatorParameterSpecs(config, DiscriminatorOptionsOf(contents.options));
    for (const [group, specs] of [["G", g], ["G_ema", g], ["D", d]] as const) for (const spec of specs) shapes.set(`${group}/${spec.name}`, spec.shape);
    for (const [group, specs] of [["adamG", g], ["adamD", d]] as const) {
      specs.filter((s) => s.trainable).forEach((spec, i) => (shapes.set(`${group}/m${i}`, spec.shape), shapes.set(`${group}/v${i}`, spec.shape)));
    }
  } catch {
    // An unknown preset (a hand-made or test state): every tensor flat.
  }
  return (group, name, length) => {
    const shape = shapes.get(`${group}/${name}`);
    return shape && shape.reduce((a, b) => a * b, 1) === length ? [...shape] : [length];
  };
}

/** Round-to-nearest-even bfloat16 (the top half of a float32: same range, 8-bit significand) of float32 bits. */
function Float32BitsToBfloat16Bits(bits: number): number {
  if ((bits & 0x7f800000) === 0x7f800000 && bits & 0x7fffff) return (bits >>> 16) | 0x40; // NaN stays NaN
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** The `sha256` field as written before the digest is known (same length as the digest). */
const DigestPlaceholder = "0".repeat(64);

/** Serialises a checkpoint to bytes (see the file comment for the layout). */
export function SerializeCheckpoint(contents: CheckpointContents, options: { compact?: boolean } = {}): Uint8Array {
  const entries: (TensorEntry & { values: Float32Array })[] = [];
  let offset = 0;
  const unusedFirstMoment = options.compact === true && contents.options.beta1 === 0;
  for (const [group, tensors] of Groups(contents.state)) {
    const moments = group === "adamG" || group === "adamD";
    for (const [name, values] of tensors) {
      const dtype: TensorType = !options.compact ? "float32" : moments ? "bfloat16" : "float16";
      entries.push({ group, name, length: values.length, dtype, offset, values: unusedFirstMoment && moments && name.startsWith("m") ? new Float32Array(values.length) : values });
      offset += values.length * BytesPer[dtype];
    }
  }
  const { state } = contents;
  const header = {
    format: FormatName,
    formatVersion: CheckpointFormatVersion,
    options: contents.options,
    data: contents.data,
    counters: { imagesSeen: state.imagesSeen, step: state.step, plMean: state.plMean, adamGStep: state.adamG.step, adamDStep: state.adamD.step },
    random: state.random,
    augment: state.augment,
    extra: contents.extra ?? {},
  };
  const shapeOf = TensorShapes(contents);
  const table: Record<string, unknown> = {
    __metadata__: { format: FormatName, formatVersion: String(CheckpointFormatVersion), header: JSON.stringify(header), sha256: DigestPlaceholder },
  };
  for (const e of entries) {
    table[`${e.group}/${e.name}`] = { dtype: SafetensorsDtype[e.dtype], shape: shapeOf(e.group, e.name, e.length), data_offsets: [e.offset, e.offset + e.length * BytesPer[e.dtype]] };
  }
  let json = JSON.stringify(table);
  json += " ".repeat((8 - (new TextEncoder().encode(json).length % 8)) % 8); // the reference writer's alignment
  const headerBytes = new TextEncoder().encode(json);
  const blobStart = 8 + headerBytes.length;
  const out = new Uint8Array(blobStart + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  for (const e of entries) {
    const { values } = e;
    const at = blobStart + e.offset;
    if (e.dtype === "float16") {
      for (let j = 0; j < values.length; j++) {
        const half = Float32ToFloat16Bits(values[j]);
        // A weight beyond fp16's range would come back as infinity: refuse rather than write a broken file.
        if ((half & 0x7c00) === 0x7c00 && Number.isFinite(values[j])) throw new Error(`checkpoint: ${e.group}/${e.name}[${j}] = ${values[j]} does not fit in float16 (compact form)`);
        view.setUint16(at + 2 * j, half, true);
      }
    } else if (e.dtype === "bfloat16") {
      const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
      for (let j = 0; j < values.length; j++) view.setUint16(at + 2 * j, Float32BitsToBfloat16Bits(bits[j]), true);
    } else for (let j = 0; j < values.length; j++) view.setFloat32(at + 4 * j, values[j], true);
  }
  const digest = createHash("sha256").update(out.subarray(8)).digest("hex");
  const field = new TextEncoder().encode(`"sha256":"${DigestPlaceholder}"`);
  const at = 8 + Buffer.from(headerBytes).indexOf(Buffer.from(field)) + field.length - 65;
  out.set(new TextEncoder().encode(digest), at);
  return out;
}

let float16Table: Float32Array | null = null;

/** float32 value of every float16 bit pattern (a compact checkpoint holds millions of them). */
function Float16Table(): Float32Array {
  if (!float16Table) {
    float16Table = new Float32Array(65536);
    for (let bits = 0; bits < 65536; bits++) float16Table[bits] = Float16BitsToFloat32(bits);
  }
  return float16Table;
}

/** True for gzip data (its two magic bytes). */
function IsGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * The packed form of a checkpoint, for committing it and continuing on another machine: the compact form
 * (fp16 weights, bfloat16 Adam moments) gzip-compressed (level 9), with `log` (the run's log.jsonl lines up to
 * the checkpoint) in `extra.log`, so a run started from it (`--resume-from`) continues the log.
 */
export function PackCheckpoint(contents: CheckpointContents, log?: string): Uint8Array {
  const extra = { ...(contents.extra ?? {}) };
  if (log !== undefined) extra.log = log;
  else delete extra.log;
  return gzipSync(SerializeCheckpoint({ ...contents, extra }, { compact: true }), { level: 9 });
}

/** The header (as JSON) and the tensors' places of a verified file, whichever layout it has. */
interface CheckpointLayout {
  readonly header: unknown;
  readonly entries: readonly TensorEntry[];
}

/** A safetensors checkpoint (version 3), verified by its digest. */
function ReadSafetensorsLayout(bytes: Uint8Array, path: string): CheckpointLayout {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = bytes.length >= 8 ? view.getBigUint64(0, true) : -1n;
  const looksLikeJson = bytes.length > 8 && bytes[8] === 0x7b; // "{"
  if (!looksLikeJson) throw new CheckpointError(path, "not an npc-faces checkpoint (neither safetensors nor NPCFCKPT)");
  if (length < 2n || length > BigInt(bytes.length - 8)) throw new CheckpointError(path, "corrupted or truncated (the header runs past the end of the file)");
  const headerEnd = 8 + Number(length);
  const text = new TextDecoder().decode(bytes.subarray(8, headerEnd));
  let table: Record<string, unknown>;
  try {
    table = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new CheckpointError(path, "corrupted (unreadable safetensors header)");
  }
  const metadata = table.__metadata__ as Record<string, unknown> | undefined;
  if (metadata?.format !== FormatName) throw new CheckpointError(path, "not an npc-faces checkpoint (a safetensors file without its metadata)");
  const digest = metadata.sha256;
  const field = `"sha256":"${typeof digest === "string" ? digest : ""}"`;
  if (typeof digest !== "string" || !/^[0-9a-f]{64}$/.test(digest) || !text.includes(field)) throw new CheckpointError(path, "corrupted (no SHA-256 in the header)");
  const zeroed = new TextEncoder().encode(text.replace(field, `"sha256":"${DigestPlaceholder}"`));
  const actual = createHash("sha256").update(zeroed).update(bytes.subarray(headerEnd)).digest("hex");
  if (actual !== digest) throw new CheckpointError(path, "corrupted or truncated (SHA-256 mismatch); use an older checkpoint or start a new run");
  const version = Number(metadata.formatVersion);
  if (version !== 3) throw new CheckpointError(path, `unsupported format version ${String(metadata.formatVersion)} (this trainer reads 1 to ${CheckpointFormatVersion})`);
  let header: unknown;
  try {
    header = JSON.parse(String(metadata.header));
  } catch {
    throw new CheckpointError(path, "unreadable header");
  }
  const types = Object.fromEntries(Object.entries(SafetensorsDtype).map(([k, v]) => [v, k as TensorType]));
  const entries: TensorEntry[] = [];
  for (const [key, value] of Object.entries(table)) {
    if (key === "__metadata__") continue;
    const parsed = SafetensorsEntrySchema.safeParse(value);
    const slash = key.indexOf("/");
    if (!parsed.success || slash < 0) throw new CheckpointError(path, `bad tensor entry "${key}"`);
    const dtype = types[parsed.data.dtype];
    if (!dtype) throw new CheckpointError(path, `tensor ${key} has an unsupported type "${parsed.data.dtype}"`);
    const [begin, end] = parsed.data.data_offsets;
    const count = parsed.data.shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * BytesPer[dtype] || headerEnd + end > bytes.length) throw new CheckpointError(path, `tensor ${key} lies outside the file`);
    entries.push({ group: key.slice(0, slash), name: key.slice(slash + 1), length: count, dtype, offset: headerEnd + begin });
  }
  return { header, entries };
}

/** A checkpoint of format version 1 or 2 ("NPCFCKPT"), verified by its trailing SHA-256. */
function ReadLegacyLayout(bytes: Uint8Array, path: string): CheckpointLayout {
  if (bytes.length < 44) throw new CheckpointError(path, "corrupted or truncated (shorter than any checkpoint)");
  const digest = createHash("sha256").update(bytes.subarray(0, bytes.length - 32)).digest();
  if (!Buffer.from(bytes.subarray(bytes.length - 32)).equals(digest)) {
    throw new CheckpointError(path, "corrupted or truncated (SHA-256 mismatch); use an older checkpoint or start a new run");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > bytes.length - 32) throw new CheckpointError(path, "corrupted (the header runs past the end of the file)");
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength)));
  } catch {
    throw new CheckpointError(path, "unreadable header");
  }
  const blobStart = 12 + headerLength;
  const blobLength = bytes.length - 32 - blobStart;
  const table = (header as { tensors?: unknown } | null)?.tensors;
  const entries: TensorEntry[] = [];
  for (const entry of Array.isArray(table) ? (table as TensorEntry[]) : []) {
    if (!Object.hasOwn(BytesPer, entry.dtype)) throw new CheckpointError(path, `tensor ${entry.group}/${entry.name} has an unknown type "${entry.dtype}"`);
    if (!(entry.offset >= 0) || entry.offset + entry.length * BytesPer[entry.dtype] > blobLength) throw new CheckpointError(path, `tensor ${entry.group}/${entry.name} lies outside the file`);
    entries.push({ ...entry, offset: blobStart + entry.offset });
  }
  return { header, entries };
}

/** Parses and verifies checkpoint bytes (plain, compact, or packed: gzip; any format version); `path` only names the file in messages. */
export function ParseCheckpoint(bytes: Uint8Array, path = "(bytes)"): CheckpointContents {
  const gzip = IsGzip(bytes);
  if (gzip) {
    try {
      bytes = gunzipSync(bytes);
    } catch (error) {
      throw new CheckpointError(path, `corrupted or truncated (gzip: ${(error as Error).message})`);
    }
  }
  const legacy = bytes.length >= 8 && new TextDecoder().decode(bytes.subarray(0, 8)) === LegacyMagic;
  const { header: json, entries } = legacy ? ReadLegacyLayout(bytes, path) : ReadSafetensorsLayout(bytes, path);
  if ((json as { format?: unknown } | null)?.format !== FormatName) throw new CheckpointError(path, "not an npc-faces checkpoint");
  const version = (json as { formatVersion?: unknown }).formatVersion;
  if (typeof version !== "number" || !(version >= 1 && version <= CheckpointFormatVersion)) throw new CheckpointError(path, `unsupported format version ${String(version)} (this trainer reads 1 to ${CheckpointFormatVersion})`);
  // A file whose digest matches can still have been written wrongly (or by hand): check the header's shape, so a
  // bad one is refused here with its field named, not as a TypeError deep in a resume.
  const parsedHeader = CheckpointHeaderSchema.safeParse(json);
  if (!parsedHeader.success) {
    const issue = parsedHeader.error.issues[0];
    throw new CheckpointError(path, `bad header (${issue.path.join(".") || "(header)"}: ${issue.message})`);
  }
  const header = parsedHeader.data;
  const parsedOptions = TrainingOptionsSchema.safeParse(header.options);
  if (!parsedOptions.success) throw new CheckpointError(path, `bad options: ${parsedOptions.error.issues[0]?.message}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const groups = new Map<string, Map<string, Float32Array>>();
  for (const e of entries) {
    const values = new Float32Array(e.length);
    if (e.dtype === "float16") {
      const table = Float16Table();
      for (let j = 0; j < e.length; j++) values[j] = table[view.getUint16(e.offset + 2 * j, true)];
    } else if (e.dtype === "bfloat16") {
      const bits = new Uint32Array(values.buffer);
      for (let j = 0; j < e.length; j++) bits[j] = view.getUint16(e.offset + 2 * j, true) << 16;
    } else for (let j = 0; j < e.length; j++) values[j] = view.getFloat32(e.offset + 4 * j, true);
    if (!groups.has(e.group)) groups.set(e.group, new Map());
    groups.get(e.group)!.set(e.name, values);
  }
  const group = (name: string) => groups.get(name) ?? new Map<string, Float32Array>();
  const adam = (name: string, step: number): AdamState => {
    const g = group(name);
    const count = g.size / 2;
    for (let i = 0; i < count; i++) {
      if (!g.has(`m${i}`) || !g.has(`v${i}`)) throw new CheckpointError(path, `the optimiser state ${name} lacks m${i} or v${i}`);
    }
    return { step, m: Array.from({ length: count }, (_, i) => g.get(`m${i}`)!), v: Array.from({ length: count }, (_, i) => g.get(`v${i}`)!) };
  };
  return {
    options: parsedOptions.data,
    data: header.data,
    extra: header.extra,
    stored: { formatVersion: header.formatVersion, gzip, bytes: bytes.length, types: [...new Set(entries.map((e) => e.dtype))] },
    state: {
      imagesSeen: header.counters.imagesSeen,
      step: header.counters.step,
      plMean: header.counters.plMean,
      random: header.random,
      augment: header.augment,
      generator: group("G"),
      generatorEma: group("G_ema"),
      discriminator: group("D"),
      adamG: adam("adamG", header.counters.adamGStep),
      adamD: adam("adamD", header.counters.adamDStep),
    },
  };
}

/** Writes `bytes` to `path` atomically: temporary file in the same folder, fsync, rename, fsync of the folder. */
export async function WriteFileAtomicAsync(path: string, bytes: Uint8Array): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
  const handle = await open(temp, "w");
  try {
    // Chunked writes: a kill mid-write leaves a partial temporary file, never a partial target.
    const chunk = 1 << 20;
    for (let at = 0; at < bytes.length; at += chunk) await handle.write(bytes, at, Math.min(chunk, bytes.length - at), at);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  await rename(temp, path);
  const dir = await open(dirname(path), "r").catch(() => null);
  if (dir) {
    await dir.sync().catch(() => undefined); // not every file system allows fsync on a folder
    await dir.close();
  }
}

/** Serialises and writes a checkpoint atomically. */
export async function WriteCheckpointAsync(path: string, contents: CheckpointContents, options: { compact?: boolean } = {}): Promise<void> {
  await WriteFileAtomicAsync(path, SerializeCheckpoint(contents, options));
}

/** Reads and verifies a checkpoint file (plain, compact or packed); throws {@link CheckpointError} with a clear message. */
export async function ReadCheckpointAsync(path: string): Promise<CheckpointContents> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CheckpointError(path, code === "ENOENT" ? "no such file" : `cannot read (${code ?? String(error)})`);
  }
  return ParseCheckpoint(bytes, path);
}
