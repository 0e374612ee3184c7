/**
 * facesjs (Apache-2.0) as a data-set source: front-facing cartoon faces, seeded, cropped to the face.
 *
 * facesjs draws its random choices from the global `Math.random`; {@link WithSeededMathRandom} swaps in
 * a seeded generator around `generate()` only. Gender and palette ("race" in facesjs) are picked here from
 * the image seed and passed explicitly, so they are known exactly.
 */
import { faceToSvgString, generate, svgsIndex } from "facesjs";
import type { FaceConfig, Gender, Race } from "facesjs";
import { Resvg } from "@resvg/resvg-js";
import { ColourLightness, NormaliseHexColour } from "./colourLabels.js";
import {
  ResolveBackground,
  RgbaToRgb,
  type BackgroundSetting,
  type DatasetSource,
  type DatasetSourceInfo,
  type LabelSchema,
  type RenderOutcome,
} from "./datasetSources.js";
import { ReadPackageMetadata } from "./packageVersions.js";
import { CreateSeededRandom, HashSeed, HashString, PickOne, WithSeededMathRandom } from "./seededRandom.js";

/** The face area of facesjs's 400×600 canvas: a square from the hair top to the chin. */
export const FacesjsViewBox = "20 110 360 360";

// facesjs 5.0.3 picks skin and hair colours from these palettes (generate.js; not exported by the package).
const Palettes: Record<Race, { skin: string[]; hair: string[] }> = {
  white: {
    skin: ["#f2d6cb", "#ddb7a0"],
    hair: ["#272421", "#3D2314", "#5A3825", "#CC9966", "#2C1608", "#B55239", "#e9c67b", "#D7BF91"],
  },
  asian: { skin: ["#fedac7", "#f0c5a3", "#eab687"], hair: ["#272421", "#0f0902"] },
  brown: { skin: ["#bb876f", "#aa816f", "#a67358"], hair: ["#272421", "#1c1008"] },
  black: { skin: ["#ad6453", "#74453d", "#5c3937"], hair: ["#272421"] },
};
const Races = Object.keys(Palettes) as Race[];
const Genders: Gender[] = ["male", "female"];
const Hats = new Set(["hat", "hat2", "hat3", "santa-hat"]);

function Unique(values: string[]): string[] {
  return [...new Set(values)].sort();
}

function FacesjsLabelSchema(): LabelSchema {
  const allSkin = Unique(Races.flatMap((r) => Palettes[r].skin.map(NormaliseHexColour)));
  const allHair = Unique(Races.flatMap((r) => Palettes[r].hair.map(NormaliseHexColour)));
  return {
    categorical: {
      gender: [...Genders],
      skin_color: allSkin,
      hair_color: allHair,
      hair_style: [...svgsIndex.hair],
      eyes: [...svgsIndex.eye],
      mouth: [...svgsIndex.mouth],
      facial_hair: [...svgsIndex.facialHair],
      glasses: [...svgsIndex.glasses],
      hat: ["none", ...[...Hats].sort()],
      accessory: [...svgsIndex.accessories],
    },
    numeric: {
      skin_tone: { min: 0, max: 1, description: "CIE L*/100 of the skin colour (0 dark, 1 light)" },
      hair_lightness: { min: 0, max: 1, description: "CIE L*/100 of the hair colour" },
      facial_hair: { min: 0, max: 1, description: "1 if the face has facial hair" },
      glasses: { min: 0, max: 1, description: "1 if the face wears glasses (not the face mask)" },
      hat: { min: 0, max: 1, description: "1 if the face wears a hat" },
    },
  };
}

/** The facesjs face object and its labels for one image seed (exported for tests). */
export function GenerateFacesjsFace(seed: number): { face: FaceConfig; labels: Record<string, string>; numeric: Record<string, number> } {
  const random = CreateSeededRandom(HashSeed(seed, HashString("facesjs/options")));
  const gender = PickOne(random, Genders);
  const race = PickOne(random, Races);
  const face = WithSeededMathRandom(HashSeed(seed, HashString("facesjs/generate")), () => generate(undefined, { gender, race }));
  const skin = NormaliseHexColour(face.body.color);
  const hair = NormaliseHexColour(face.hair.color);
  const hat = Hats.has(face.accessories.id) ? face.accessories.id : "none";
  return {
    face,
    labels: {
      gender,
      skin_color: skin,
      hair_color: hair,
      hair_style: face.hair.id,
      eyes: face.eye.id,
      mouth: face.mouth.id,
      facial_hair: face.facialHair.id,
      glasses: face.glasses.id,
      hat,
      accessory: face.accessories.id,
    },
    numeric: {
      skin_tone: ColourLightness(skin),
      hair_lightness: ColourLightness(hair),
      facial_hair: face.facialHair.id === "none" ? 0 : 1,
      glasses: face.glasses.id.startsWith("glasses") ? 1 : 0,
      hat: hat === "none" ? 0 : 1,
    },
  };
}

/** facesjs's SVG for a face, cropped to {@link FacesjsViewBox} with a square pixel size. */
export function FacesjsSvg(face: FaceConfig, res: number): string {
  const svg = faceToSvgString(face);
  const head = svg.indexOf(">");
  const root = svg
    .slice(0, head)
    .replace(/viewBox="[^"]*"/, `viewBox="${FacesjsViewBox}"`)
    .replace(/width="[^"]*"/, `width="${res}"`)
    .replace(/height="[^"]*"/, `height="${res}"`);
  if (!root.includes(FacesjsViewBox)) throw new Error("facesjs SVG has no viewBox to crop (unexpected facesjs version?)");
  return root + svg.slice(head);
}

/** Creates the facesjs source. */
export function CreateFacesjsSource(background: BackgroundSetting): DatasetSource {
  const pkg = ReadPackageMetadata("facesjs");
  const author = typeof pkg.author === "string" ? pkg.author.replace(/\s*<[^>]*>/, "") : (pkg.author?.name ?? "the facesjs authors");
  const info: DatasetSourceInfo = {
    spec: "facesjs",
    kind: "facesjs",
    title: `facesjs ${pkg.version}`,
    licence: {
      name: pkg.license ?? "Apache-2.0",
      url: "https://www.apache.org/licenses/LICENSE-2.0",
      credits: `Faces drawn with facesjs ${pkg.version} by ${author} (${pkg.homepage ?? "https://github.com/zengm-games/facesjs"}), licensed under ${pkg.license ?? "Apache-2.0"}.`,
      attributionRequired: false,
    },
    versions: { facesjs: pkg.version, "@resvg/resvg-js": ReadPackageMetadata("@resvg/resvg-js").version },
    labelSchema: FacesjsLabelSchema(),
  };
  return {
    info,
    async renderAsync(_index: number, seed: number, res: number): Promise<RenderOutcome> {
      const { face, labels, numeric } = GenerateFacesjsFace(seed);
      const bg = ResolveBackground(background, seed);
      if (background === "seeded") labels.background = bg;
      const rendered = new Resvg(FacesjsSvg(face, res), {
        fitTo: { mode: "width", value: res },
        background: bg,
        font: { loadSystemFonts: false },
      }).render();
      if (rendered.width !== res || rendered.height !== res) throw new Error(`facesjs rendered ${rendered.width}×${rendered.height}, expected ${res}×${res}`);
      return { ok: true, image: { rgb: RgbaToRgb(rendered.pixels, res * res), labels, numeric } };
    },
  };
}
