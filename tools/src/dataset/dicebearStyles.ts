/**
 * Per-style settings for the DiceBear sources: which options this tool picks itself (so their values are
 * known exactly and become labels), colour lists that replace a style's defaults, framing, and how the
 * picked options map onto the shared label names (skin_color, hair_style, facial_hair, glasses, hat, ...).
 */
import type { DicebearStyleName } from "./datasetSources.js";

/** One option this tool decides itself. */
export interface DicebearChoice {
  /** Style option name, e.g. "hair" or "skinColor". */
  option: string;
  /** Values to pick from (hex colours without '#'); default: the style schema's default list. */
  values?: string[];
  /** Probability option (e.g. "facialHairProbability"); the feature is then present or "none". */
  probabilityOption?: string;
  /** Chance in percent that the feature is present; default: the schema's default. */
  probability?: number;
}

/** Picked option values ("none" for an absent optional feature; colours as "#rrggbb"). */
export type DicebearPicks = Record<string, string>;

/** How one style is sampled and labelled. */
export interface DicebearStyleConfig {
  /** Export name in @dicebear/collection. */
  exportName: string;
  choices: DicebearChoice[];
  /** DiceBear `scale`/`translateX`/`translateY` (percent) so the face fills the frame. */
  framing: { scale: number; translateX: number; translateY: number };
  /** Extra explicit options derived from the picks (e.g. beard colour = hair colour). */
  extraOptions?: (picks: DicebearPicks) => Record<string, unknown>;
  /** Shared categorical label name → pick name, or a function of the picks. */
  labels: Record<string, string | ((picks: DicebearPicks) => string)>;
  /** Possible values of the derived (function) labels, for the label schema. */
  derivedValues: Record<string, string[]>;
  /** Numeric presence labels (0/1) computed from the categorical labels: name → label that is "none" when absent. */
  presence: string[];
}

const Present = (value: string, set: readonly string[]): string => (set.includes(value) ? value : "none");

const PersonasGlasses = ["glasses", "sunglasses"];
const PersonasHats = ["beanie", "cap"];
const AvataaarsHats = ["hat", "hijab", "turban", "winterHat02", "winterHat03", "winterHat04", "winterHat1"];
const AvataaarsGlasses = ["kurt", "prescription01", "prescription02", "round", "sunglasses", "wayfarers"];

/** Settings of every supported style. */
export const DicebearStyleConfigs: Record<DicebearStyleName, DicebearStyleConfig> = {
  personas: {
    exportName: "personas",
    choices: [
      { option: "skinColor" },
      { option: "hairColor" },
      { option: "hair" },
      { option: "eyes" },
      { option: "mouth" },
      { option: "facialHair", probabilityOption: "facialHairProbability" },
    ],
    framing: { scale: 120, translateX: 0, translateY: 6 },
    labels: {
      skin_color: "skinColor",
      hair_color: "hairColor",
      hair_style: "hair",
      eyes: "eyes",
      mouth: "mouth",
      facial_hair: "facialHair",
      glasses: (p) => Present(p.eyes, PersonasGlasses),
      hat: (p) => Present(p.hair, PersonasHats),
    },
    derivedValues: { glasses: ["none", ...PersonasGlasses], hat: ["none", ...PersonasHats] },
    presence: ["facial_hair", "glasses", "hat"],
  },
  "toon-head": {
    exportName: "toonHead",
    choices: [
      { option: "skinColor" },
      { option: "hairColor" },
      { option: "hair", probabilityOption: "hairProbability" },
      { option: "rearHair", probabilityOption: "rearHairProbability" },
      { option: "eyes" },
      { option: "mouth" },
      { option: "beard", probabilityOption: "beardProbability" },
    ],
    framing: { scale: 115, translateX: 0, translateY: 6 },
    labels: {
      skin_color: "skinColor",
      hair_color: "hairColor",
      hair_style: "hair",
      rear_hair: "rearHair",
      eyes: "eyes",
      mouth: "mouth",
      facial_hair: "beard",
    },
    derivedValues: {},
    presence: ["facial_hair"],
  },
  adventurer: {
    exportName: "adventurer",
    choices: [
      { option: "skinColor" },
      { option: "hairColor" },
      { option: "hair", probabilityOption: "hairProbability" },
      { option: "eyes" },
      { option: "mouth" },
      { option: "glasses", probabilityOption: "glassesProbability" },
      { option: "features", probabilityOption: "featuresProbability" },
    ],
    framing: { scale: 100, translateX: 0, translateY: 0 },
    labels: {
      skin_color: "skinColor",
      hair_color: "hairColor",
      hair_style: "hair",
      eyes: "eyes",
      mouth: "mouth",
      glasses: "glasses",
      features: "features",
      facial_hair: (p) => (p.features === "mustache" ? "mustache" : "none"),
    },
    derivedValues: { facial_hair: ["none", "mustache"] },
    presence: ["facial_hair", "glasses"],
  },
  lorelei: {
    exportName: "lorelei",
    choices: [
      // Lorelei ships as line art (white skin, black hair); these lists give it skin and hair colours.
      { option: "skinColor", values: ["ffe0c8", "f5d0b0", "eab68f", "d39972", "b07350", "8d5a3b", "6b4028", "4a2c1d"] },
      { option: "hairColor", values: ["1b1512", "3b2519", "6a4429", "9a6a3c", "c99a5b", "e3c58a", "a33a1e", "a8a8a8"] },
      { option: "hair" },
      { option: "eyes" },
      { option: "mouth" },
      { option: "beard", probabilityOption: "beardProbability" },
      { option: "glasses", probabilityOption: "glassesProbability" },
    ],
    framing: { scale: 110, translateX: 0, translateY: 4 },
    labels: {
      skin_color: "skinColor",
      hair_color: "hairColor",
      hair_style: "hair",
      eyes: "eyes",
      mouth: "mouth",
      facial_hair: "beard",
      glasses: "glasses",
    },
    derivedValues: {},
    presence: ["facial_hair", "glasses"],
  },
  avataaars: {
    exportName: "avataaars",
    choices: [
      { option: "skinColor" },
      { option: "hairColor" },
      { option: "top", probabilityOption: "topProbability" },
      { option: "eyes" },
      { option: "mouth" },
      { option: "facialHair", probabilityOption: "facialHairProbability" },
      { option: "accessories", probabilityOption: "accessoriesProbability" },
    ],
    framing: { scale: 110, translateX: 0, translateY: 10 },
    // Beards take the hair colour (DiceBear would pick an unrelated one).
    extraOptions: (p) => ({ facialHairColor: [p.hairColor.slice(1)] }),
    labels: {
      skin_color: "skinColor",
      hair_color: "hairColor",
      hair_style: "top",
      eyes: "eyes",
      mouth: "mouth",
      facial_hair: "facialHair",
      accessory: "accessories",
      glasses: (p) => Present(p.accessories, AvataaarsGlasses),
      hat: (p) => Present(p.top, AvataaarsHats),
    },
    derivedValues: { glasses: ["none", ...AvataaarsGlasses], hat: ["none", ...AvataaarsHats] },
    presence: ["facial_hair", "glasses", "hat"],
  },
};
