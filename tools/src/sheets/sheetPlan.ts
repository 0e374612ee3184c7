/**
 * What every sample sheet is made of: blocks of tiles, each tile one face request (or empty), plus the words
 * that say what the rows and columns are. The sheet kinds (seeds, controls, labels, truncation, mixing) build a
 * {@link SheetPlan} from a model's metadata; layout, rendering and the legend work on any plan.
 */
import { ValidateFaceRequest, type FaceRequest, type ModelMetadata } from "@npc-faces/runtime";
import { LabelValuesProblem } from "../model/labelValuesProblem.js";

/** One tile: the face it shows, or null for an empty tile (background colour). */
export type SheetCell = FaceRequest | null;

/** What one row or column of a block shows, as JSON for the legend (e.g. `{ "seed": 3 }`, `{ "psi": 0.7 }`). */
export type SheetAxisEntry = Readonly<Record<string, string | number | null>>;

/** A rectangle of tiles. A sheet stacks its blocks top to bottom, with a wider gap between them. */
export interface SheetBlock {
  /** What the block shows, e.g. `control direction_0 ("Direction 0", -3..3, layers 0-5)`. */
  readonly title: string;
  /** One entry per row, top to bottom. */
  readonly rows: readonly SheetAxisEntry[];
  /** One entry per column, left to right. */
  readonly columns: readonly SheetAxisEntry[];
  /** `cells[row][column]`: rows.length arrays of columns.length cells. */
  readonly cells: readonly (readonly SheetCell[])[];
}

/** The sheet kinds. */
export type SheetKind = "seeds" | "controls" | "labels" | "truncation" | "mixing";

/** A checked sheet: what each tile shows and how to read it. */
export interface SheetPlan {
  readonly kind: SheetKind;
  /** One or two sentences: what rows, columns and cells are. */
  readonly description: string;
  /** Parameters shared by every face of the sheet (already part of each cell's request). */
  readonly parameters: SheetParameters;
  readonly blocks: readonly SheetBlock[];
}

/** Parameters every face of a sheet shares (the truncation sheet sweeps psi instead). */
export interface SheetParameters {
  /** Truncation, or null where the sheet sweeps it. */
  readonly psi: number | null;
  readonly noiseStrength: number;
  /** Label values of a conditional model; attributes not named take the model's default probabilities. */
  readonly labels: Readonly<Record<string, string>>;
}

/** Options every sheet kind takes. */
export interface SheetCommonOptions {
  /** Truncation (default 1: faces as sampled, so a sheet shows the model as it is). */
  readonly psi?: number;
  /** Noise multiplier (default: the model's). */
  readonly noiseStrength?: number;
  /** Label values for conditional models. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** Default psi of the sheets: no truncation. The model's own default (0.7 for exports) is what games show. */
export const SheetDefaultPsi = 1;

/** A sheet option that does not fit the model or is malformed; `field` names the option. */
export class SheetInputError extends Error {
  override readonly name = "SheetInputError";
  /** The option at fault (`seeds`, `controls`, `psi`, `labels`, `fromLayer`, `layout`, ...). */
  readonly field: string;
  /** What is wrong, without the option name. */
  readonly detail: string;

  constructor(field: string, detail: string) {
    super(`${field}: ${detail}`);
    this.field = field;
    this.detail = detail;
  }
}

/** Resolves the shared parameters and checks the label names and values against the model. */
export function ResolveSheetParameters(metadata: ModelMetadata, options: SheetCommonOptions, sweepsPsi = false): SheetParameters {
  const labels = options.labels ?? {};
  const problem = LabelValuesProblem(metadata, labels);
  if (problem !== undefined) throw new SheetInputError("labels", problem);
  for (const [field, value] of [["psi", options.psi], ["noiseStrength", options.noiseStrength]] as const) {
    if (value !== undefined && !Number.isFinite(value)) throw new SheetInputError(field, `expected a finite number, got ${value}`);
  }
  return {
    psi: sweepsPsi ? null : (options.psi ?? SheetDefaultPsi),
    noiseStrength: options.noiseStrength ?? metadata.defaults.noiseStrength,
    labels: { ...labels },
  };
}

/** The request of `seed` with the shared parameters (psi taken from `psi` where the sheet sweeps it). */
export function BaseRequest(parameters: SheetParameters, seed: number, psi?: number): FaceRequest {
  const labels = Object.keys(parameters.labels).length > 0 ? { labels: parameters.labels } : {};
  return { seed, psi: psi ?? parameters.psi ?? SheetDefaultPsi, noiseStrength: parameters.noiseStrength, ...labels };
}

/**
 * Checks a plan's shape (every row as long as the block's columns) and every request against the model, so
 * a bad plan fails before anything runs.
 * @throws NpcFacesError BAD_REQUEST naming the tile
 */
export function ValidateSheetPlan(metadata: ModelMetadata, plan: SheetPlan): void {
  plan.blocks.forEach((block, b) => {
    if (block.cells.length !== block.rows.length) throw new RangeError(`block ${b + 1}: ${block.cells.length} rows of cells for ${block.rows.length} row entries`);
    block.cells.forEach((row, r) => {
      if (row.length !== block.columns.length) throw new RangeError(`block ${b + 1}, row ${r + 1}: ${row.length} cells for ${block.columns.length} columns`);
      row.forEach((cell, c) => {
        if (cell !== null) ValidateFaceRequest(metadata, cell, `block ${b + 1}, row ${r + 1}, column ${c + 1}`);
      });
    });
  });
}

/** Checks a seed list: at least one seed. (Seed values are checked by the list parser and the runtime.) */
export function RequireSeeds(field: string, seeds: readonly number[]): void {
  if (seeds.length === 0) throw new SheetInputError(field, "expected at least one seed");
}
