/**
 * Acceptance test of the bundled default model (models/default.onnx, npc64wide, conditional on facesjs labels):
 * every named label control changes its attribute in the right direction for most seeds, and most of the per-style
 * controls (one per eye, mouth, hair style and accessory) draw their style. The attributes are
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
/** The named label controls the default model must have, each judged on its own. */
const ExpectedControls = ["label_skin_tone", "label_hair_lightness", "label_facial_hair", "label_glasses", "label_hat", "label_gender_male", "label_gender_female"];
/** Its style attributes: one label control per value (e.g. `label_eyes_female12`), judged together (see below). */
const StyleAttributes = { eyes: 35, mouth: 17, hair_style: 51, accessory: 8 };
/**
 * Share of the style controls that must move their value's probe the right way on two thirds of the seeds. A style
 * is one of 17-51 shapes drawn in a few pixels, so its one-column probe (16x16 pixels, fitted on this small set)
 * reads it weakly and some controls fail on the probe's account; a control that did nothing would pass on about
 * one seed in two, and pass the two-thirds bar rarely. Measured with today's default (npc64fine, G_ema averaged over
 * 968-1024 kimg): 96 of 111 (86%) here (eye, mouth and hair styles 91 of 103, accessories 5 of 8), and 98 of 111 with
 * the model card's `control-check` (4,000 probe images of data/facesjs64); the 992-kimg default: 89 of 111 here, the
 * 968's 93, the 888's 88.
 */
const MinStyleFraction = 0.75;
const Seeds = Array.from({ length: 32 }, (_, i) => i);
/** Controls judged by their direct measurement instead of their probe (see the file comment). */
const DirectlyJudged = ["label_glasses", "label_facial_hair"];
/**
 * Share of seeds each control must move the right way: "most seeds" (the words), here two thirds. The
 * weakest controls here (today's default) are label_facial_hair judged by the mouth area (72% of seeds; by its probe
 * 91%) and label_gender_male (81%); the others move the right way on 88% or more (skin tone by the cheeks 88%, by its
 * probe 94%), glasses by the bridge (see the model card).
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
  for (const row of NamedRows()) {
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

/** The report's rows of {@link ExpectedControls}. */
function NamedRows(): ControlCheckReport["controls"] {
  return report.controls.filter((c) => ExpectedControls.includes(c.control));
}

/** Correlation of a column's direct measurement with its label on the held-out faces. */
function Agreement(column: string): number {
  return report.directQuality.find((d) => d.column === column)!.r;
}

describe("default model: label controls", () => {
  it("has every label control: the named ones, then one per eye, mouth, hair style and accessory", () => {
    expect(report.controls.slice(0, ExpectedControls.length).map((c) => c.control)).toEqual(ExpectedControls);
    const styles = report.controls.slice(ExpectedControls.length);
    for (const [attribute, count] of Object.entries(StyleAttributes)) expect(styles.filter((c) => c.column.startsWith(`${attribute}=`)), attribute).toHaveLength(count);
    expect(styles).toHaveLength(Object.values(StyleAttributes).reduce((a, b) => a + b));
  });

  it("the probes of the named controls measure their attributes on held-out faces", () => {
    for (const row of NamedRows()) {
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

  it("most eye, mouth, hair style and accessory controls move their style's probe the right way for at least two thirds of 32 seeds", () => {
    const styles = report.controls.filter((c) => !ExpectedControls.includes(c.control));
    const passing = styles.filter((c) => c.movement.fraction >= MinFraction);
    const failing = styles.filter((c) => c.movement.fraction < MinFraction).map((c) => `${c.control} ${c.movement.movedRight}/32`);
    console.log(`style controls moving their probe the right way on 2/3 of the seeds: ${passing.length} of ${styles.length}; the others: ${failing.join(", ")}`);
    expect(passing.length / styles.length, `failing: ${failing.join(", ")}`).toBeGreaterThanOrEqual(MinStyleFraction);
  });
});
