/**
 * The truncation sheet: a row per seed, a column per psi (default 1 down to 0.5). Shows how truncation trades
 * variety for typical, cleaner faces: psi 1 is the face as sampled, psi 0 the average face.
 */
import type { ModelMetadata } from "@npc-faces/runtime";
import { BaseRequest, RequireSeeds, ResolveSheetParameters, SheetInputError, type SheetCommonOptions, type SheetPlan } from "./sheetPlan.js";

/** Options of {@link PlanTruncationSheet} (`psi` of the common options is swept, so it is not taken). */
export interface TruncationSheetOptions extends Omit<SheetCommonOptions, "psi"> {
  /** Seeds, one row each (default 0-7). */
  readonly seeds?: readonly number[];
  /** Psi values, one column each, in this order (default 1, 0.9, ..., 0.5); each in 0..1. */
  readonly psis?: readonly number[];
}

/** Default columns of the truncation sheet. */
export const DefaultTruncationPsis: readonly number[] = [1, 0.9, 0.8, 0.7, 0.6, 0.5];

/** Plans the truncation sheet. @throws SheetInputError */
export function PlanTruncationSheet(metadata: ModelMetadata, options: TruncationSheetOptions = {}): SheetPlan {
  const parameters = ResolveSheetParameters(metadata, options, true);
  const seeds = options.seeds ?? [0, 1, 2, 3, 4, 5, 6, 7];
  RequireSeeds("seeds", seeds);
  const psis = options.psis ?? DefaultTruncationPsis;
  if (psis.length === 0) throw new SheetInputError("psi", "expected at least one psi value");
  for (const psi of psis) {
    if (!Number.isFinite(psi) || psi < 0 || psi > 1) throw new SheetInputError("psi", `expected values in 0..1 (1 = as sampled, 0 = the average face), got ${psi}`);
  }
  return {
    kind: "truncation",
    description: "Row = seed, column = truncation psi (1 = the face as sampled, 0 = the model's average face).",
    parameters,
    blocks: [
      {
        title: `truncation psi ${psis.join(", ")}`,
        rows: seeds.map((seed) => ({ seed })),
        columns: psis.map((psi) => ({ psi })),
        cells: seeds.map((seed) => psis.map((psi) => BaseRequest(parameters, seed, psi))),
      },
    ],
  };
}
