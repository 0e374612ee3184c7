/**
 * The seeds sheet: one face per seed, in reading order (left to right, then down), all with the same
 * parameters. The first look at a model: how varied and how good its faces are.
 */
import type { ModelMetadata } from "@npc-faces/runtime";
import { FormatSeedList } from "../bake/seedList.js";
import { BaseRequest, RequireSeeds, ResolveSheetParameters, SheetInputError, type SheetCell, type SheetCommonOptions, type SheetPlan } from "./sheetPlan.js";

/** Options of {@link PlanSeedsSheet}. */
export interface SeedsSheetOptions extends SheetCommonOptions {
  /** The seeds, in reading order (default 0-63). */
  readonly seeds?: readonly number[];
  /** Tiles per row (default 8; fewer when there are fewer seeds). */
  readonly columns?: number;
}

/** Default seeds of the seeds sheet: 0-63. */
export const DefaultSheetSeeds: readonly number[] = Array.from({ length: 64 }, (_, i) => i);

/** Plans the seeds sheet. @throws SheetInputError */
export function PlanSeedsSheet(metadata: ModelMetadata, options: SeedsSheetOptions = {}): SheetPlan {
  const parameters = ResolveSheetParameters(metadata, options);
  const seeds = options.seeds ?? DefaultSheetSeeds;
  RequireSeeds("seeds", seeds);
  const wanted = options.columns ?? 8;
  if (!Number.isInteger(wanted) || wanted < 1) throw new SheetInputError("columns", `expected a positive integer, got ${wanted}`);
  const columns = Math.min(wanted, seeds.length);
  const rowCount = Math.ceil(seeds.length / columns);
  const rows = Array.from({ length: rowCount }, (_, r) => seeds.slice(r * columns, (r + 1) * columns));
  return {
    kind: "seeds",
    description: `One face per seed in reading order: row r, column c shows seed number r * ${columns} + c of the list (rows' seeds below); empty tiles after the last seed.`,
    parameters,
    blocks: [
      {
        title: `seeds ${FormatSeedList(seeds)}`,
        rows: rows.map((row) => ({ seeds: FormatSeedList(row) })),
        columns: Array.from({ length: columns }, (_, c) => ({ column: c })),
        cells: rows.map((row) => Array.from({ length: columns }, (_, c): SheetCell => (c < row.length ? BaseRequest(parameters, row[c]) : null))),
      },
    ],
  };
}
