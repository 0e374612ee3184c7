/**
 * Manifest baking: one PNG per NPC of a face manifest (runtime/src/faceManifest.ts), named `<id>.png`, with
 * provenance text chunks, plus the output manifest `faces.json` (bakedFacesManifest.ts). Parallel (a worker pool,
 * bakeWorkerPool.ts), incremental (bakeCache.ts), shardable (shard.ts), with optional atlases (atlasPacker.ts,
 * bakeAtlas.ts). Everything is checked before the output folder is touched. See docs/baking.md.
 */
import type { FaceEngine } from "@npc-faces/runtime/node";
import { readFile, readdir, unlink } from "node:fs/promises";
import { join, relative, resolve, sep, isAbsolute } from "node:path";
import {
  CheckManifestAgainstModel,
  IsNpcFacesError,
  ManifestNpcToFaceRequest,
  ParseFaceManifest,
  ReadModelFile,
  ValidateFaceRequest,
  type FaceManifest,
  type FaceRequest,
  type ModelMetadata,
} from "@npc-faces/runtime";
import { ToolLabel } from "../toolInfo.js";
import { EnsureFolderAsync } from "./atomicWrite.js";
import { BuildAtlasAsync, type AtlasBuildSummary } from "./bakeAtlas.js";
import { CacheKeyKeyword, CheckCachedFaceAsync, FaceCacheKey, NpcIdKeyword, RemoveStaleTempFilesAsync, Sha256Hex, WriteIfChangedAsync } from "./bakeCache.js";
import { BakedFacesFileName, BakedFacesFormatName, BakedFacesFormatVersion, CompareIds, SerializeBakedFaces, ShardManifestFileName, type BakedFace, type BakedFaces } from "./bakedFacesManifest.js";
import { MakeBakeProvenance, ProvenanceToPngText, type BakeParameters } from "./bakeProvenance.js";
import { BakeInputError, CheckOutputFolderAsync, OutputFolderError, PlanBake } from "./bakeSeeds.js";
import { BakeWorkerPool, DefaultWorkerCount, type BakeFaceJob } from "./bakeWorkerPool.js";
import { PlanAtlas, type AtlasSize } from "./atlasPacker.js";
import { ReadPngText } from "./pngProvenance.js";
import { IsInShard, type BakeShard } from "./shard.js";

/** What went wrong before anything was written; `usage` = bad input (exit 2), `failure` = unusable file or folder (exit 1). */
export class ManifestBakeError extends Error {
  override readonly name = "ManifestBakeError";
  readonly kind: "usage" | "failure";
  /** The input at fault. */
  readonly subject: "manifest" | "model" | "out" | "atlas" | "size" | "shard" | "engine" | "threads";

  constructor(kind: "usage" | "failure", subject: ManifestBakeError["subject"], message: string, options?: ErrorOptions) {
    super(message, options);
    this.kind = kind;
    this.subject = subject;
  }
}

/** Options of {@link PlanManifestBakeAsync} / {@link BakeManifestAsync}. */
export interface ManifestBakeOptions {
  /** Path of the face manifest (JSON). */
  readonly manifest: string;
  /** Path of the model (.onnx). */
  readonly model: string;
  /** Output folder (created if missing). */
  readonly outDir: string;
  /** Side of the written faces (default: the model's resolution; lanczos3 when different). */
  readonly size?: number;
  /** Bake only this slice (see shard.ts); writes `faces.shard-<i>-of-<n>.json` instead of `faces.json`. */
  readonly shard?: BakeShard;
  /** Also pack the faces into atlas pages of this size (not with `shard`: atlases are built when merging). */
  readonly atlas?: AtlasSize;
  /** Rebake every face even when the output already matches. */
  readonly force?: boolean;
  /** Worker threads (default: the number of cores; never more than there are batches to bake). */
  readonly workers?: number;
  /** The engine (default canonical: the bytes the game shows; native: faster, close, not exact). */
  readonly engine?: FaceEngine;
  /** onnxruntime-node threads per worker, native engine only (default 1 with several workers, else onnxruntime's default). */
  readonly threads?: number;
  /** Faces per session run (default 8). */
  readonly batchSize?: number;
  /** Tool label recorded in files (default `npc-faces <version>`). */
  readonly tool?: string;
}

/** One NPC of a checked plan. */
export interface PlannedFace {
  readonly id: string;
  readonly index: number;
  /** Absolute path of its PNG. */
  readonly file: string;
  readonly request: FaceRequest;
  readonly params: BakeParameters;
  readonly key: string;
}

