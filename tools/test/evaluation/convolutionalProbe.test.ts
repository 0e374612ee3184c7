/**
 * The convolutional attribute probe on synthetic images whose answer is known: three shapes drawn anywhere within a
 * few pixels of the centre. The ridge probe on pixels is a template matcher; this one must read a shape wherever it
 * sits, keep reading it after its stored form is read back, and leave out images without a label.
 */
import { InitializeTfjsBackendAsync } from "@npc-faces/trainer";
import { beforeAll, describe, expect, it } from "vitest";
import { ClassificationAccuracy, ClassifyRows, FitAttributeClassifiers } from "../../src/evaluation/attributeClassifier.js";
import { ConvolutionalProbe } from "../../src/evaluation/convolutionalProbe.js";

const Side = 16;
const Shapes = ["square", "ring", "plus"];

/** `count` images (Side², RGB floats) of shape `classes[i]` at offsets up to ±`jitter` px from the centre, on faint noise. */
function ShapeImages(classes: readonly number[], jitter: number, seed: number): Float32Array {
  let state = seed;
  const random = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const out = new Float32Array(classes.length * Side * Side * 3);
  classes.forEach((shape, i) => {
    const cx = 8 + Math.floor(random() * (2 * jitter + 1)) - jitter;
    const cy = 8 + Math.floor(random() * (2 * jitter + 1)) - jitter;
    for (let y = 0; y < Side; y++) {
      for (let x = 0; x < Side; x++) {
        const dx = x - cx;
        const dy = y - cy;
        const inside = Math.max(Math.abs(dx), Math.abs(dy)) <= 2;
        const on = shape === 0 ? inside : shape === 1 ? inside && Math.max(Math.abs(dx), Math.abs(dy)) === 2 : (dx === 0 && Math.abs(dy) <= 3) || (dy === 0 && Math.abs(dx) <= 3);
        for (let c = 0; c < 3; c++) out[((i * Side + y) * Side + x) * 3 + c] = (on ? 0.9 : 0.1) + 0.05 * random();
      }
    }
  });
  return out;
}

beforeAll(async () => {
  await InitializeTfjsBackendAsync("wasm");
});

describe("ConvolutionalProbe", () => {
  const trainClasses = Array.from({ length: 240 }, (_, i) => i % 3);
  const testClasses = Array.from({ length: 90 }, (_, i) => (i * 7) % 3);
  // Trained on shapes within ±1 px of the centre; tested on shapes up to ±3 px away, where a template no longer fits.
  const trainImages = ShapeImages(trainClasses, 1, 1);
  const testImages = ShapeImages(testClasses, 3, 2);
  const attributes = [
    { name: "shape", classes: Shapes, labels: Int32Array.from(trainClasses) },
    { name: "unlabelled", classes: ["a", "b"], labels: new Int32Array(trainClasses.length).fill(-1) },
  ];

  it("reads shapes that moved further than it saw them move; the ridge probe on pixels does not; its stored form reads the same", async () => {
    const probe = await ConvolutionalProbe.FitAsync(trainImages, trainClasses.length, Side, attributes, { epochs: 10, seed: 3 });
    const [shape, unlabelled] = await probe.classifyAsync(testImages, testClasses.length);
    const accuracy = ClassificationAccuracy(shape, testClasses);
    expect(accuracy).toBeGreaterThan(0.9);
    expect(unlabelled).toHaveLength(testClasses.length);

    const ridge = FitAttributeClassifiers(trainImages, Side * Side * 3, [attributes[0]])[0];
    expect(ClassificationAccuracy(ClassifyRows(ridge, testImages), testClasses)).toBeLessThan(accuracy - 0.1);

    const stored = await probe.toJSONAsync();
    const read = ConvolutionalProbe.FromJSON(JSON.parse(JSON.stringify(stored)) as typeof stored, attributes);
    expect(await read.classifyAsync(testImages, testClasses.length)).toEqual([shape, unlabelled]);
    // Repeatable: the same seed fits the same weights.
    const again = await ConvolutionalProbe.FitAsync(trainImages, trainClasses.length, Side, attributes, { epochs: 10, seed: 3 });
    expect((await again.toJSONAsync()).weights).toBe(stored.weights);
    for (const p of [probe, read, again]) p.dispose();
  }, 120_000);

  it("refuses images or labels of the wrong size, and stored weights of the wrong length", async () => {
    await expect(ConvolutionalProbe.FitAsync(trainImages, trainClasses.length + 1, Side, attributes)).rejects.toThrow(/values for 241 images of 16×16×3/);
    await expect(ConvolutionalProbe.FitAsync(trainImages, trainClasses.length, Side, [{ name: "shape", classes: Shapes, labels: new Int32Array(3) }])).rejects.toThrow(/attribute shape needs one label per training image/);
    expect(() => ConvolutionalProbe.FromJSON({ side: Side, weights: "AAAA" }, attributes)).toThrow(/probe weights: 3 bytes, expected \d+/);
  });
});
