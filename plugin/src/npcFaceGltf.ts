/**
 * The `NPC_faces` glTF material extension: its schema, its validation, and its mapping to and from
 * {@link NpcFaceMaterialPlugin}. Pure: imports nothing of `@babylonjs/loaders` or `@babylonjs/serializers` (the loader
 * extension is `@npc-faces/babylon/gltf`, the exporter extension `@npc-faces/babylon/gltfExport`). docs/gltf.md.
 */
import type { NpcFaceRect } from "./npcFaceCompositionPluginBase.js";
import type { NpcFaceMaterialPlugin } from "./npcFaceMaterialPlugin.pure.js";

/** The extension's name (in a material's `extensions`, and in the file's `extensionsUsed`). */
export const NpcFacesGltfExtensionName = "NPC_faces";

/** A required field that is absent: reported as "got nothing". */
const Missing = Symbol("missing");

/** The largest seed (seeds are integers in 0..4294967295). */
const MaxSeed = 0xffffffff;

/**
 * The `NPC_faces` object of a glTF material. Only `seed` is required; absent fields take the model's (or the
 * plugin's) defaults. The names are the plugin's properties; `controls` and `labels` are those of a `FaceRequest` and a
 * face manifest entry.
 */
export interface NpcFacesGltfMaterialExtension {
  /** The face's identity: an integer in 0..4294967295. */
  seed: number;
  /** A second face to breed with (style mixing); used when `mix` > 0. */
  mixSeed?: number;
  /** How much of the mix face the mixed layers take, 0..1 (default 0: no mixing). */
  mix?: number;
  /** First style layer that takes the mix face, an integer >= 0 (at most the model's number of style layers). */
  mixCrossover?: number;
  /** Truncation (absent: the model's default). */
  psi?: number;
  /** Noise multiplier (absent: the model's default). */
  noiseStrength?: number;
  /** Named controls of the model: name -> amount. */
  controls?: Record<string, number>;
  /** Conditional models: attribute -> value. */
  labels?: Record<string, string>;
  /** false: the material carries the face's parameters but does not show it (default true). */
  isEnabled?: boolean;
  /**
   * Flips the face vertically relative to how a glTF texture is mapped. false (default): the face is placed like any
   * glTF texture of the material, UV (0, 0) = the top left corner of the face image.
   */
  flipV?: boolean;
  /** UV set: 0 = TEXCOORD_0 (default), 1 = TEXCOORD_1. */
  coordinatesIndex?: 0 | 1;
  /** UV transform `uv * scale + offset`, like KHR_texture_transform without rotation (defaults 1, 1, 0, 0). */
  uScale?: number;
  vScale?: number;
  uOffset?: number;
  vOffset?: number;
  /** The rectangle of UV space (after the transform) that receives the face, e.g. a head texture's face region; absent or null: all of it. */
  faceRect?: NpcFaceRect | null;
  /** The mask inside `faceRect`: "ellipse" (default) or "rectangle". */
  maskShape?: "ellipse" | "rectangle";
  /** Soft edge of the mask, a fraction of the rectangle >= 0 (default 0.1). */
  maskFeather?: number;
  /**
   * The part of the face image the mask fits, in glTF's image convention (x, y from the image's top left, 0..1);
   * absent or null: the whole image.
   */
  maskRect?: NpcFaceRect | null;
  /** true: around the face, the base colour is multiplied by the face's skin tone (default false). */
  skinFromFace?: boolean;
  /** How much the face covers the material's own base colour, 0..1 (default 1). */
  faceOpacity?: number;
  /** glTF's own: allowed on every glTF property, ignored. */
  extensions?: Record<string, unknown>;
  /** glTF's own: allowed on every glTF property, ignored. */
  extras?: unknown;
}

const KnownFields = [
  "seed",
  "mixSeed",
  "mix",
  "mixCrossover",
  "psi",
  "noiseStrength",
  "controls",
  "labels",
  "isEnabled",
  "flipV",
  "coordinatesIndex",
  "uScale",
  "vScale",
  "uOffset",
  "vOffset",
  "faceRect",
  "maskShape",
  "maskFeather",
  "maskRect",
  "skinFromFace",
  "faceOpacity",
  "extensions",
  "extras",
] as const;

/** Thrown for an `NPC_faces` object that does not follow the schema; the message names the material and each bad field. */
export class NpcFacesGltfError extends Error {
  /** One line per problem: `field: what was expected, got what`. */
  readonly problems: readonly string[];
  constructor(where: string, problems: readonly string[]) {
    super(`${NpcFacesGltfExtensionName}: ${where}: ${problems.length === 1 ? problems[0] : `${problems.length} problems: ${problems.join("; ")}`}`);
    this.name = "NpcFacesGltfError";
    this.problems = problems;
  }
}