/** A checked manifest bake. Pure data: computing it wrote nothing. */
export interface ManifestBakePlan {
  readonly options: ManifestBakeOptions;
  readonly outDir: string;
  readonly manifest: FaceManifest;
  readonly metadata: ModelMetadata;
  readonly modelBytes: Uint8Array;
  readonly modelSha256: string;
  readonly tool: string;
  readonly engine: FaceEngine;
  readonly size: number;
  /** The faces of this bake (the shard's slice), in id order. */
  readonly faces: readonly PlannedFace[];
  /** Warnings to show (e.g. the manifest was saved for another model). */
  readonly warnings: readonly string[];
  /** Name of the output manifest: `faces.json` or the shard's file. */
  readonly facesFileName: string;
}

/** The flag-free name of each per-NPC field, for messages. */
const NpcFieldOf: Partial<Record<string, string>> = { psi: "psi", noiseStrength: "noiseStrength", mixSeed: "mixSeed", mix: "mix", crossover: "mixCrossover", controls: "controls", seeds: "seed" };

/**
 * Reads and checks the manifest and the model, resolves every NPC's parameters and cache key, and checks the
 * output folder, the atlas size and the shard. Writes nothing.
 * @throws ManifestBakeError naming the file and, for manifest problems, every path (`npcs[3].seed: ...`)
 */
export async function PlanManifestBakeAsync(options: ManifestBakeOptions): Promise<ManifestBakePlan> {
  if (options.shard && options.atlas) {
    throw new ManifestBakeError("usage", "shard", "atlases cover all NPCs: bake the shards without an atlas, then build it when merging (npc-faces bake merge --atlas WxH)");
  }
  const manifestText = await ReadTextAsync(options.manifest, "manifest");
  let manifest: FaceManifest;
  try {
    manifest = ParseFaceManifest(manifestText, options.manifest);
  } catch (error) {
    if (IsNpcFacesError(error)) throw new ManifestBakeError("usage", "manifest", error.message, { cause: error });
    throw error;
  }
  let modelBytes: Uint8Array;
  try {
    modelBytes = new Uint8Array(await readFile(options.model));
  } catch (error) {
    throw new ManifestBakeError("failure", "model", `${options.model}: cannot read the model file (${Reason(error)})`, { cause: error });
  }
  let metadata: ModelMetadata;
  try {
    metadata = ReadModelFile(modelBytes, options.model).metadata;
  } catch (error) {
    if (IsNpcFacesError(error)) throw new ManifestBakeError("failure", "model", error.message, { cause: error });
    throw error;
  }
  const modelSha256 = Sha256Hex(modelBytes);
  const check = CheckManifestAgainstModel(manifest, metadata, modelSha256);
  const problems = [...check.errors];

  const outDir = resolve(options.outDir);
  const tool = options.tool ?? ToolLabel;
  const engine = options.engine ?? "canonical";
  if (engine !== "canonical" && engine !== "native") throw new ManifestBakeError("usage", "engine", `expected canonical or native, got ${JSON.stringify(engine)}`);
  if (engine === "canonical" && options.threads !== undefined && options.threads !== 1) {
    throw new ManifestBakeError("usage", "threads", "the canonical engine runs single-threaded (its bytes would otherwise depend on the thread count); use workers to bake in parallel, or the native engine");
  }
  const size = options.size ?? metadata.resolution;
  const faces: PlannedFace[] = [];
  // NPCs the model check already faulted would only repeat its message below.
  const flagged = new Set(check.errors.map((e) => Number(/^npcs\[(\d+)\]/.exec(e)?.[1] ?? -1)));
  const lowerIds = new Map<string, string>();
  manifest.npcs.forEach((npc, index) => {
    // Case-insensitive file systems (macOS, Windows) would make `Guard.png` and `guard.png` one file.
    const lower = npc.id.toLowerCase();
    const other = lowerIds.get(lower);
    if (other !== undefined) problems.push(`npcs[${index}].id: "${npc.id}" and "${other}" differ only in case (one file on case-insensitive file systems)`);
    lowerIds.set(lower, npc.id);
    const file = join(outDir, `${npc.id}.png`);
    // NpcIdPattern already forbids separators and leading dots; this guards the contract itself.
    const rel = relative(outDir, file);
    if (rel.startsWith("..") || isAbsolute(rel) || rel.includes(sep)) {
      problems.push(`npcs[${index}].id: "${npc.id}" would name a file outside the output folder`);
      return;
    }
    if (!IsInShard(npc.id, options.shard) || flagged.has(index)) return;
    try {
      const plan = PlanBake(metadata, {
        seeds: [npc.seed],
        outDir,
        ...(npc.psi !== undefined ? { psi: npc.psi } : {}),
        ...(npc.noiseStrength !== undefined ? { noiseStrength: npc.noiseStrength } : {}),
        ...(npc.mixSeed !== undefined ? { mixSeed: npc.mixSeed } : {}),
        ...(npc.mix !== undefined ? { mix: npc.mix } : {}),
        ...(npc.mixCrossover !== undefined ? { crossover: npc.mixCrossover } : {}),
        ...(npc.controls !== undefined ? { controls: npc.controls } : {}),
        size,
      });
      const request: FaceRequest = { ...plan.requests[0], ...(npc.labels !== undefined ? { labels: npc.labels } : {}) };
      ValidateFaceRequest(metadata, request, `npcs[${index}]`);
      const params = plan.params;
      const key = FaceCacheKey({ modelSha256, tool, engine, npcId: npc.id, seed: npc.seed, params, ...(npc.labels !== undefined ? { labels: npc.labels } : {}) });
      faces.push({ id: npc.id, index, file, request, params, key });
    } catch (error) {
      if (error instanceof BakeInputError) {
        if (error.field === "size") throw new ManifestBakeError("usage", "size", error.detail);
        problems.push(`npcs[${index}].${NpcFieldOf[error.field] ?? error.field}: ${error.detail}`);
      } else if (IsNpcFacesError(error)) problems.push(error.message);
      else throw error;
    }
  });
  if (problems.length > 0) {
    throw new ManifestBakeError("usage", "manifest", `${options.manifest}: ${problems.length} problem${problems.length === 1 ? "" : "s"} with model "${metadata.name}":\n  ${[...new Set(problems)].join("\n  ")}`);
  }
  faces.sort((a, b) => CompareIds(a.id, b.id));
  if (options.atlas) {
    try {
      PlanAtlas(options.atlas, size, faces.map((f) => f.id));
    } catch (error) {
      throw new ManifestBakeError("usage", "atlas", (error as Error).message, { cause: error });
    }
  }
  try {
    await CheckOutputFolderAsync(options.outDir);
  } catch (error) {
    if (error instanceof OutputFolderError) throw new ManifestBakeError("failure", "out", error.message, { cause: error });
    throw error;
  }
  return {
    options,
    outDir,
    manifest,
    metadata,
    modelBytes,
    modelSha256,
    tool,
    engine,
    size,
    faces,
    warnings: check.warnings,
    facesFileName: options.shard ? ShardManifestFileName(options.shard) : BakedFacesFileName,
  };
}

