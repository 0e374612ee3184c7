/**
 * Training checkpoints: one file holding everything `--resume` needs to continue bit-identically.
 *
 * Layout: "NPCFCKPT" (8 bytes) | header length (uint32 LE) | header (UTF-8 JSON) | tensor blob | SHA-256 (32 bytes)
 * of everything before it. The header lists options, counters, RNG counters, ADA state, and every tensor
 * (group, name, shape, dtype, byte offset into the blob). Tensors: G, G_ema and D stored weights, Adam step
 * and moments of G and D; fp32, or fp16 in the compact form (for committing a model's checkpoint: it can be
 * exported, and resumed with slightly rounded values).
 * Writes are atomic: a temporary file in the same folder, fsync, rename over the target, fsync of the folder,
 * so a crash (even SIGKILL) mid-write leaves the previous checkpoint intact.
 */
import { createHash } from "node:crypto";
import { open, readFile, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { Float16BitsToFloat32, Float32ToFloat16Bits } from "../export/onnxGraphBuilder.js";
import type { AdamState } from "./adam.js";
import type { TrainingStateSnapshot } from "./trainingLoop.js";
import { TrainingOptionsSchema, type TrainingOptions } from "./trainingOptions.js";

const Magic = "NPCFCKPT";
/** Layout version of the header. */
export const CheckpointFormatVersion = 1;

/** What a checkpoint file holds. */
export interface CheckpointContents {
  readonly options: TrainingOptions;
  /** Data-set identity and label columns the run was trained on. */
  readonly data: { readonly id: string | null; readonly resolution: number; readonly labelNames: readonly string[] };
  readonly state: TrainingStateSnapshot;
  /** Free-form extras (e.g. tick counters, timing) kept verbatim. */
  readonly extra?: Record<string, unknown>;
}

interface TensorEntry {
  group: string;
  name: string;
  length: number;
  dtype: "float32" | "float16";
  offset: number;
}

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

/** Serialises a checkpoint to bytes (see the file comment for the layout). */
export function SerializeCheckpoint(contents: CheckpointContents, options: { compact?: boolean } = {}): Uint8Array {
  const dtype = options.compact ? "float16" : "float32";
  const bytesPer = options.compact ? 2 : 4;
  const entries: TensorEntry[] = [];
  const arrays: Float32Array[] = [];
  let offset = 0;
  for (const [group, tensors] of Groups(contents.state)) {
    for (const [name, values] of tensors) {
      entries.push({ group, name, length: values.length, dtype, offset });
      arrays.push(values);
      offset += values.length * bytesPer;
    }
  }
  const { state } = contents;
  const header = {
    format: "npc-faces-checkpoint",
    formatVersion: CheckpointFormatVersion,
    options: contents.options,
    data: contents.data,
    counters: { imagesSeen: state.imagesSeen, step: state.step, plMean: state.plMean, adamGStep: state.adamG.step, adamDStep: state.adamD.step },
    random: state.random,
    augment: state.augment,
    extra: contents.extra ?? {},
    tensors: entries,
  };
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const total = 8 + 4 + headerBytes.length + offset + 32;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(Magic), 0);
  view.setUint32(8, headerBytes.length, true);
  out.set(headerBytes, 12);
  const blobStart = 12 + headerBytes.length;
  entries.forEach((e, i) => {
    const values = arrays[i];
    const at = blobStart + e.offset;
    if (options.compact) for (let j = 0; j < values.length; j++) view.setUint16(at + 2 * j, Float32ToFloat16Bits(values[j]), true);
    else for (let j = 0; j < values.length; j++) view.setFloat32(at + 4 * j, values[j], true);
  });
  out.set(createHash("sha256").update(out.subarray(0, total - 32)).digest(), total - 32);
  return out;
}

/** Parses and verifies checkpoint bytes; `path` only names the file in messages. */
export function ParseCheckpoint(bytes: Uint8Array, path = "(bytes)"): CheckpointContents {
  if (bytes.length < 44 || new TextDecoder().decode(bytes.subarray(0, 8)) !== Magic) throw new CheckpointError(path, "not an npc-faces checkpoint (bad magic)");
  const digest = createHash("sha256").update(bytes.subarray(0, bytes.length - 32)).digest();
  if (!Buffer.from(bytes.subarray(bytes.length - 32)).equals(digest)) {
    throw new CheckpointError(path, "corrupted or truncated (SHA-256 mismatch); use an older checkpoint or start a new run");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(8, true);
  let header: {
    format: string; formatVersion: number; options: unknown; data: CheckpointContents["data"];
    counters: { imagesSeen: number; step: number; plMean: number; adamGStep: number; adamDStep: number };
    random: Record<string, number>; augment: unknown; extra: Record<string, unknown>; tensors: TensorEntry[];
  };
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength)));
  } catch {
    throw new CheckpointError(path, "unreadable header");
  }
  if (header.format !== "npc-faces-checkpoint") throw new CheckpointError(path, "not an npc-faces checkpoint");
  if (header.formatVersion !== CheckpointFormatVersion) throw new CheckpointError(path, `unsupported format version ${header.formatVersion} (this trainer reads ${CheckpointFormatVersion})`);
  const parsedOptions = TrainingOptionsSchema.safeParse(header.options);
  if (!parsedOptions.success) throw new CheckpointError(path, `bad options: ${parsedOptions.error.issues[0]?.message}`);
  const blobStart = 12 + headerLength;
  const groups = new Map<string, Map<string, Float32Array>>();
  for (const e of header.tensors) {
    const at = blobStart + e.offset;
    const values = new Float32Array(e.length);
    if (e.dtype === "float16") for (let j = 0; j < e.length; j++) values[j] = Float16BitsToFloat32(view.getUint16(at + 2 * j, true));
    else for (let j = 0; j < e.length; j++) values[j] = view.getFloat32(at + 4 * j, true);
    if (!groups.has(e.group)) groups.set(e.group, new Map());
    groups.get(e.group)!.set(e.name, values);
  }
  const group = (name: string) => groups.get(name) ?? new Map<string, Float32Array>();
  const adam = (name: string, step: number): AdamState => {
    const g = group(name);
    const count = g.size / 2;
    return { step, m: Array.from({ length: count }, (_, i) => g.get(`m${i}`)!), v: Array.from({ length: count }, (_, i) => g.get(`v${i}`)!) };
  };
  return {
    options: parsedOptions.data,
    data: header.data,
    extra: header.extra,
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

/** Reads and verifies a checkpoint; throws {@link CheckpointError} with a clear message. */
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
