/**
 * The style-mixing sheet (StyleGAN's figure): the top row shows the column seeds' own faces, the left column
 * the row seeds' own faces, and each inner tile breeds the two: style layers below the crossover (coarse:
 * pose, face shape) come from the row seed, the layers from the crossover up (finer: features, colours) from
 * the column seed. One block per crossover. The runtime's request is `{ seed: row, mixSeed: column,
 * mixCrossover: layer }`, so the per-layer noise is the row seed's.
 */
import type { ModelMetadata } from "@npc-faces/runtime";
import { BaseRequest, RequireSeeds, ResolveSheetParameters, SheetInputError, type SheetBlock, type SheetCell, type SheetCommonOptions, type SheetPlan } from "./sheetPlan.js";

/** Options of {@link PlanMixingSheet}. */
export interface MixingSheetOptions extends SheetCommonOptions {
  /** Seeds giving the coarse styles, one row each (default 0-4). */
  readonly rows?: readonly number[];
  /** Seeds giving the fine styles, one column each (default 5-9). */
  readonly columns?: readonly number[];
  /** Crossover layers, one block each (default {@link DefaultCrossovers}). */
  readonly fromLayers?: readonly number[];
}

/**
 * StyleGAN's coarse / middle / fine split: the first style layers of the 16x16 and of the 64x64 synthesis
 * blocks (w index i drives conv i, whose resolution is `noiseResolutions[i]`), where those exist inside
 * 1..numWs-1; half of the layers for a model too small to have either.
 */
export function DefaultCrossovers(metadata: ModelMetadata): number[] {
  const starts = [16, 64].map((r) => metadata.noiseResolutions.findIndex((res) => res >= r)).filter((i) => i >= 1 && i < metadata.numWs);
  const unique = [...new Set(starts)];
  return unique.length > 0 ? unique : [Math.max(1, Math.floor(metadata.numWs / 2))];
}

/** Plans the mixing sheet. @throws SheetInputError */
export function PlanMixingSheet(metadata: ModelMetadata, options: MixingSheetOptions = {}): SheetPlan {
  const parameters = ResolveSheetParameters(metadata, options);
  const rowSeeds = options.rows ?? [0, 1, 2, 3, 4];
  const columnSeeds = options.columns ?? [5, 6, 7, 8, 9];
  RequireSeeds("rows", rowSeeds);
  RequireSeeds("columns", columnSeeds);
  const layers = options.fromLayers ?? DefaultCrossovers(metadata);
  if (layers.length === 0) throw new SheetInputError("fromLayer", "expected at least one layer");
  for (const layer of layers) {
    // 0 would take every layer from the column seed, numWs none: neither mixes.
    if (!Number.isInteger(layer) || layer < 1 || layer >= metadata.numWs) {
      throw new SheetInputError("fromLayer", `expected style layers in 1..${metadata.numWs - 1} (model "${metadata.name}" has ${metadata.numWs} style layers), got ${layer}`);
    }
  }
  if (new Set(layers).size !== layers.length) throw new SheetInputError("fromLayer", "a layer is listed twice");
  const blocks = layers.map((layer): SheetBlock => {
    const header: SheetCell[] = [null, ...columnSeeds.map((seed) => BaseRequest(parameters, seed))];
    const body = rowSeeds.map((row): SheetCell[] => [
      BaseRequest(parameters, row),
      ...columnSeeds.map((column): SheetCell => ({ ...BaseRequest(parameters, row), mixSeed: column, mixCrossover: layer })),
    ]);
    return {
      title: `mixing from layer ${layer}: layers 0-${layer - 1} from the row seed, ${layer}-${metadata.numWs - 1} from the column seed`,
      rows: [{ shows: "the column seeds' own faces" }, ...rowSeeds.map((seed) => ({ seed }))],
      columns: [{ shows: "the row seeds' own faces" }, ...columnSeeds.map((seed) => ({ seed }))],
      cells: [header, ...body],
    };
  });
  return {
    kind: "mixing",
    description:
      "One block per crossover layer. Top row: the column seeds' faces; left column: the row seeds' faces (top-left tile empty). " +
      "Inner tile (row seed R, column seed C): style layers below the crossover (coarse: pose, face shape) from R, the layers from the crossover up (finer) from C; noise from R.",
    parameters,
    blocks,
  };
}
