/**
 * Acceptance test of the bundled default model (models/default.onnx, npc64, conditional on facesjs labels):
 * every named label control changes its attribute in the right direction for most seeds. The attributes are
 * measured with linear probes fitted on a fresh facesjs data set (same source as the training data, new draws,
 * built here in a few seconds) and scored on its held-out images, so each probe is shown to measure its
 * attribute before it judges a control; skin tone is also measured directly (cheek lightness).
 *
 * Glasses and facial hair are judged by direct measurements instead of their probes: the model draws glasses and
 * beards softer than facesjs's crisp lines (models/sheets/controls.png), which the probes, fitted on those lines,
 * can misread (at 40 kimg the glasses probe read the soft band the wrong way; facial hair barely moves it). Each
 * measurement is how much darker a region is than the cheeks — the nose bridge at eye height (a frame's bridge
 * crosses it), the mouth surroundings (beard, moustache); see tools/src/evaluation/directMeasures.ts — and is
 * first shown to rise with its label on the held-out images. The model card reports the probes' verdicts for
 * these two controls as well.
 */
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FaceGenerator } from "@npc-faces/runtime";
import { LoadFaceGeneratorFileAsync } from "@npc-faces/runtime/node";
import { BuildDatasetAsync, CheckControlDirectionsAsync, OpenDatasetAsync, type ControlCheckReport } from "@npc-faces/tools";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";

const ModelPath = fileURLToPath(new URL("../../models/default.onnx", import.meta.url));
/** The label controls the default model must have (one per label column it was trained on). */
const ExpectedControls = ["label_skin_tone", "label_hair_lightness", "label_facial_hair", "label_glasses", "label_hat", "label_gender_male", "label_gender_female"];
const Seeds = Array.from({ length: 32 }, (_, i) => i);
/** Controls judged by their direct measurement instead of their probe (see the file comment). */
const DirectlyJudged = ["label_glasses", "label_facial_hair"];
/**
 * Share of seeds each control must move the right way: "most seeds" (the words), here two thirds. The
 * weakest control, facial hair, moves the right way on about 72% of seeds (its effect is subtle inside -1..1 and
 * clear beyond it; see the model card); the others on 88% or more.
 */
const MinFraction = 2 / 3;

let folder: string;
let generator: FaceGenerator;
let report: ControlCheckReport;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "npc-faces-default-controls-"));
  // Seed 2026: not the training set's draws (seed 0); 10% held out to score the probes and the direct measurements.
  await BuildDatasetAsync({ source: "facesjs", count: 2000, res: 64, seed: 2026, holdout: 0.1, out: join(folder, "data") });
  const dataset = await OpenDatasetAsync(join(folder, "data"));
  generator = await LoadFaceGeneratorFileAsync(ModelPath);
  try {
    report = await CheckControlDirectionsAsync({ generator, dataset, seeds: Seeds });
  } finally {
    await dataset.CloseAsync();
  }
  const percent = (x: number) => `${Math.round(x * 100)}%`;
  for (const row of report.controls) {
    const q = row.probe;
    const quality = q.binary ? `acc ${q.accuracy!.toFixed(2)} (base ${q.baseline!.toFixed(2)})` : `r ${q.r.toFixed(2)}`;
    const direct = row.direct ? `, ${row.direct.measure} ${percent(row.direct.movement.fraction)} (r ${Agreement(row.column).toFixed(2)})` : "";
    console.log(`${row.control.padEnd(22)} probe ${quality.padEnd(22)} right way ${percent(row.movement.fraction).padStart(4)}${direct}`);
  }
}, 600_000);
afterAll(async () => {
  await generator?.disposeAsync();
  if (folder) await rm(folder, { recursive: true, force: true });
});

/** Correlation of a column's direct measurement with its label on the held-out faces. */
function Agreement(column: string): number {
  return report.directQuality.find((d) => d.column === column)!.r;
}

describe("default model: label controls", () => {
  it("has every label control", () => {
    expect(report.controls.map((c) => c.control)).toEqual(ExpectedControls);
  });

  it("the probes measure their attributes on held-out faces", () => {
    for (const row of report.controls) {
      if (row.probe.binary) expect(row.probe.accuracy!, row.column).toBeGreaterThan(row.probe.baseline! + 0.02);
      else expect(row.probe.r, row.column).toBeGreaterThan(0.8);
    }
    expect(Agreement("skin_tone")).toBeGreaterThan(0.98);
  });

  it.each(DirectlyJudged)("%s: the direct measurement rises with its label on held-out faces, and the control moves it the right way for at least two thirds of 32 seeds", (control) => {
    const row = report.controls.find((c) => c.control === control)!;
    expect(Agreement(row.column)).toBeGreaterThan(0.2);
    expect(row.direct!.movement.fraction, `${control}: ${row.direct!.movement.movedRight}/32 seeds`).toBeGreaterThanOrEqual(MinFraction);
  });

  it.each(ExpectedControls.filter((c) => !DirectlyJudged.includes(c)))("%s moves its attribute the right way for at least two thirds of 32 seeds", (control) => {
    const row = report.controls.find((c) => c.control === control)!;
    expect(row.movement.fraction, `${control}: ${row.movement.movedRight}/32 seeds, mean change ${row.movement.meanChange.toFixed(3)}`).toBeGreaterThanOrEqual(MinFraction);
    if (row.direct) expect(row.direct.movement.fraction, `${control} (${row.direct.measure}): ${row.direct.movement.movedRight}/32 seeds`).toBeGreaterThanOrEqual(MinFraction);
  });
});
