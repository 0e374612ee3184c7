/**
 * What a caller asks for (a seed and style parameters), its validation, and its conversion into the graph's
 * input tensors. Everything here is pure and bit-exact: the same requests give the same bytes on every engine.
 */
import type { TensorData } from "./inferenceBackend.js";
import type { ModelLabel, ModelMetadata } from "./modelMetadata.js";
import { TensorNames } from "./tensorNames.js";
import { LabelTableRow, type ChosenLabel } from "./labelTableRow.js";
import { NpcFacesError } from "./npcFacesError.js";
import { FillUniform, IsValidSeed, LatentFromSeed, MaxSeed, NoiseFromSeed, SeedStream } from "./seeds/index.js";

/** One face to generate. Everything but `seed` is optional and falls back to the model's defaults. */
export interface FaceRequest {
  /** The face's identity: an integer in 0..4294967295. */
  readonly seed: number;
  /** A second face to breed with (style mixing): its latent is fed as `z_mix`. Absent: `z_mix = z`. */
  readonly mixSeed?: number;
  /** How much of the mix face the mixed layers take, 0..1. Default 1 when `mixSeed` is given, else 0. */
  readonly mix?: number;
  /**
   * First w layer (0..numWs) that takes the mix latent; layers below keep the face's own w. Default 0 (all
   * layers). Low layers set coarse features (pose, face shape), high layers fine ones (colours, texture).
   */
  readonly mixCrossover?: number;
  /** Truncation: 1 = as sampled, 0 = the average face (of the face's labels where `metadata.truncationCentre` is `labels`). Default: `metadata.defaults.psi`. */
  readonly psi?: number;
  /** Multiplier of the per-layer noise (0 = smooth). Default: `metadata.defaults.noiseStrength`. */
  readonly noiseStrength?: number;
  /** Amount of named control directions; missing controls take their default. Values outside min..max extrapolate. */
  readonly controls?: Readonly<Record<string, number>>;
  /**
   * Conditional models: attribute -> value; missing attributes are drawn per seed, from the metadata's `labelTable`
   * (a training-data row that agrees with the values set) or each as its `sampling`
   * says (or, without one, fed its default probabilities).
   */
  readonly labels?: Readonly<Record<string, string>>;
}

/** A request with every default filled in. */
export interface ResolvedFaceRequest {
  readonly seed: number;
  readonly mixSeed: number;
  /** Per-layer weight of the mix latent's w (length numWs). */
  readonly mixWeights: Float32Array;
  readonly psi: number;
  readonly noiseStrength: number;
  /** Control amounts in metadata order. */
  readonly controls: Float32Array;
  /** The label vector (length labelDim). */
  readonly label: Float32Array;
}

const RequestKeys = ["seed", "mixSeed", "mix", "mixCrossover", "psi", "noiseStrength", "controls", "labels"];

/**
 * Checks a request against a model and fills in defaults.
 * @param path where the request sits, for messages (e.g. `requests[3]`)
 * @throws NpcFacesError BAD_REQUEST naming the field and what is expected
 */
