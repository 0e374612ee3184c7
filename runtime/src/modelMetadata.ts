/**
 * The npc-faces model contract: the JSON document stored in the ONNX file's `metadata_props` under
 * {@link MetadataKey} (its schema, with zod), and the tensor names of the graph (./tensorNames.ts). See
 * docs/model-format.md.
 */
import { z } from "zod";

import { FormatName } from "./tensorNames.js";

export { FormatName, FormatVersion, MetadataKey, TensorNames } from "./tensorNames.js";

const finite = z.number().refine(Number.isFinite, "expected a finite number");
const positiveInt = z.number().int().positive();

/** A named style control: a direction in w space applied to some layers. */
export const ControlSchema = z
  .object({
    /** Identifier used in APIs, manifests and material parameters: lowercase, digits, underscores. */
    name: z.string().regex(/^[a-z][a-z0-9_]*$/, "expected a lowercase identifier (a-z, 0-9, _)"),
    /** Human-readable label for sliders. */
    label: z.string(),
    /** Where the direction comes from. */
    kind: z.enum(["label", "sefa", "pca", "random"]),
    min: finite,
    max: finite,
    default: finite,
    /** Indices of the w layers the direction acts on. */
    layers: z.array(z.number().int().nonnegative()),
    description: z.string().optional(),
  })
  .refine((c) => c.min <= c.default && c.default <= c.max, "expected min <= default <= max");
export type ModelControl = z.infer<typeof ControlSchema>;

/** A data-set attribute that a conditional model takes as part of its label vector. */
export const LabelSchema = z.object({
  name: z.string(),
  /** Offset of this attribute in the label vector. */
  offset: z.number().int().nonnegative(),
  /** One-hot values, or a single value for a scalar attribute. */
  values: z.array(z.string()),
  /** Default probabilities (one per value): usually the data set's frequencies (a scalar's: its mean). */
  default: z.array(finite),
  /**
   * What a face gets when the caller sets no value (per seed, from the seed's label stream): `onehot` draws one
   * value with the `default` probabilities (none with the remainder), `bernoulli` draws 1 with probability
   * `default[0]` else 0, `uniform` draws a scalar in 0..1. Absent: `default` itself is fed (every face alike).
   */
  sampling: z.enum(["onehot", "bernoulli", "uniform"]).optional(),
});
export type ModelLabel = z.infer<typeof LabelSchema>;

/** Where a model came from: the data set, its licences and credits, and training figures. */
export const ProvenanceSchema = z.object({
  trained: z.boolean(),
  dataset: z.string().optional(),
  licenses: z.array(z.string()),
  credits: z.array(z.string()),
  kimg: z.number().nonnegative(),
  metrics: z.record(z.string(), z.number()).optional(),
  tool: z.string(),
  notes: z.string().optional(),
  /** For models made by `npc-faces import` from another project's checkpoint: what the file was (docs/import.md). */
  imported: z
    .object({
      /** `nvidia-pkl` (stylegan2-ada-pytorch network pickle) or `rosinality-pt` (stylegan2-pytorch checkpoint). */
      format: z.enum(["nvidia-pkl", "rosinality-pt"]),
      /** The file's name (no folders). */
      file: z.string(),
      /** SHA-256 of the whole file, lowercase hex. */
      sha256: z.string().regex(/^[0-9a-f]{64}$/, "expected 64 lowercase hex digits"),
      /** The generator object or state dict that was read (`G_ema`, `g_ema`). */
      generator: z.string(),
      resolution: positiveInt,
      /** Training progress the file records (NVIDIA: the snapshot's file name), absent when unknown. */
      kimg: z.number().nonnegative().optional(),
    })
    .optional(),
});

/** The metadata document (format version 1). */
export const ModelMetadataSchema = z.object({
  format: z.literal(FormatName),
  formatVersion: z.number().int().positive(),
  name: z.string(),
  resolution: positiveInt,
  zDim: positiveInt,
  wDim: positiveInt,
  numWs: positiveInt,
  labelDim: z.number().int().nonnegative(),
  /** Resolution of each noise input `noise{i}` (empty when `noise` is `constant`). */
  noiseResolutions: z.array(positiveInt),
  /**
   * Where the per-layer noise comes from: `seeded` (absent: the inputs `noise{i}`, filled from the seed) or
   * `constant` (fixed noise maps inside the graph, as an imported file's buffers; no noise inputs, every seed
   * gets the same maps; `noise_strength` still scales them).
   */
  noise: z.enum(["seeded", "constant"]).optional(),
  controls: z.array(ControlSchema),
  labels: z.array(LabelSchema),
  /**
   * Label vectors of the training data (rows of `labelDim` values), so that faces get the data's joint mix of
   * attributes (dark skin with dark hair as often as the data has it): a face whose request leaves attributes
   * unset takes them from one row picked by its seed, among the rows that agree with the values it sets.
   * Takes precedence over the attributes' `sampling`; absent: each attribute is drawn on its own.
   */
  labelTable: z.array(z.array(finite)).min(1).optional(),
  defaults: z.object({ psi: finite, noiseStrength: finite }),
  /**
   * What `psi` pulls toward (informational; the graph does it): `average` = one tracked mean w for every face;
   * `labels` = the mean w of the face's own label vector (conditional models). Absent: `average`.
   */
  truncationCentre: z.enum(["average", "labels"]).optional(),
  /** The generator configuration it was built from (informational). */
  architecture: z.record(z.string(), z.unknown()),
  provenance: ProvenanceSchema,
  /**
   * Digest of the serialised graph (nodes and weights), written at export and checked at load: a file damaged in
   * transit or in a cache is refused instead of drawing other faces. Absent in files from before it existed.
   */
  integrity: z.object({ graphSha256: z.string().regex(/^[0-9a-f]{64}$/, "expected 64 lowercase hex digits") }).optional(),
});
export type ModelMetadata = z.infer<typeof ModelMetadataSchema>;
