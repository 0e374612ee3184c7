/**
 * DiceBear 9.4.3 styles as data-set sources, rasterised with resvg.
 *
 * The labelled attributes are picked here from the image seed and passed to DiceBear as single-value
 * options (probabilities forced to 0 or 100), so the labels are exactly what is drawn; everything else
 * (clothes, nose, ...) comes from DiceBear's own PRNG seeded with the image seed.
 */
import { createAvatar, type Style } from "@dicebear/core";
import { Resvg } from "@resvg/resvg-js";
import { ColourLightness, NormaliseHexColour } from "./colourLabels.js";
import {
  ResolveBackground,
  RgbaToRgb,
  type BackgroundSetting,
  type DatasetSource,
  type DatasetSourceInfo,
  type DicebearStyleName,
  type LabelSchema,
  type RenderOutcome,
} from "./datasetSources.js";
import { DicebearStyleConfigs, type DicebearChoice, type DicebearPicks, type DicebearStyleConfig } from "./dicebearStyles.js";
import { PackageVersion } from "./packageVersions.js";
import { CreateSeededRandom, HashSeed, HashString, PickOne } from "./seededRandom.js";

/** The DiceBear version the data sets are pinned to: other versions draw different pictures for a seed. */
export const PinnedDicebearVersion = "9.4.3";

/** A DiceBear style of any option type. */
export type AnyStyle = Style<Record<string, unknown>>;
interface SchemaProperty {
  default?: unknown;
  items?: { pattern?: string };
}

function SchemaProperty(style: AnyStyle, option: string): SchemaProperty {
  const property = (style.schema?.properties as Record<string, SchemaProperty> | undefined)?.[option];
  if (!property) throw new Error(`DiceBear style has no option "${option}"`);
  return property;
}

const IsColourOption = (option: string): boolean => option.endsWith("Color");

/** The values and probability of one choice, from the config or else the style's schema defaults. */
function ResolveChoice(style: AnyStyle, choice: DicebearChoice): { values: string[]; probability: number | null } {
  const values = choice.values ?? (SchemaProperty(style, choice.option).default as string[] | undefined);
  if (!values || values.length === 0) throw new Error(`DiceBear option "${choice.option}" has no values`);
  let probability: number | null = null;
  if (choice.probabilityOption) {
    probability = choice.probability ?? Number(SchemaProperty(style, choice.probabilityOption).default ?? 50);
  }
  return { values: IsColourOption(choice.option) ? values.map(NormaliseHexColour) : [...values], probability };
}

/** Licence text built from the style's own `meta` (what ships in @dicebear/collection). */
export function DicebearCredits(style: AnyStyle, styleName: string): DatasetSourceInfo["licence"] {
  const meta = style.meta ?? {};
  const licenceName = meta.license?.name ?? "unknown";
  // Same rule as DiceBear's own licence text: styles not drawn by DiceBear under MIT are remixes.
  const remix = licenceName !== "MIT" && meta.creator !== "DiceBear" && meta.title ? "Remix of " : "";
  const title = `"${meta.title ?? styleName}"${meta.source ? ` (${meta.source})` : ""}`;
  const credits =
    `${remix}${title} by ${meta.creator ?? "unknown"}` +
    (meta.homepage ? ` (${meta.homepage})` : "") +
    `, licensed under ${licenceName}${meta.license?.url ? ` (${meta.license.url})` : ""}. ` +
    `Rendered with DiceBear ${PackageVersion("@dicebear/core")} (MIT, Florian Körner, https://www.dicebear.com).`;
  return { name: licenceName, url: meta.license?.url ?? null, credits, attributionRequired: /^CC BY\b/.test(licenceName) };
}

/** Picks every configured option for one image seed (exported for tests). */
export function PickDicebearOptions(style: AnyStyle, config: DicebearStyleConfig, seed: number): DicebearPicks {
  const random = CreateSeededRandom(HashSeed(seed, HashString("dicebear/options")));
  const picks: DicebearPicks = {};
  for (const choice of config.choices) {
    const { values, probability } = ResolveChoice(style, choice);
    // Draw both numbers every time so one choice never shifts the draws of the next.
    const value = PickOne(random, values);
    const present = random() * 100 < (probability ?? 100);
    picks[choice.option] = present ? value : "none";
  }
  return picks;
}

/** DiceBear options that draw exactly the picked values. */
function ExplicitOptions(config: DicebearStyleConfig, picks: DicebearPicks): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const choice of config.choices) {
    const value = picks[choice.option];
    if (choice.probabilityOption) options[choice.probabilityOption] = value === "none" ? 0 : 100;
    if (value !== "none") options[choice.option] = [IsColourOption(choice.option) ? value.slice(1) : value];
  }
  return { ...options, ...config.extraOptions?.(picks) };
}

function LabelsFromPicks(config: DicebearStyleConfig, picks: DicebearPicks): { labels: Record<string, string>; numeric: Record<string, number> } {
  const labels: Record<string, string> = {};
  for (const [name, from] of Object.entries(config.labels)) labels[name] = typeof from === "string" ? picks[from] : from(picks);
  const numeric: Record<string, number> = {};
  if (labels.skin_color) numeric.skin_tone = ColourLightness(labels.skin_color);
  if (labels.hair_color) numeric.hair_lightness = ColourLightness(labels.hair_color);
  for (const name of config.presence) numeric[name] = labels[name] === "none" ? 0 : 1;
  return { labels, numeric };
}