export function ResolveFaceRequest(metadata: ModelMetadata, request: FaceRequest, path = "request"): ResolvedFaceRequest {
  const fail = (field: string, message: string): never => {
    throw new NpcFacesError("BAD_REQUEST", `${path}${field}: ${message}`);
  };
  if (typeof request !== "object" || request === null || Array.isArray(request)) fail("", `expected an object like { seed: 42 }, got ${Describe(request)}`);
  // Manifests and JS callers are not type-checked: a misspelt field must not be silently ignored.
  for (const key of Object.keys(request)) {
    if (!RequestKeys.includes(key)) fail(`.${key}`, `unknown field (known: ${RequestKeys.join(", ")})`);
  }
  const seedMessage = `expected an integer in 0..${MaxSeed}`;
  if (!IsValidSeed(request.seed)) fail(".seed", `${seedMessage}, got ${Describe(request.seed)}`);
  if (request.mixSeed !== undefined && !IsValidSeed(request.mixSeed)) fail(".mixSeed", `${seedMessage}, got ${Describe(request.mixSeed)}`);
  const finite = (field: string, value: unknown): void => {
    if (typeof value !== "number" || !Number.isFinite(value)) fail(`.${field}`, `expected a finite number, got ${Describe(value)}`);
  };
  if (request.psi !== undefined) finite("psi", request.psi);
  if (request.noiseStrength !== undefined) finite("noiseStrength", request.noiseStrength);
  if (request.mix !== undefined) {
    finite("mix", request.mix);
    if (request.mix < 0 || request.mix > 1) fail(".mix", `expected a number in 0..1, got ${request.mix}`);
  }
  if (request.mixCrossover !== undefined) {
    const c = request.mixCrossover;
    if (typeof c !== "number" || !Number.isInteger(c) || c < 0 || c > metadata.numWs) {
      fail(".mixCrossover", `expected an integer layer in 0..${metadata.numWs}, got ${Describe(c)}`);
    }
  }

  const controls = new Float32Array(metadata.controls.length);
  metadata.controls.forEach((c, i) => (controls[i] = c.default));
  if (request.controls !== undefined) {
    if (typeof request.controls !== "object" || request.controls === null || Array.isArray(request.controls)) {
      fail(".controls", `expected an object of control name -> amount, got ${Describe(request.controls)}`);
    }
    for (const [name, value] of Object.entries(request.controls)) {
      const index = metadata.controls.findIndex((c) => c.name === name);
      if (index < 0) fail(`.controls.${name}`, `unknown control (known: ${KnownList(metadata.controls.map((c) => c.name))})`);
      finite(`controls.${name}`, value);
      controls[index] = value;
    }
  }

  // Values the caller sets: [attribute, value index].
  const chosen: ChosenLabel[] = [];
  if (request.labels !== undefined) {
    if (typeof request.labels !== "object" || request.labels === null || Array.isArray(request.labels)) {
      fail(".labels", `expected an object of attribute -> value, got ${Describe(request.labels)}`);
    }
    for (const [name, value] of Object.entries(request.labels)) {
      const attribute = metadata.labels.find((l) => l.name === name);
      if (!attribute) fail(`.labels.${name}`, `unknown attribute (known: ${KnownList(metadata.labels.map((l) => l.name))})`);
      const index = attribute!.values.indexOf(value);
      if (index < 0) fail(`.labels.${name}`, `unknown value ${Describe(value)} (known: ${KnownList(attribute!.values)})`);
      chosen.push([attribute!, index]);
    }
  }
  const label = UnsetLabels(metadata, request.seed, chosen);
  for (const [attribute, index] of chosen) {
    // A chosen value is a one-hot block.
    label.fill(0, attribute.offset, attribute.offset + attribute.values.length);
    label[attribute.offset + index] = 1;
  }

  const mix = request.mix ?? (request.mixSeed !== undefined ? 1 : 0);
  const crossover = request.mixCrossover ?? 0;
  const mixWeights = new Float32Array(metadata.numWs);
  for (let l = crossover; l < metadata.numWs; l++) mixWeights[l] = mix;

  return {
    seed: request.seed,
    mixSeed: request.mixSeed ?? request.seed,
    mixWeights,
    psi: request.psi ?? metadata.defaults.psi,
    noiseStrength: request.noiseStrength ?? metadata.defaults.noiseStrength,
    controls,
    label,
  };
}

/**
 * The value of each one-hot attribute that a face gets, whether the request sets it or the seed draws it
 * (e.g. `{ eyes: "eye12", gender: "female" }`): what to show beside a face, or to check it against. Attributes
 * drawn as none of their values, and scalar and yes/no attributes, are left out.
 * @throws NpcFacesError BAD_REQUEST as {@link ResolveFaceRequest}
 */
export function FaceLabelValues(metadata: ModelMetadata, request: FaceRequest): Record<string, string> {
  const { label } = ResolveFaceRequest(metadata, request);
  const values: Record<string, string> = {};
  for (const attribute of metadata.labels) {
    if (attribute.values.length < 2) continue;
    const index = attribute.values.findIndex((_, j) => label[attribute.offset + j] === 1);
    if (index >= 0) values[attribute.name] = attribute.values[index];
  }
  return values;
}

/**
 * Checks a request against a model.
 * @param path where the request sits, for messages (e.g. `requests[3]`)
 * @throws NpcFacesError BAD_REQUEST naming the field and what is expected
 */
export function ValidateFaceRequest(metadata: ModelMetadata, request: FaceRequest, path = "request"): void {
  ResolveFaceRequest(metadata, request, path);
}

/**
 * Builds the graph's input tensors for a batch of requests (N = requests.length), validating each.
 * Noise layer i of request n is `NoiseFromSeed(seed, i, r)`; without `mixSeed`, `z_mix = z`.
 * @throws NpcFacesError BAD_REQUEST for an empty batch or an invalid request
 */
