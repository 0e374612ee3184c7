/**
 * The face manifest (contract, see docs/manifest.md): the level designer's locked NPC faces, saved by the seed
 * editor and read by the game (plugin) and the baker. Versioned; validation reports every problem with its
 * path (`npcs[3].seed: expected an integer in 0..4294967295`).
 */
import { z } from "zod";
import type { FaceRequest } from "./faceRequest.js";
import type { ModelMetadata } from "./modelMetadata.js";
import { NpcFacesError } from "./npcFacesError.js";
import { MaxSeed } from "./seeds/index.js";

/** Value of the manifest's `format` field. */
export const ManifestFormatName = "npc-faces-manifest";
/** The newest manifest format version this runtime reads. */
export const ManifestFormatVersion = 1;

// The refinements keep the one-line messages; `meta` gives the JSON Schema the same bounds (refinements have none).
const Seed = z
  .number({ error: `expected an integer in 0..${MaxSeed}` })
  .refine((v) => Number.isInteger(v) && v >= 0 && v <= MaxSeed, `expected an integer in 0..${MaxSeed}`)
  .meta({ type: "integer", minimum: 0, maximum: MaxSeed });
const Finite = z.number({ error: "expected a finite number" }).refine(Number.isFinite, "expected a finite number");

/**
 * NPC ids become file names (baking) and keys (game code): letters, digits, `_`, `-`, `.`, not starting with
 * `.`, at most 128 characters, so no id can name a path outside an output folder.
 */
export const NpcIdPattern = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;

/** One locked NPC face: the parameters of a {@link FaceRequest} plus identity. */
export const ManifestNpcSchema = z.strictObject({
  id: z.string().regex(NpcIdPattern, "expected an id of letters, digits, '_', '-', '.' (not starting with '.'), at most 128 characters"),
  name: z.string().max(200),
  seed: Seed,
  mixSeed: Seed.optional(),
  mix: Finite.refine((v) => v >= 0 && v <= 1, "expected a number in 0..1")
    .meta({ minimum: 0, maximum: 1 })
    .optional(),
  mixCrossover: z.number().int("expected an integer").nonnegative().optional(),
  psi: Finite.optional(),
  noiseStrength: Finite.optional(),
  controls: z.record(z.string(), Finite).optional(),
  labels: z.record(z.string(), z.string()).optional(),
  /** Free text for the designer (ignored by generation). */
  notes: z.string().optional(),
});
export type ManifestNpc = z.infer<typeof ManifestNpcSchema>;

/** The manifest document (format version 1). */
export const FaceManifestSchema = z
  .strictObject({
    /** Where an editor finds the JSON Schema (e.g. `./node_modules/@npc-faces/runtime/schema/face-manifest.schema.json`); ignored by the runtime. */
    $schema: z.string().optional(),
    format: z.literal(ManifestFormatName),
    formatVersion: z.literal(ManifestFormatVersion),
    /** The model the faces were chosen with: its SHA-256 is part of "same seed, same face". */
    model: z.strictObject({ sha256: z.string().regex(/^[0-9a-f]{64}$/, "expected a lowercase SHA-256 hex string"), name: z.string().optional() }),
    npcs: z.array(ManifestNpcSchema),
  })
  .superRefine((manifest, ctx) => {
    const seen = new Map<string, number>();
    manifest.npcs.forEach((npc, i) => {
      const first = seen.get(npc.id);
      if (first !== undefined) ctx.addIssue({ code: "custom", path: ["npcs", i, "id"], message: `duplicate id "${npc.id}" (also npcs[${first}])` });
      else seen.set(npc.id, i);
    });
  });
export type FaceManifest = z.infer<typeof FaceManifestSchema>;

/** File name of the manifest's JSON Schema, published in the package's `schema/` folder. */
export const FaceManifestJsonSchemaFile = "face-manifest.schema.json";

/**
 * The manifest's JSON Schema (draft 2020-12), for editors and other languages; generated from
 * {@link FaceManifestSchema} with zod's `toJSONSchema`, so it cannot drift (a test compares it with the published
 * file). Not expressed: duplicate ids (the validator reports them).
 */
