/**
 * What every data-set source provides, and how a `--source` argument names one.
 *
 * A source is created from a plain, serialisable {@link SourceSpec} so that worker threads can build
 * their own copy; `renderAsync(index, seed, res)` must depend on nothing but its arguments and the spec.
 */
import { NormaliseHexColour } from "./colourLabels.js";
import { CreateSeededRandom, HashSeed, HashString, PickOne } from "./seededRandom.js";

/** The DiceBear styles this tool supports (front-facing faces with labelled attributes). */
export const DicebearStyleNames = ["personas", "toon-head", "adventurer", "lorelei", "avataaars"] as const;
/** One of {@link DicebearStyleNames}. */
export type DicebearStyleName = (typeof DicebearStyleNames)[number];

/** `--source` after parsing, before a folder is scanned. */
export type ParsedSource =
  | { kind: "facesjs" }
  | { kind: "dicebear"; style: DicebearStyleName }
  | { kind: "folder"; path: string };

/** Background of generated images: a fixed `#rrggbb`, or `"seeded"` (one of {@link SeededBackgrounds} per image). */
export type BackgroundSetting = string;

/** How a folder image is made square: crop the centre, or pad with the background colour. */
export type FolderFit = "crop" | "pad";

/** Everything a worker needs to create a source: plain data only (sent with postMessage). */
export type SourceSpec =
  | { kind: "facesjs"; background: BackgroundSetting }
  | { kind: "dicebear"; style: DicebearStyleName; background: BackgroundSetting }
  | { kind: "folder"; root: string; files: string[]; fit: FolderFit; minSize: number; background: BackgroundSetting };

/** The label vocabulary of a source: categorical names with their possible values, numeric names with ranges. */
export interface LabelSchema {
  categorical: Record<string, string[]>;
  numeric: Record<string, { min: number; max: number; description: string }>;
}

/** Licence and credit of a source's pictures, as shipped by the package that draws them. */
export interface SourceLicence {
  /** Licence name, e.g. "CC BY 4.0". */
  name: string;
  url: string | null;
  /** Attribution text to show wherever the data set or a model trained on it is published. */
  credits: string;
  /** True where the licence requires naming the designer (CC BY). */
  attributionRequired: boolean;
}

/** Static facts about a source, recorded in dataset.json. */
export interface DatasetSourceInfo {
  /** The `--source` text in canonical form, e.g. `dicebear:personas`. */
  spec: string;
  kind: SourceSpec["kind"];
  title: string;
  licence: SourceLicence;
  /** Package name → version of everything that influences the pixels. */
  versions: Record<string, string>;
  labelSchema: LabelSchema;
}

/** One rendered image: `res×res×3` RGB bytes (row-major, no alpha) and its labels. */
export interface RenderedImage {
  rgb: Uint8Array;
  /** Categorical labels, e.g. `{ hair_style: "bobCut", skin_color: "#eeb4a4" }`. */
  labels: Record<string, string>;
  /** Numeric labels in their schema ranges, e.g. `{ skin_tone: 0.71, glasses: 0 }`. */
  numeric: Record<string, number>;
  /** For folder sources: the file's path relative to the folder. */
  origin?: string;
  /** For folder sources: sha256 of the file's bytes (exact-duplicate detection). */
  sourceHash?: string;
}

/** Why a folder file was left out. */
export type SkipReason = "unreadable" | "tiny";

/** Result of rendering one index: an image, or (folder sources only) a skipped file. */
export type RenderOutcome =
  | { ok: true; image: RenderedImage }
  | { ok: false; reason: SkipReason; origin: string; detail: string };

/** A source of face images. */
export interface DatasetSource {
  readonly info: DatasetSourceInfo;
  /** Number of items for finite sources (folders); undefined for generators. */
  readonly available?: number;
  /** Renders item `index`; generators use `seed` (already derived per image), folders ignore it. */
  renderAsync(index: number, seed: number, res: number): Promise<RenderOutcome>;
}

/** Soft colours used by `--background seeded`. */
export const SeededBackgrounds = ["#dcdcdc", "#f0e6d2", "#d2e6f0", "#e6d2f0", "#d2f0dc", "#f0d2d2", "#c8c8d2", "#f5f5f5"];

/** The default background: a light neutral grey that is none of the skin or hair colours. */
export const DefaultBackground = "#dcdcdc";

/** Adds the `background` label to a schema when backgrounds are seeded (it is then a per-image attribute). */
export function WithBackgroundLabel(schema: LabelSchema, background: BackgroundSetting): LabelSchema {
  if (background !== "seeded") return schema;
  return { categorical: { ...schema.categorical, background: [...SeededBackgrounds] }, numeric: schema.numeric };
}

/** Parses and checks `--background`: `#rrggbb`/`rrggbb` or `seeded`. */
export function ParseBackground(text: string): BackgroundSetting {
  if (text === "seeded") return "seeded";
  return NormaliseHexColour(text);
}

/** The background colour of one image. */
export function ResolveBackground(background: BackgroundSetting, imageSeed: number): string {
  if (background !== "seeded") return background;
  return PickOne(CreateSeededRandom(HashSeed(imageSeed, HashString("background"))), SeededBackgrounds);
}

/** Parses `--source`; throws a message listing what is accepted. */
export function ParseSourceText(text: string): ParsedSource {
  const accepted = `accepted: facesjs, ${DicebearStyleNames.map((s) => `dicebear:${s}`).join(", ")}, folder:PATH`;
  if (text === "facesjs") return { kind: "facesjs" };
  if (text.startsWith("dicebear:")) {
    const style = text.slice("dicebear:".length);
    if (!(DicebearStyleNames as readonly string[]).includes(style)) {
      throw new Error(`unknown DiceBear style "${style}" (supported: ${DicebearStyleNames.join(", ")})`);
    }
    return { kind: "dicebear", style: style as DicebearStyleName };
  }
  if (text.startsWith("folder:")) {
    const path = text.slice("folder:".length);
    if (path.length === 0) throw new Error(`folder source needs a path: folder:PATH`);
    return { kind: "folder", path };
  }
  throw new Error(`unknown source "${text}" (${accepted})`);
}

/** RGBA (any alpha, already composited on an opaque background) → RGB. */
export function RgbaToRgb(rgba: Uint8Array | Buffer, pixelCount: number): Uint8Array {
  const rgb = new Uint8Array(pixelCount * 3);
  for (let p = 0, q = 0; p < pixelCount * 4; p += 4, q += 3) {
    rgb[q] = rgba[p];
    rgb[q + 1] = rgba[p + 1];
    rgb[q + 2] = rgba[p + 2];
  }
  return rgb;
}