export function BuildFaceInputs(metadata: ModelMetadata, requests: readonly FaceRequest[], path = "requests"): Record<string, TensorData> {
  if (requests.length === 0) throw new NpcFacesError("BAD_REQUEST", `${path}: expected at least one request`);
  const resolved = requests.map((r, i) => ResolveFaceRequest(metadata, r, `${path}[${i}]`));
  const n = resolved.length;
  const { zDim, numWs, labelDim } = metadata;
  const numControls = metadata.controls.length;
  const z = new Float32Array(n * zDim);
  const zMix = new Float32Array(n * zDim);
  const mix = new Float32Array(n * numWs);
  const psi = new Float32Array(n);
  const noiseStrength = new Float32Array(n);
  const controls = new Float32Array(n * numControls);
  const label = new Float32Array(n * labelDim);
  resolved.forEach((r, i) => {
    const own = LatentFromSeed(r.seed, zDim);
    z.set(own, i * zDim);
    zMix.set(r.mixSeed === r.seed ? own : LatentFromSeed(r.mixSeed, zDim), i * zDim);
    mix.set(r.mixWeights, i * numWs);
    psi[i] = r.psi;
    noiseStrength[i] = r.noiseStrength;
    controls.set(r.controls, i * numControls);
    label.set(r.label, i * labelDim);
  });

  const feeds: Record<string, TensorData> = {
    [TensorNames.z]: { type: "float32", dims: [n, zDim], data: z },
    [TensorNames.zMix]: { type: "float32", dims: [n, zDim], data: zMix },
    [TensorNames.mix]: { type: "float32", dims: [n, numWs], data: mix },
    [TensorNames.psi]: { type: "float32", dims: [n, 1], data: psi },
  };
  if (numControls > 0) feeds[TensorNames.controls] = { type: "float32", dims: [n, numControls], data: controls };
  if (labelDim > 0) feeds[TensorNames.label] = { type: "float32", dims: [n, labelDim], data: label };
  feeds[TensorNames.noiseStrength] = { type: "float32", dims: [n, 1], data: noiseStrength };
  metadata.noiseResolutions.forEach((r, layer) => {
    const noise = new Float32Array(n * r * r);
    resolved.forEach((req, i) => noise.set(NoiseFromSeed(req.seed, layer, r), i * r * r));
    feeds[`${TensorNames.noisePrefix}${layer}`] = { type: "float32", dims: [n, 1, r, r], data: noise };
  });
  return feeds;
}

function Describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null || value === undefined || typeof value !== "object") return String(value);
  return Array.isArray(value) ? "an array" : "an object";
}

function KnownList(names: readonly string[]): string {
  return names.length === 0 ? "none" : names.join(", ");
}

/**
 * The label vector of a face before the caller's own values: the seed's row of the metadata's `labelTable`
 * (see {@link LabelTableRow}), else each attribute drawn as its `sampling` says, else the attributes' defaults. All
 * draws come from the seed's label stream: one uniform per attribute in metadata order (a table uses the first).
 */
function UnsetLabels(metadata: ModelMetadata, seed: number, chosen: readonly ChosenLabel[]): Float32Array {
  const table = metadata.labelTable;
  const drawn = table !== undefined || metadata.labels.some((l) => l.sampling);
  const draws = drawn ? FillUniform(seed, SeedStream.Labels, new Float64Array(Math.max(metadata.labels.length, 1))) : null;
  if (table && draws) return LabelTableRow(metadata, table, draws[0], chosen);
  const label = new Float32Array(metadata.labelDim);
  metadata.labels.forEach((attribute, k) => label.set(DefaultLabelValues(attribute, draws?.[k] ?? 0), attribute.offset));
  return label;
}

/** An attribute's label values when the request sets none, from the seed's uniform draw `u` (see `ModelLabel.sampling`). */
function DefaultLabelValues(attribute: ModelLabel, u: number): number[] {
  switch (attribute.sampling) {
    case "bernoulli":
      return [u < attribute.default[0] ? 1 : 0];
    case "uniform":
      return [u];
    case "onehot": {
      const values = attribute.default.map(() => 0);
      let cumulative = 0;
      for (let i = 0; i < values.length; i++) {
        cumulative += attribute.default[i];
        if (u < cumulative) {
          values[i] = 1;
          break;
        }
      }
      return values;
    }
    default:
      return attribute.default;
  }
}