/** Progress of {@link BakeManifestAsync}. */
export interface ManifestBakeProgress {
  /** Faces finished (cached + baked so far). */
  readonly done: number;
  readonly total: number;
  readonly cached: number;
  readonly baked: number;
  /** Faces that need inference in this run. */
  readonly toBake: number;
}

/** Options of {@link BakeManifestAsync}. */
export interface ManifestBakeRunOptions {
  readonly onProgress?: (progress: ManifestBakeProgress) => void;
  /** Stops handing out batches; the batches in flight finish (their files are complete), then the bake rejects. */
  readonly signal?: AbortSignal;
}

/** What a manifest bake did. */
export interface ManifestBakeSummary {
  readonly outDir: string;
  /** Faces of this bake (the shard's slice). */
  readonly total: number;
  /** Faces generated by inference in this run. */
  readonly baked: number;
  /** Faces whose file already matched (no inference). */
  readonly cached: number;
  /** PNGs of NPCs no longer in the manifest (or not in this shard), deleted. */
  readonly removed: number;
  readonly workers: number;
  /** Bytes of the PNGs written by this run. */
  readonly bytes: number;
  readonly seconds: number;
  /** Path of the output manifest. */
  readonly facesFile: string;
  readonly document: BakedFaces;
  readonly atlas?: AtlasBuildSummary;
}

/**
 * Runs a plan: reuses faces whose file matches their key (unless `force`), bakes the others on the worker pool,
 * deletes PNGs of NPCs that are gone, then writes the output manifest (and atlas) atomically, and only when
 * their content changed.
 */
