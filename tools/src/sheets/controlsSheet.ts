/**
 * The controls sheet: one block per named control; in each block a row per seed and a column per control
 * value, from the control's min (left) to its max (right). Other controls stay at their defaults. Shows what
 * each slider does, and whether it does the same thing to every face.
 */
import type { ModelControl, ModelMetadata } from "@npc-faces/runtime";
import { FormatIndexRanges } from "../cli/cliFormat.js";
import { BaseRequest, RequireSeeds, ResolveSheetParameters, SheetInputError, type SheetBlock, type SheetCommonOptions, type SheetPlan } from "./sheetPlan.js";

/** Options of {@link PlanControlsSheet}. */
export interface ControlsSheetOptions extends SheetCommonOptions {
  /** Control names, one block each, in this order (default: every control, in metadata order). */
  readonly controls?: readonly string[];
  /** Seeds, one row each (default 0-3). */
  readonly seeds?: readonly number[];
  /** Values per control, min to max inclusive (default 7). */
  readonly steps?: number;
}

/** Most `steps`. */
export const MaxControlSteps = 64;

/** `steps` values from `min` to `max`, both included, evenly spaced (12 significant digits, so 0.1 steps print as 0.1). */
export function ControlValues(min: number, max: number, steps: number): number[] {
  return Array.from({ length: steps }, (_, i) => (i === 0 ? min : i === steps - 1 ? max : Number((min + ((max - min) * i) / (steps - 1)).toPrecision(12))));
}

/** Plans the controls sheet. @throws SheetInputError */
export function PlanControlsSheet(metadata: ModelMetadata, options: ControlsSheetOptions = {}): SheetPlan {
  const parameters = ResolveSheetParameters(metadata, options);
  const known = metadata.controls.map((c) => c.name);
  if (known.length === 0) throw new SheetInputError("controls", `model "${metadata.name}" has no controls`);
  const names = options.controls ?? known;
  if (names.length === 0) throw new SheetInputError("controls", "expected at least one control name");
  const controls: ModelControl[] = names.map((name, i) => {
    const control = metadata.controls.find((c) => c.name === name);
    if (!control) throw new SheetInputError("controls", `unknown control "${name}" (model "${metadata.name}" has: ${known.join(", ")})`);
    if (names.indexOf(name) !== i) throw new SheetInputError("controls", `control "${name}" is listed twice`);
    return control;
  });
  const seeds = options.seeds ?? [0, 1, 2, 3];
  RequireSeeds("seeds", seeds);
  const steps = options.steps ?? 7;
  if (!Number.isInteger(steps) || steps < 2 || steps > MaxControlSteps) throw new SheetInputError("steps", `expected an integer in 2..${MaxControlSteps}, got ${steps}`);
  const blocks = controls.map((control): SheetBlock => {
    const values = ControlValues(control.min, control.max, steps);
    return {
      title: `control ${control.name} (${JSON.stringify(control.label)}, ${control.min}..${control.max}, default ${control.default}, layers ${FormatIndexRanges(control.layers)})`,
      rows: seeds.map((seed) => ({ seed })),
      columns: values.map((value) => ({ [control.name]: value })),
      cells: seeds.map((seed) => values.map((value) => ({ ...BaseRequest(parameters, seed), controls: { [control.name]: value } }))),
    };
  });
  return {
    kind: "controls",
    description: `One block per control, top to bottom: row = seed, column = the control's value from its min (left) to its max (right) in ${steps} even steps; the other controls stay at their defaults.`,
    parameters,
    blocks,
  };
}