/**
 * Checks an `NPC_faces` object. Only what the file alone can tell is checked here (types, ranges); what depends on the
 * model (control names, label values, the mix crossover's upper bound) is checked when the face is generated and
 * reported like any other bad parameter (`BAD_REQUEST` naming the material, the fallback texture meanwhile).
 * @param value the parsed JSON
 * @param where the material, for messages, e.g. `material "guard" (/materials/0)`
 * @returns the same object, typed
 * @throws NpcFacesGltfError naming `where` and every bad field
 */
export function ParseNpcFacesGltfExtension(value: unknown, where: string): NpcFacesGltfMaterialExtension {
  const problems: string[] = [];
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new NpcFacesGltfError(where, [`expected an object like { "seed": 42 }, got ${Describe(value)}`]);
  }
  const source = value as Record<string, unknown>;
  const seed = (key: string, required: boolean): void => {
    const v = source[key];
    if (v === undefined && !required) return;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > MaxSeed) problems.push(`${key}: expected an integer in 0..${MaxSeed}, got ${Describe(v)}`);
  };
  /** A finite number, optionally in a range (`expected` says which). */
  const number = (path: string, value: unknown, inRange?: (v: number) => boolean, expected?: string): void => {
    if (value === undefined) return;
    if (typeof value !== "number" || !Number.isFinite(value)) problems.push(`${path}: expected a finite number${expected ? ` ${expected}` : ""}, got ${Describe(value)}`);
    else if (inRange && !inRange(value)) problems.push(`${path}: expected a number ${expected}, got ${value}`);
  };
  const boolean = (key: string): void => {
    if (source[key] !== undefined && typeof source[key] !== "boolean") problems.push(`${key}: expected true or false, got ${Describe(source[key])}`);
  };
  const record = (key: string, check: (name: string, v: unknown) => void, what: string): void => {
    const v = source[key];
    if (v === undefined) return;
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      problems.push(`${key}: expected an object of ${what}, got ${Describe(v)}`);
      return;
    }
    for (const [name, entry] of Object.entries(v)) check(name, entry);
  };

  seed("seed", true);
  seed("mixSeed", false);
  number("mix", source.mix, (v) => v >= 0 && v <= 1, "in 0..1");
  if (source.mixCrossover !== undefined && (typeof source.mixCrossover !== "number" || !Number.isInteger(source.mixCrossover) || source.mixCrossover < 0)) {
    problems.push(`mixCrossover: expected an integer >= 0, got ${Describe(source.mixCrossover)}`);
  }
  number("psi", source.psi);
  number("noiseStrength", source.noiseStrength);
  record("controls", (name, v) => number(`controls.${name}`, v === undefined ? Missing : v), "control name -> amount");
  record("labels", (name, v) => (typeof v === "string" ? undefined : problems.push(`labels.${name}: expected a string, got ${Describe(v)}`)), "attribute -> value");
  boolean("isEnabled");
  boolean("flipV");
  if (source.coordinatesIndex !== undefined && source.coordinatesIndex !== 0 && source.coordinatesIndex !== 1) {
    problems.push(`coordinatesIndex: expected 0 (TEXCOORD_0) or 1 (TEXCOORD_1), got ${Describe(source.coordinatesIndex)}`);
  }
  for (const key of ["uScale", "vScale", "uOffset", "vOffset"]) number(key, source[key]);
  const rectangle = (name: string): void => {
    const rect = source[name];
    if (rect === undefined || rect === null) return;
    if (typeof rect !== "object" || Array.isArray(rect)) problems.push(`${name}: expected { "x", "y", "width", "height" } or null, got ${Describe(rect)}`);
    else {
      const r = rect as Record<string, unknown>;
      for (const key of Object.keys(r)) if (!["x", "y", "width", "height"].includes(key)) problems.push(`${name}.${key}: unknown field (known: x, y, width, height)`);
      const field = (key: string): unknown => (r[key] === undefined ? Missing : r[key]);
      number(`${name}.x`, field("x"));
      number(`${name}.y`, field("y"));
      number(`${name}.width`, field("width"), (v) => v > 0, "> 0");
      number(`${name}.height`, field("height"), (v) => v > 0, "> 0");
    }
  };
  rectangle("faceRect");
  rectangle("maskRect");
  boolean("skinFromFace");
  if (source.maskShape !== undefined && source.maskShape !== "ellipse" && source.maskShape !== "rectangle") {
    problems.push(`maskShape: expected "ellipse" or "rectangle", got ${Describe(source.maskShape)}`);
  }
  number("maskFeather", source.maskFeather, (v) => v >= 0, ">= 0");
  number("faceOpacity", source.faceOpacity, (v) => v >= 0 && v <= 1, "in 0..1");
  if (source.extensions !== undefined && (typeof source.extensions !== "object" || source.extensions === null || Array.isArray(source.extensions))) {
    problems.push(`extensions: expected an object, got ${Describe(source.extensions)}`);
  }
  // A misspelt field must not silently become the default.
  for (const key of Object.keys(source)) {
    if (!(KnownFields as readonly string[]).includes(key)) problems.push(`${key}: unknown field (known: ${KnownFields.join(", ")})`);
  }
  if (problems.length > 0) throw new NpcFacesGltfError(where, problems);
  return source as unknown as NpcFacesGltfMaterialExtension;
}

