/**
 * A face's label vector from a conditional model's `labelTable` (docs/model-format.md): the seed's own row,
 * whatever the request sets, so that setting one attribute (`eyes: "eye5"`) keeps the face's other attributes and,
 * with them, the person; only attributes that the data never shows with a value the request sets follow it.
 */
import type { ModelLabel, ModelMetadata } from "./modelMetadata.js";

/** An attribute value the request sets: [attribute, value index]. */
export type ChosenLabel = readonly [ModelLabel, number];

/**
 * A pair absent from the table counts as a conflict only where independence would have put at least this many rows
 * on it: with 512 rows, `gender: female` and a beard (expected ~80) or a male-only eye style (~7) conflict, while an
 * eye style and a hair style that merely never met in the table (expected ~0.3) do not.
 */
const MinExpectedRows = 3;

/** Per row, each categorical attribute's value: the index of its one-hot 1 (−1: none), or a yes/no column's value. */
interface TableValues {
  readonly attributes: readonly ModelLabel[];
  readonly rows: readonly Int32Array[];
}

const Cache = new WeakMap<ModelMetadata, TableValues>();

/**
 * The label vector (before the request's own values are written over it) of the face of `u` (the first uniform of the
 * seed's label stream): row floor(u·n) of the n rows. A categorical attribute of that row that conflicts with a value
 * in `chosen` (the table holds no row with both, where ≥ {@link MinExpectedRows} were to be expected) is taken from
 * row floor(u·k) of the k rows that agree with every value in `chosen` (the row an agreeing draw would pick), and so
 * on for what conflicts with the values taken: female eyes on a man's row bring a woman's gender, and with it her
 * hair style where his is a man's.
 */
export function LabelTableRow(metadata: ModelMetadata, table: readonly (readonly number[])[], u: number, chosen: readonly ChosenLabel[]): Float32Array {
  const ownIndex = Math.floor(u * table.length);
  const label = Float32Array.from(table[ownIndex]);
  if (chosen.length === 0) return label;
  const { attributes, rows } = TableValuesOf(metadata, table);
  const own = rows[ownIndex];
  // A yes/no attribute's one value (index 0) is the column set to 1.
  const fixed = chosen.map(([attribute, index]) => [attributes.indexOf(attribute), attribute.values.length > 1 ? index : 1] as const);
  const agreeing = rows.map((_, r) => r).filter((r) => fixed.every(([s, value]) => rows[r][s] === value));
  if (agreeing.length === 0) return label;
  const donorIndex = agreeing[Math.floor(u * agreeing.length)];
  const donor = rows[donorIndex];
  for (let changed = true; changed; ) {
    changed = false;
    for (let slot = 0; slot < attributes.length; slot++) {
      if (fixed.some(([s]) => s === slot) || !fixed.some(([s, value]) => Conflicts(rows, s, value, slot, own[slot]))) continue;
      fixed.push([slot, donor[slot]]);
      const { offset, values } = attributes[slot];
      label.set(table[donorIndex].slice(offset, offset + values.length), offset);
      changed = true;
    }
  }
  return label;
}

/** True when no row has value `a` of slot `s` and value `b` of slot `t`, though ≥ MinExpectedRows were to be expected. */
function Conflicts(rows: readonly Int32Array[], s: number, a: number, t: number, b: number): boolean {
  let withA = 0;
  let withB = 0;
  for (const values of rows) {
    const hasA = values[s] === a;
    const hasB = values[t] === b;
    if (hasA && hasB) return false;
    if (hasA) withA++;
    if (hasB) withB++;
  }
  return (withA * withB) / rows.length >= MinExpectedRows;
}

/** The categorical attributes' values per row (scalars, a face's own skin tone say, never conflict), once per model. */
function TableValuesOf(metadata: ModelMetadata, table: readonly (readonly number[])[]): TableValues {
  const cached = Cache.get(metadata);
  if (cached) return cached;
  const attributes = metadata.labels.filter(IsCategorical);
  const rows = table.map((row) =>
    Int32Array.from(attributes, (a) => (a.values.length > 1 ? a.values.findIndex((_, j) => row[a.offset + j] === 1) : row[a.offset])),
  );
  const values = { attributes, rows };
  Cache.set(metadata, values);
  return values;
}

/** True for one-hot groups and yes/no attributes (a table row either has the value or not), false for scalars. */
function IsCategorical(attribute: ModelLabel): boolean {
  return attribute.values.length > 1 || attribute.sampling === "bernoulli";
}