function DicebearLabelSchema(style: AnyStyle, config: DicebearStyleConfig): LabelSchema {
  const categorical: Record<string, string[]> = {};
  for (const [name, from] of Object.entries(config.labels)) {
    if (typeof from !== "string") {
      categorical[name] = config.derivedValues[name];
      continue;
    }
    const choice = config.choices.find((c) => c.option === from);
    if (!choice) throw new Error(`label ${name} names an option (${from}) that is not picked`);
    const { values, probability } = ResolveChoice(style, choice);
    categorical[name] = [...(probability !== null ? ["none"] : []), ...new Set(values)];
  }
  const numeric: LabelSchema["numeric"] = {};
  if (categorical.skin_color) numeric.skin_tone = { min: 0, max: 1, description: "CIE L*/100 of the skin colour (0 dark, 1 light)" };
  if (categorical.hair_color) numeric.hair_lightness = { min: 0, max: 1, description: "CIE L*/100 of the hair colour" };
  for (const name of config.presence) numeric[name] = { min: 0, max: 1, description: `1 if ${name.replace("_", " ")} is present` };
  return { categorical, numeric };
}

/** Fails unless the pinned DiceBear packages are installed. */
function CheckPinnedVersions(): void {
  for (const pkg of ["@dicebear/core", "@dicebear/collection"]) {
    const version = PackageVersion(pkg);
    if (version !== PinnedDicebearVersion) {
      throw new Error(`${pkg} ${version} is installed, but data sets are pinned to ${PinnedDicebearVersion} (other versions draw different faces for the same seed)`);
    }
  }
}

/** Loads one style from @dicebear/collection. */
export async function LoadDicebearStyleAsync(styleName: DicebearStyleName): Promise<AnyStyle> {
  CheckPinnedVersions();
  const collection = (await import("@dicebear/collection")) as unknown as Record<string, AnyStyle>;
  const style = collection[DicebearStyleConfigs[styleName].exportName];
  if (!style) throw new Error(`@dicebear/collection has no style ${DicebearStyleConfigs[styleName].exportName}`);
  return style;
}

/** One image's SVG, labels, and DiceBear's own report of what it drew (`extra`, used by tests). */
export interface DicebearAvatar {
  svg: string;
  background: string;
  labels: Record<string, string>;
  numeric: Record<string, number>;
  picks: DicebearPicks;
  extra: Record<string, unknown>;
}

/** Builds the avatar of one image seed: picks the labelled options, then lets DiceBear draw the rest. */
export function CreateDicebearAvatar(style: AnyStyle, styleName: DicebearStyleName, seed: number, background: BackgroundSetting): DicebearAvatar {
  const config = DicebearStyleConfigs[styleName];
  const picks = PickDicebearOptions(style, config, seed);
  const { labels, numeric } = LabelsFromPicks(config, picks);
  const bg = ResolveBackground(background, seed);
  if (background === "seeded") labels.background = bg;
  const avatar = createAvatar(style, {
    seed: seed.toString(16).padStart(8, "0"),
    ...ExplicitOptions(config, picks),
    backgroundColor: [bg.slice(1)],
    backgroundType: ["solid"],
    scale: config.framing.scale,
    translateX: config.framing.translateX,
    translateY: config.framing.translateY,
    radius: 0,
    flip: false,
    rotate: 0,
    clip: true,
  });
  return { svg: avatar.toString(), background: bg, labels, numeric, picks, get extra() { return avatar.toJson().extra; } };
}

/** Creates the source for one DiceBear style (loads @dicebear/collection). */
export async function CreateDicebearSourceAsync(styleName: DicebearStyleName, background: BackgroundSetting): Promise<DatasetSource> {
  const style = await LoadDicebearStyleAsync(styleName);
  const config = DicebearStyleConfigs[styleName];
  const info: DatasetSourceInfo = {
    spec: `dicebear:${styleName}`,
    kind: "dicebear",
    title: style.meta?.title ?? styleName,
    licence: DicebearCredits(style, styleName),
    versions: {
      "@dicebear/core": PackageVersion("@dicebear/core"),
      "@dicebear/collection": PackageVersion("@dicebear/collection"),
      "@resvg/resvg-js": PackageVersion("@resvg/resvg-js"),
    },
    labelSchema: DicebearLabelSchema(style, config),
  };
  return {
    info,
    async renderAsync(_index: number, seed: number, res: number): Promise<RenderOutcome> {
      const avatar = CreateDicebearAvatar(style, styleName, seed, background);
      const rendered = new Resvg(avatar.svg, { fitTo: { mode: "width", value: res }, background: avatar.background, font: { loadSystemFonts: false } }).render();
      if (rendered.width !== res || rendered.height !== res) throw new Error(`DiceBear rendered ${rendered.width}×${rendered.height}, expected ${res}×${res}`);
      return { ok: true, image: { rgb: RgbaToRgb(rendered.pixels, res * res), labels: avatar.labels, numeric: avatar.numeric } };
    },
  };
}
