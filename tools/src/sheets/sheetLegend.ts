/**
 * The legend of a sheet: the model (name, SHA-256), the shared parameters, the pixel geometry and, per block,
 * what each row and column is and the exact request of every tile. Written next to the PNG as JSON, stored in
 * the PNG as a text chunk, and summarised on stdout, because the image itself carries no text.
 */
import type { ModelMetadata } from "@npc-faces/runtime";
import type { SheetGeometry } from "./sheetLayout.js";
import { SheetBackground } from "./sheetLayout.js";
import type { SheetAxisEntry, SheetCell, SheetKind, SheetParameters, SheetPlan } from "./sheetPlan.js";

/** Value of {@link SheetLegend.format}. */
export const SheetLegendFormat = "npc-faces-sheet";
/** Value of {@link SheetLegend.version}. */
export const SheetLegendVersion = 1;

/** The legend document (the `.json` next to a sheet, and its PNG's `npc-faces:sheet` chunk). */
export interface SheetLegend {
  readonly format: typeof SheetLegendFormat;
  readonly version: typeof SheetLegendVersion;
  readonly kind: SheetKind;
  /** `npc-faces <version>`. */
  readonly tool: string;
  readonly description: string;
  readonly model: {
    readonly name: string;
    readonly sha256: string;
    readonly resolution: number;
    readonly trained: boolean;
    readonly kimg: number;
    readonly numWs: number;
    /** Label attributes of a conditional model (empty: unconditional). */
    readonly labels: readonly string[];
  };
  readonly parameters: SheetParameters;
  /** The sheet's geometry (without the block origins, which the layout lists) plus how to read it. */
  readonly image: Omit<SheetGeometry, "blocks"> & {
    readonly background: string;
    /** How to find a tile: a formula over the block's x, y. */
    readonly tileOrigin: string;
  };
  readonly blocks: readonly {
    readonly title: string;
    /** Top-left pixel of the block's first tile. */
    readonly x: number;
    readonly y: number;
    readonly rows: readonly SheetAxisEntry[];
    readonly columns: readonly SheetAxisEntry[];
    /** `cells[row][column]`: the face request given to the runtime, or null for an empty tile. */
    readonly cells: readonly (readonly SheetCell[])[];
  }[];
}

/** Builds the legend of a laid-out plan. */
export function MakeSheetLegend(tool: string, metadata: ModelMetadata, modelSha256: string, plan: SheetPlan, geometry: SheetGeometry): SheetLegend {
  return {
    format: SheetLegendFormat,
    version: SheetLegendVersion,
    kind: plan.kind,
    tool,
    description: plan.description,
    model: {
      name: metadata.name,
      sha256: modelSha256,
      resolution: metadata.resolution,
      trained: metadata.provenance.trained,
      kimg: metadata.provenance.kimg,
      numWs: metadata.numWs,
      labels: metadata.labels.map((l) => l.name),
    },
    parameters: plan.parameters,
    image: {
      width: geometry.width,
      height: geometry.height,
      tile: geometry.tile,
      scale: geometry.scale,
      gap: geometry.gap,
      blockGap: geometry.blockGap,
      background: SheetBackground.hex,
      tileOrigin: "tile (row, column) of a block starts at pixel (x + column * (tile + gap), y + row * (tile + gap))",
    },
    blocks: plan.blocks.map((block, b) => ({ title: block.title, ...geometry.blocks[b], rows: block.rows, columns: block.columns, cells: block.cells })),
  };
}

/** JSON with two-space indentation, but any object or array that fits in `width` characters on one line stays on one line. */
export function FormatCompactJson(value: unknown, width = 120, indent = ""): string {
  const flat = JSON.stringify(value);
  if (flat === undefined || value === null || typeof value !== "object" || indent.length + flat.length <= width) return flat ?? "null";
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[\n${value.map((v) => inner + FormatCompactJson(v, width, inner)).join(",\n")}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return "{}";
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${FormatCompactJson(v, width - k.length - 4, inner)}`).join(",\n")}\n${indent}}`;
}

/** The human summary printed by the CLI, one string per line. */
export function FormatSheetLegendLines(legend: SheetLegend): string[] {
  const p = legend.parameters;
  const given = Object.entries(p.labels).map(([k, v]) => `${k}=${v}`);
  const defaulted = legend.model.labels.filter((name) => !(name in p.labels));
  const labels =
    legend.model.labels.length === 0
      ? ""
      : `, labels ${[...given, ...(defaulted.length > 0 ? [`${defaulted.join(", ")} as the model defaults them (drawn per seed, or its default frequencies)`] : [])].join(", ")}`;
  const i = legend.image;
  const lines = [
    `model "${legend.model.name}" sha256 ${legend.model.sha256}${legend.model.trained ? ` (trained, ${legend.model.kimg} kimg)` : " (untrained)"}`,
    `${i.width}x${i.height} px: ${i.tile} px tiles (scale ${i.scale}), ${i.gap} px ${i.background} gaps, ${i.blockGap} px between blocks`,
    `parameters: ${p.psi === null ? "psi per column" : `psi ${p.psi}`}, noise strength ${p.noiseStrength}${labels}`,
    legend.description,
  ];
  legend.blocks.forEach((block, b) => {
    lines.push(`block ${b + 1} at y=${block.y}: ${block.title}`);
    lines.push(`  rows:    ${block.rows.map(FormatAxisEntry).join(" | ")}`);
    lines.push(`  columns: ${block.columns.map(FormatAxisEntry).join(" | ")}`);
  });
  return lines;
}

function FormatAxisEntry(entry: SheetAxisEntry): string {
  return Object.entries(entry)
    .map(([k, v]) => (k === "shows" ? String(v) : `${k} ${String(v)}`))
    .join(", ");
}
