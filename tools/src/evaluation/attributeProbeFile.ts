/**
 * Fitted attribute probes kept on disk (`npc-faces metrics --probes FILE`). Fitting the probes is most of the
 * coverage's time (4,000 images × 3,072 pixel features: ~2 min on 2 cores) and depends only on the data set and
 * the probe settings, so choosing among a run's snapshots fits them once. The file records what the probes were
 * fitted on (the {@link ProbeKey}); a file fitted on anything else is refitted and replaced, and a file that is
 * not a probe file at all is refused rather than overwritten. Weights are stored as little-endian Float64, so a
 * reused probe classifies exactly as the freshly fitted one did.
 */
import { readFile, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { AttributeClassifier } from "./attributeClassifier.js";
import { WriteFileAtomicAsync } from "../bake/atomicWrite.js";

/** Everything the fitted probes depend on. */
export interface ProbeKey {
  /** The data set's content hash (its manifest's `contentHash`). */
  readonly dataset: string;
  /** Training images fitted on (the split's first ones). */
  readonly probeImages: number;
  /** Side of the pixel features. */
  readonly featureRes: number;
  readonly relativeLambdas: readonly number[];
  /** Each attribute's name and classes, in order. */
  readonly attributes: readonly { readonly name: string; readonly classes: readonly string[] }[];
}

const Format = "npc-faces-attribute-probes";
const Version = 1;

interface ProbeFileJson {
  format: typeof Format;
  version: typeof Version;
  key: ProbeKey;
  /** Per attribute, per class: [lambda, bias, base64 of the Float64 weights]. */
  models: [number, number, string][][];
}

/** What {@link ReadProbeFileAsync} found. */
export type ProbeFileRead = { readonly found: "none" } | { readonly found: "other"; readonly key: ProbeKey } | { readonly found: "match"; readonly classifiers: AttributeClassifier[] };

function SameKey(a: ProbeKey, b: ProbeKey): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function EncodeWeights(weights: Float64Array): string {
  const bytes = Buffer.alloc(weights.length * 8);
  weights.forEach((w, i) => bytes.writeDoubleLE(w, i * 8));
  return bytes.toString("base64");
}

function DecodeWeights(text: string, length: number, where: string): Float64Array {
  const bytes = Buffer.from(text, "base64");
  if (bytes.length !== length * 8) throw new Error(`${where}: ${bytes.length} weight bytes, expected ${length * 8}`);
  return Float64Array.from({ length }, (_, i) => bytes.readDoubleLE(i * 8));
}

/** The file's JSON when it is a probe file of this version; null when it does not exist. */
async function ParseProbeFileAsync(path: string): Promise<ProbeFileJson | null> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new Error(`--probes ${path}: cannot read it (${(error as Error).message})`);
  }
  let json: ProbeFileJson;
  try {
    json = JSON.parse(text) as ProbeFileJson;
  } catch {
    return RefuseProbeFile(path, "not JSON");
  }
  if (json?.format !== Format) return RefuseProbeFile(path, `its "format" is not "${Format}"`);
  if (json.version !== Version) return RefuseProbeFile(path, `version ${String(json.version)}, this npc-faces reads ${Version}`);
  return json;
}

function RefuseProbeFile(path: string, why: string): never {
  throw new Error(`--probes ${path}: not a probe file written by npc-faces metrics (${why}); give a new path, or remove the file`);
}

/**
 * Checks, before any slow work, that `path` can become a probe file: its folder exists, and the file is either
 * absent or a probe file.
 * @throws Error naming the path and what is wrong
 */
export async function CheckProbeFilePathAsync(path: string): Promise<void> {
  const folder = dirname(resolve(path));
  const info = await stat(folder).catch(() => null);
  if (!info?.isDirectory()) throw new Error(`--probes ${path}: the folder ${folder} does not exist`);
  await ParseProbeFileAsync(path);
}

/**
 * Reads a probe file: "none" when it does not exist, "other" when it holds probes fitted on another key,
 * "match" with the classifiers otherwise.
 * @throws Error naming the file when it exists but is not a probe file of this version (it is never overwritten)
 */
export async function ReadProbeFileAsync(path: string, key: ProbeKey, featureLength: number): Promise<ProbeFileRead> {
  const json = await ParseProbeFileAsync(path);
  if (!json) return { found: "none" };
  if (!SameKey(json.key, key)) return { found: "other", key: json.key };
  const models = json.models;
  if (!Array.isArray(models) || models.length !== key.attributes.length) return RefuseProbeFile(path, "its models do not match its attributes");
  try {
    const classifiers = key.attributes.map((attribute, a): AttributeClassifier => {
      const rows = models[a];
      if (!Array.isArray(rows) || rows.length !== attribute.classes.length) throw new Error(`attribute ${attribute.name}: ${Array.isArray(rows) ? rows.length : "no"} models for ${attribute.classes.length} classes`);
      return {
        name: attribute.name,
        classes: attribute.classes,
        models: rows.map(([lambda, bias, weights], c) => ({ lambda, bias, weights: DecodeWeights(weights, featureLength, `attribute ${attribute.name}, class ${c}`) })),
      };
    });
    return { found: "match", classifiers };
  } catch (error) {
    return RefuseProbeFile(path, (error as Error).message);
  }
}

/** Writes the fitted probes and their key to `path`, atomically (a reader sees the old file or the whole new one). */
export async function WriteProbeFileAsync(path: string, key: ProbeKey, classifiers: readonly AttributeClassifier[]): Promise<void> {
  const json: ProbeFileJson = {
    format: Format,
    version: Version,
    key,
    models: classifiers.map((classifier) => classifier.models.map((model) => [model.lambda, model.bias, EncodeWeights(model.weights)])),
  };
  await WriteFileAtomicAsync(path, new TextEncoder().encode(JSON.stringify(json)));
}
