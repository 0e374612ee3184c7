/**
 * Fitted attribute probes kept on disk (`npc-faces metrics --probes FILE`). Fitting the probes is most of the
 * coverage's time (the convolutional probe: ~13 min on 2 cores; the ridge one on 3,072 pixel features: ~2 min) and
 * depends only on the data set and the probe settings, so choosing among a run's snapshots fits them once. The file records what the probes were
 * fitted on (the {@link ProbeKey}); a file fitted on anything else is refitted and replaced, and a file that is
 * not a probe file at all is refused rather than overwritten. Weights are stored exactly (the ridge models' as
 * little-endian Float64, the network's as Float32), so a reused probe classifies as the freshly fitted one did.
 */
import { readFile, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { AttributeClassifier } from "./attributeClassifier.js";
import type { ConvolutionalProbeJson } from "./convolutionalProbe.js";
import { WriteFileAtomicAsync } from "../bake/atomicWrite.js";

/** Which probe: the convolutional one (convolutionalProbe.ts) or ridge on pixels (attributeClassifier.ts). */
export type ProbeKind = "cnn" | "pixels";

/** Everything the fitted probes depend on. */
export interface ProbeKey {
  /** The data set's content hash (its manifest's `contentHash`). */
  readonly dataset: string;
  readonly probe: ProbeKind;
  /** Training images fitted on (the split's first ones). */
  readonly probeImages: number;
  /** Side of the images (cnn) or pixel features (pixels) the probe reads. */
  readonly featureRes: number;
  /** The fitting's own settings (pixels: the ridge penalties; cnn: the epochs). */
  readonly settings: Readonly<Record<string, number | readonly number[]>>;
  /** Each attribute's name and classes, in order. */
  readonly attributes: readonly { readonly name: string; readonly classes: readonly string[] }[];
}

/** The fitted probes themselves. */
export type ProbePayload = { readonly probe: "pixels"; readonly classifiers: readonly AttributeClassifier[] } | { readonly probe: "cnn"; readonly network: ConvolutionalProbeJson };

const Format = "npc-faces-attribute-probes";
const Version = 2;

interface ProbeFileJson {
  format: typeof Format;
  version: number;
  key: ProbeKey;
  /** pixels: per attribute, per class: [lambda, bias, base64 of the Float64 weights]. */
  models?: [number, number, string][][];
  /** cnn: the network's stored form. */
  network?: ConvolutionalProbeJson;
}

/** What {@link ReadProbeFileAsync} found. */
export type ProbeFileRead = { readonly found: "none" } | { readonly found: "other" } | { readonly found: "match"; readonly payload: ProbePayload };

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

/** The file's JSON when it is a probe file (of any version); null when it does not exist. */
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
 * Reads a probe file: "none" when it does not exist, "other" when it holds probes of another key or file version
 * (to be refitted and replaced), "match" with the fitted probes otherwise.
 * @param featureLength pixels: the length of a feature vector (each model's weights)
 * @throws Error naming the file when it exists but is not a probe file (it is never overwritten)
 */
export async function ReadProbeFileAsync(path: string, key: ProbeKey, featureLength: number): Promise<ProbeFileRead> {
  const json = await ParseProbeFileAsync(path);
  if (!json) return { found: "none" };
  if (json.version !== Version || !SameKey(json.key, key)) return { found: "other" };
  if (key.probe === "cnn") {
    if (typeof json.network?.weights !== "string" || json.network.side !== key.featureRes) return RefuseProbeFile(path, "its network does not match its key");
    return { found: "match", payload: { probe: "cnn", network: json.network } };
  }
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
    return { found: "match", payload: { probe: "pixels", classifiers } };
  } catch (error) {
    return RefuseProbeFile(path, (error as Error).message);
  }
}

/** Writes the fitted probes and their key to `path`, atomically (a reader sees the old file or the whole new one). */
export async function WriteProbeFileAsync(path: string, key: ProbeKey, payload: ProbePayload): Promise<void> {
  const json: ProbeFileJson = {
    format: Format,
    version: Version,
    key,
    ...(payload.probe === "pixels"
      ? { models: payload.classifiers.map((classifier) => classifier.models.map((model): [number, number, string] => [model.lambda, model.bias, EncodeWeights(model.weights)])) }
      : { network: payload.network }),
  };
  await WriteFileAtomicAsync(path, new TextEncoder().encode(JSON.stringify(json)));
}
