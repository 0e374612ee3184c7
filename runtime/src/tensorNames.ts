/**
 * The model contract's names: the metadata key and format, and the graph's tensor names. Kept apart from the
 * metadata schema (modelMetadata.ts, which needs zod) so that code building requests — a game's main thread —
 * does not pull zod into its bundle. See docs/model-format.md.
 */

/** `metadata_props` key under which the JSON document is stored. */
export const MetadataKey = "npc_faces";
/** Value of the document's `format` field. */
export const FormatName = "npc-faces-model";
/** The newest format version this runtime reads. */
export const FormatVersion = 1;

/** Graph tensor names (contract). Noise inputs are `noise0`, `noise1`, ... (see `noiseResolutions`). */
export const TensorNames = {
  /** float32 [N, zDim]: latent of the face's seed. */
  z: "z",
  /** float32 [N, zDim]: latent of the mix seed (style mixing / breeding). */
  zMix: "z_mix",
  /** float32 [N, numWs]: per-layer weight of the mix latent's w (0 = own w, 1 = mix w). */
  mix: "mix",
  /** float32 [N, 1]: truncation psi (1 = none, 0 = the average face). */
  psi: "psi",
  /** float32 [N, numControls]: amount of each named control direction (only when numControls > 0). */
  controls: "controls",
  /** float32 [N, labelDim]: label vector of conditional models (only when labelDim > 0). */
  label: "label",
  /** float32 [N, 1]: multiplier of all noise inputs (1 = as trained, 0 = no noise). */
  noiseStrength: "noise_strength",
  /** Prefix of the per-layer noise inputs, float32 [N, 1, r, r]. */
  noisePrefix: "noise",
  /** uint8 [N, H, W, 4]: the face as RGBA8 (alpha 255). */
  rgba: "rgba",
  /** float32 [N, 3, H, W]: the face before 8-bit conversion, nominally in [-1, 1]. */
  image: "image",
} as const;