export function FaceManifestJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(FaceManifestSchema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  return {
    ...schema,
    title: "npc-faces face manifest",
    description: `The level designer's locked NPC faces (format "${ManifestFormatName}", version ${ManifestFormatVersion}); see docs/manifest.md. NPC ids must be unique.`,
  };
}

/** `npcs[3].seed` from a zod path. */
function FormatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) out += typeof part === "number" ? `[${part}]` : out === "" ? String(part) : `.${String(part)}`;
  return out === "" ? "(manifest)" : out;
}

/** Every problem of a candidate manifest as `path: message` lines (empty when valid). */
export function ManifestProblems(value: unknown): string[] {
  if (typeof value === "object" && value !== null && "formatVersion" in value) {
    const version = (value as { formatVersion: unknown }).formatVersion;
    if (typeof version === "number" && version > ManifestFormatVersion) {
      return [`formatVersion: ${version} is newer than this version of npc-faces reads (${ManifestFormatVersion}); upgrade npc-faces`];
    }
  }
  const result = FaceManifestSchema.safeParse(value);
  return result.success ? [] : result.error.issues.map((issue) => `${FormatPath(issue.path)}: ${issue.message}`);
}

/**
 * Parses and validates a manifest (JSON text or an already parsed value).
 * @param source file name or URL, for the message
 * @throws NpcFacesError BAD_MANIFEST listing every problem, one per line after the first
 */
export function ParseFaceManifest(input: string | unknown, source = "manifest"): FaceManifest {
  let value: unknown = input;
  if (typeof input === "string") {
    try {
      value = JSON.parse(input);
    } catch (error) {
      throw new NpcFacesError("BAD_MANIFEST", `${source}: not valid JSON (${(error as Error).message})`);
    }
  }
  const problems = ManifestProblems(value);
  if (problems.length > 0) {
    throw new NpcFacesError("BAD_MANIFEST", `${source}: ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n  ${problems.join("\n  ")}`);
  }
  return FaceManifestSchema.parse(value);
}

/** The generation parameters of a manifest entry. */
export function ManifestNpcToFaceRequest(npc: ManifestNpc): FaceRequest {
  const { id: _id, name: _name, notes: _notes, ...request } = npc;
  return request;
}

/** What a manifest means for one model: problems that stop generation, and warnings. */
export interface ManifestModelCheck {
  /** e.g. `npcs[2].controls.smile: unknown control (known: direction_0, ...)`: generation would fail. */
  readonly errors: string[];
  /** e.g. the manifest was saved for another model file: faces will differ from the ones chosen. */
  readonly warnings: string[];
}

/**
 * Checks a manifest against the model it is used with. A different model hash is a warning (the same seeds
 * give other faces), unknown controls or labels are errors.
 */
export function CheckManifestAgainstModel(manifest: FaceManifest, metadata: ModelMetadata, modelHash: string): ManifestModelCheck {
  const errors: string[] = [];
  const warnings: string[] = [];
  if (manifest.model.sha256 !== modelHash) {
    warnings.push(`model.sha256: the manifest was saved for model ${manifest.model.sha256.slice(0, 12)}… ("${manifest.model.name ?? "unnamed"}"), this is ${modelHash.slice(0, 12)}… ("${metadata.name}"): the same seeds give different faces`);
  }
  const controls = new Set(metadata.controls.map((c) => c.name));
  const labels = new Map(metadata.labels.map((l) => [l.name, new Set(l.values)]));
  manifest.npcs.forEach((npc, i) => {
    for (const name of Object.keys(npc.controls ?? {})) {
      if (!controls.has(name)) errors.push(`npcs[${i}].controls.${name}: unknown control (known: ${[...controls].join(", ") || "none"})`);
    }
    for (const [name, value] of Object.entries(npc.labels ?? {})) {
      const values = labels.get(name);
      if (!values) errors.push(`npcs[${i}].labels.${name}: unknown label attribute`);
      else if (!values.has(value)) errors.push(`npcs[${i}].labels.${name}: unknown value "${value}" (known: ${[...values].join(", ")})`);
    }
    if (npc.mixCrossover !== undefined && npc.mixCrossover > metadata.numWs) errors.push(`npcs[${i}].mixCrossover: expected an integer in 0..${metadata.numWs}`);
  });
  return { errors, warnings };
}
