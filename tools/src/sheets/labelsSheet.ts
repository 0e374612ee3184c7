/**
 * The labels sheet of a conditional model: one block per categorical label attribute (eyes, mouth, hair style, …);
 * in each block a row per seed and a column per value of the attribute, in the model's order. Shows whether every
 * style the model was conditioned on is drawn when asked for, and for every seed (issue 15's sheet of one face per
 * eye and mouth style). Attributes not shown keep the sheet's `--label` values or are drawn per seed.
 *
 * A value is reached by label (the request sets it: the generator is conditioned on it) or by control (the seed
 * keeps its own labels and the value's label control, e.g. `label_eyes_female12`, is at its maximum: what a slider
 * in the seed editor or a material parameter reaches).
 */
import type { ModelLabel, ModelMetadata } from "@npc-faces/runtime";
import { BaseRequest, RequireSeeds, ResolveSheetParameters, SheetInputError, type SheetBlock, type SheetCommonOptions, type SheetPlan } from "./sheetPlan.js";

/** Options of {@link PlanLabelsSheet}. */
export interface LabelsSheetOptions extends SheetCommonOptions {
  /** Categorical attributes, one block each, in this order (default: every attribute with two or more values). */
  readonly attributes?: readonly string[];
  /** Seeds, one row each (default 0-3). */
  readonly seeds?: readonly number[];
  /** How each value is reached: set as the face's label (default) or by its label control at its maximum. */
  readonly by?: "label" | "control";
}

/** Whether an attribute is categorical (one-hot over named values), the kind a labels sheet sweeps. */
function IsCategorical(label: ModelLabel): boolean {
  return label.values.length >= 2;
}

/** Plans the labels sheet. @throws SheetInputError */
export function PlanLabelsSheet(metadata: ModelMetadata, options: LabelsSheetOptions = {}): SheetPlan {
  const parameters = ResolveSheetParameters(metadata, options);
  const categorical = metadata.labels.filter(IsCategorical);
  if (categorical.length === 0) {
    const why = metadata.labels.length === 0 ? "is not conditional" : `has no categorical label (its labels are numeric: ${metadata.labels.map((l) => l.name).join(", ")}; sweep them with the controls sheet)`;
    throw new SheetInputError("attributes", `model "${metadata.name}" ${why}`);
  }
  const names = options.attributes ?? categorical.map((l) => l.name);
  if (names.length === 0) throw new SheetInputError("attributes", "expected at least one attribute name");
  const attributes = names.map((name, i): ModelLabel => {
    const label = metadata.labels.find((l) => l.name === name);
    if (!label) throw new SheetInputError("attributes", `unknown attribute "${name}" (model "${metadata.name}" has: ${categorical.map((l) => l.name).join(", ")})`);
    if (!IsCategorical(label)) throw new SheetInputError("attributes", `"${name}" is a numeric label, not categorical: sweep it with the controls sheet (its control is listed by \`npc-faces info\`)`);
    if (names.indexOf(name) !== i) throw new SheetInputError("attributes", `attribute "${name}" is listed twice`);
    if (name in parameters.labels) throw new SheetInputError("attributes", `attribute "${name}" is also fixed by --label ${name}=${parameters.labels[name]}: a sheet either sweeps it or fixes it`);
    return label;
  });
  const seeds = options.seeds ?? [0, 1, 2, 3];
  RequireSeeds("seeds", seeds);
  const byControl = options.by === "control";
  const blocks = attributes.map((label): SheetBlock => {
    // By control: the value's label control (its `label` is the column "attribute=value"), at its maximum.
    const controls = byControl
      ? label.values.map((value) => {
          const control = metadata.controls.find((c) => c.kind === "label" && c.label === `${label.name}=${value}`);
          if (!control) throw new SheetInputError("by", `model "${metadata.name}" has no label control for ${label.name}=${value}`);
          return control;
        })
      : [];
    return {
      title: `${byControl ? "control" : "label"} ${label.name} (${label.values.length} values)`,
      rows: seeds.map((seed) => ({ seed })),
      columns: label.values.map((value) => ({ [label.name]: value })),
      cells: seeds.map((seed) =>
        label.values.map((value, v) => {
          const base = BaseRequest(parameters, seed);
          if (byControl) return { ...base, controls: { [controls[v].name]: controls[v].max } };
          return { ...base, labels: { ...base.labels, [label.name]: value } };
        }),
      ),
    };
  });
  const reached = byControl ? "reached by its label control at its maximum (the seed keeps its own labels)" : "set as the face's label";
  return {
    kind: "labels",
    description: `One block per categorical label attribute, top to bottom: row = seed, column = the attribute's value, in the model's order, ${reached}; the other labels keep the sheet's --label values or are drawn per seed.`,
    parameters,
    blocks,
  };
}