/**
 * Sets a (new) plugin's parameters from a checked `NPC_faces` object. The glTF convention (UV (0, 0) = the top of the
 * image) is the opposite of Babylon's, so `flipV: false` in the file is `plugin.flipV = true`.
 */
export function ApplyNpcFacesGltfExtension(plugin: NpcFaceMaterialPlugin, extension: NpcFacesGltfMaterialExtension): void {
  plugin.seed = extension.seed;
  if (extension.mixSeed !== undefined) plugin.mixSeed = extension.mixSeed;
  if (extension.mix !== undefined) plugin.mix = extension.mix;
  if (extension.mixCrossover !== undefined) plugin.mixCrossover = extension.mixCrossover;
  if (extension.psi !== undefined) plugin.psi = extension.psi;
  if (extension.noiseStrength !== undefined) plugin.noiseStrength = extension.noiseStrength;
  for (const [name, value] of Object.entries(extension.controls ?? {})) plugin.setControl(name, value);
  for (const [name, value] of Object.entries(extension.labels ?? {})) plugin.setLabel(name, value);
  plugin.flipV = !(extension.flipV ?? false);
  if (extension.coordinatesIndex !== undefined) plugin.coordinatesIndex = extension.coordinatesIndex;
  for (const key of ["uScale", "vScale", "uOffset", "vOffset", "maskFeather", "faceOpacity"] as const) {
    if (extension[key] !== undefined) plugin[key] = extension[key];
  }
  if (extension.faceRect !== undefined) plugin.faceRect = extension.faceRect;
  if (extension.maskShape !== undefined) plugin.maskShape = extension.maskShape;
  if (extension.maskRect !== undefined) plugin.maskRect = FlipImageRect(extension.maskRect);
  if (extension.skinFromFace !== undefined) plugin.skinFromFace = extension.skinFromFace;
  if (extension.isEnabled !== undefined) plugin.isEnabled = extension.isEnabled;
}

/**
 * The `NPC_faces` object that describes a plugin (what the exporter writes): `seed` always, the rest only where it
 * differs from the default, so that a file stays short and a model's defaults stay the model's.
 */
export function NpcFacesGltfExtensionOf(plugin: NpcFaceMaterialPlugin): NpcFacesGltfMaterialExtension {
  // serialize() knows which of psi / noise strength are set (absent = the model's default).
  const saved = plugin.serialize() as Record<string, unknown>;
  const extension: NpcFacesGltfMaterialExtension = { seed: plugin.seed };
  if (plugin.mix !== 0 || plugin.mixSeed !== 0 || plugin.mixCrossover !== 0) {
    extension.mixSeed = plugin.mixSeed;
    extension.mix = plugin.mix;
    extension.mixCrossover = plugin.mixCrossover;
  }
  if (typeof saved.psi === "number") extension.psi = saved.psi;
  if (typeof saved.noiseStrength === "number") extension.noiseStrength = saved.noiseStrength;
  const controls = plugin.controls;
  if (Object.keys(controls).length > 0) extension.controls = { ...controls };
  if (saved.labels && typeof saved.labels === "object" && Object.keys(saved.labels).length > 0) extension.labels = { ...(saved.labels as Record<string, string>) };
  if (!plugin.isEnabled) extension.isEnabled = false;
  if (!plugin.flipV) extension.flipV = true;
  if (plugin.coordinatesIndex !== 0) extension.coordinatesIndex = 1;
  if (plugin.uScale !== 1) extension.uScale = plugin.uScale;
  if (plugin.vScale !== 1) extension.vScale = plugin.vScale;
  if (plugin.uOffset !== 0) extension.uOffset = plugin.uOffset;
  if (plugin.vOffset !== 0) extension.vOffset = plugin.vOffset;
  if (plugin.faceRect) {
    const { x, y, width, height } = plugin.faceRect;
    extension.faceRect = { x, y, width, height };
    if (plugin.maskShape !== "ellipse") extension.maskShape = plugin.maskShape;
    if (plugin.maskFeather !== 0.1) extension.maskFeather = plugin.maskFeather;
    if (plugin.maskRect) extension.maskRect = FlipImageRect(plugin.maskRect);
  }
  if (plugin.skinFromFace) extension.skinFromFace = true;
  if (plugin.faceOpacity !== 1) extension.faceOpacity = plugin.faceOpacity;
  return extension;
}

/**
 * A rectangle of the face image between glTF's convention (y from the top) and the plugin's (v = 1 at the top): the
 * same mapping both ways.
 */
function FlipImageRect(rect: NpcFaceRect | null): NpcFaceRect | null {
  return rect && { x: rect.x, y: 1 - rect.y - rect.height, width: rect.width, height: rect.height };
}

function Describe(value: unknown): string {
  if (value === Missing || value === undefined) return "nothing";
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  if (typeof value === "object") return "an object";
  return String(value);
}