export async function BakeManifestAsync(plan: ManifestBakePlan, run: ManifestBakeRunOptions = {}): Promise<ManifestBakeSummary> {
  const started = performance.now();
  const { options, outDir } = plan;
  try {
    await EnsureFolderAsync(outDir);
  } catch (error) {
    throw new ManifestBakeError("failure", "out", (error as Error).message, { cause: error });
  }
  await RemoveStaleTempFilesAsync(outDir);

  const results = new Map<string, BakedFace>();
  const toBake: PlannedFace[] = [];
  for (const face of plan.faces) {
    const cached = options.force ? undefined : await CheckCachedFaceAsync(face.file, face.key);
    if (cached) results.set(face.id, { file: `${face.id}.png`, sha256: cached.sha256, width: cached.width, height: cached.height, key: face.key });
    else toBake.push(face);
  }
  const cached = results.size;
  const total = plan.faces.length;
  let baked = 0;
  let bytes = 0;
  const report = (): void => run.onProgress?.({ done: cached + baked, total, cached, baked, toBake: toBake.length });
  report();

  let workers = 0;
  if (toBake.length > 0) {
    const batchSize = options.batchSize ?? 8;
    const batches = Math.ceil(toBake.length / batchSize);
    workers = Math.max(1, Math.min(options.workers ?? DefaultWorkerCount(), batches));
    if (plan.size !== plan.metadata.resolution) await import("sharp"); // sharp must load in the main thread before workers use it
    const pool = await BakeWorkerPool.CreateAsync({
      modelBytes: plan.modelBytes,
      source: options.model,
      workers,
      batchSize,
      engine: plan.engine,
      // With one worker the caller's choice or onnxruntime's default; with several, 1 thread each unless told.
      ...(options.threads !== undefined ? { threads: options.threads } : {}),
    });
    try {
      const byId = new Map(toBake.map((f) => [f.id, f]));
      const jobs: BakeFaceJob[] = toBake.map((face) => {
        const params = face.request.labels ? { ...face.params, labels: face.request.labels } : face.params;
        const provenance = MakeBakeProvenance(plan.tool, plan.engine, plan.metadata, plan.modelSha256, face.request.seed, params);
        return {
          id: face.id,
          file: face.file,
          request: face.request,
          size: plan.size,
          text: { ...ProvenanceToPngText(provenance), [NpcIdKeyword]: face.id, [CacheKeyKeyword]: face.key },
        };
      });
      await pool.bakeAsync(
        jobs,
        (done) => {
          const face = byId.get(done.id)!;
          results.set(done.id, { file: `${done.id}.png`, sha256: done.sha256, width: done.width, height: done.height, key: face.key });
          baked++;
          bytes += done.bytes;
          report();
        },
        run.signal,
      );
    } finally {
      await pool.closeAsync();
    }
  }

  const removed = await RemoveOrphanFacesAsync(outDir, new Set(plan.faces.map((f) => `${f.id}.png`)));
  const faces: Record<string, BakedFace> = {};
  for (const face of plan.faces) faces[face.id] = results.get(face.id)!;
  const document: BakedFaces = {
    format: BakedFacesFormatName,
    formatVersion: BakedFacesFormatVersion,
    tool: plan.tool,
    model: { name: plan.metadata.name, sha256: plan.modelSha256 },
    size: plan.size,
    npcCount: plan.manifest.npcs.length,
    ...(options.shard ? { shard: options.shard } : {}),
    faces,
  };
  const facesFile = join(outDir, plan.facesFileName);
  await WriteIfChangedAsync(facesFile, new TextEncoder().encode(SerializeBakedFaces(document)));
  const atlas = options.atlas ? await BuildAtlasAsync(outDir, document, options.atlas) : undefined;
  return {
    outDir,
    total,
    baked,
    cached,
    removed,
    workers,
    bytes,
    seconds: (performance.now() - started) / 1000,
    facesFile,
    document,
    ...(atlas ? { atlas } : {}),
  };
}

/** Plans and runs a manifest bake (see {@link PlanManifestBakeAsync} and {@link BakeManifestAsync}). */
export async function BakeManifestFileAsync(options: ManifestBakeOptions, run: ManifestBakeRunOptions = {}): Promise<ManifestBakeSummary> {
  return BakeManifestAsync(await PlanManifestBakeAsync(options), run);
}

/** Deletes `<id>.png` files baked from a manifest (they carry an npc-id chunk) that are not in `keep`. */
async function RemoveOrphanFacesAsync(outDir: string, keep: ReadonlySet<string>): Promise<number> {
  let removed = 0;
  for (const name of await readdir(outDir)) {
    if (!name.endsWith(".png") || keep.has(name) || /^atlas-\d+\.png$/.test(name)) continue;
    const png = await readFile(join(outDir, name)).catch(() => undefined);
    if (!png) continue;
    let text: Record<string, string>;
    try {
      text = ReadPngText(new Uint8Array(png));
    } catch {
      continue; // not ours to judge
    }
    if (text[NpcIdKeyword] === undefined) continue;
    await unlink(join(outDir, name)).catch(() => undefined);
    removed++;
  }
  return removed;
}

async function ReadTextAsync(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    throw new ManifestBakeError((error as NodeJS.ErrnoException).code === "ENOENT" ? "usage" : "failure", "manifest", `${path}: cannot read the ${what} (${Reason(error)})`, { cause: error });
  }
}

function Reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : code === "EISDIR" ? "a directory" : (error as Error).message;
}
