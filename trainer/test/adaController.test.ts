/** ADA's p controller: direction, speed, interval, clamping, checkpoint round trip; the loop-facing adapter. */
import { describe, expect, it } from "vitest";
import { AdaAugmentation } from "../src/augment/adaAugmentation.js";
import { AdaController } from "../src/augment/adaController.js";

describe("AdaController", () => {
  it("raises p when the mean sign of D(real) exceeds the target and lowers it below", () => {
    const c = new AdaController({ p: 0.5 });
    for (let i = 0; i < 4; i++) c.update(8 * 0.9, 8); // r_t = 0.9 > 0.6
    expect(c.signMean).toBeCloseTo(0.9, 12);
    expect(c.p).toBeCloseTo(0.5 + 32 / 500_000, 12);
    const up = c.p;
    for (let i = 0; i < 4; i++) c.update([1, -1, -1, -1, 1, -1, 1, -1]); // r_t = -0.25 < 0.6
    expect(c.p).toBeCloseTo(up - 32 / 500_000, 12);
  });

  it("adjusts only every `interval` minibatches and not at all on target", () => {
    const c = new AdaController({ p: 0.2, interval: 4 });
    expect(c.update(8, 8)).toBe(false);
    expect(c.update(8, 8)).toBe(false);
    expect(c.update(8, 8)).toBe(false);
    expect(c.p).toBe(0.2);
    expect(c.update(8, 8)).toBe(true);
    expect(c.p).toBeGreaterThan(0.2);
    const atTarget = new AdaController({ p: 0.2, target: 0.5, interval: 1 });
    atTarget.update(2, 4);
    expect(atTarget.p).toBe(0.2);
  });

  it("goes from 0 to 1 in adjustImages real images, clamped to 0..1", () => {
    const c = new AdaController({ adjustImages: 1000, interval: 1 });
    for (let i = 0; i < 99; i++) c.update(10, 10);
    expect(c.p).toBeCloseTo(0.99, 9);
    for (let i = 0; i < 5; i++) c.update(10, 10);
    expect(c.p).toBe(1);
    for (let i = 0; i < 150; i++) c.update(-10, 10);
    expect(c.p).toBe(0);
  });

  it("keeps p fixed with adjustImages null", () => {
    const c = new AdaController({ p: 0.3, adjustImages: null, interval: 1 });
    c.update(10, 10);
    expect(c.p).toBe(0.3);
    expect(c.signMean).toBe(1);
  });

  it("round-trips its state mid-interval through JSON", () => {
    const a = new AdaController({ p: 0.1 });
    a.update(6, 8);
    a.update(7, 8);
    const b = AdaController.fromJSON(JSON.parse(JSON.stringify(a.toJSON())));
    for (const c of [a, b]) {
      c.update(8, 8);
      c.update(8, 8);
    }
    expect(b.toJSON()).toEqual(a.toJSON());
    expect(b.p).toBeGreaterThan(0.1);
    expect(a.describe()).toMatch(/^ada p=0\.100 rt=0\.91$/);
  });

  it("rejects bad options and inputs", () => {
    expect(() => new AdaController({ p: 1.5 })).toThrow(/p/);
    expect(() => new AdaController({ interval: 0 })).toThrow(/interval/);
    expect(() => new AdaController().update(3)).toThrow(/batchSize/);
    expect(() => new AdaController().update(Number.NaN, 4)).toThrow(/bad minibatch/);
  });
});

describe("AdaAugmentation", () => {
  it("exposes p, updates it, and restores from its JSON", () => {
    const ada = AdaAugmentation.Create("bgc", { interval: 1, adjustImages: 100 });
    ada.update(8, 8);
    expect(ada.p).toBeCloseTo(0.08, 12);
    const back = AdaAugmentation.fromJSON(JSON.parse(JSON.stringify(ada.toJSON())));
    expect(back.p).toBe(ada.p);
    expect(back.pipe.spec).toEqual(ada.pipe.spec);
    expect(back.describe()).toBe("ada p=0.080 rt=1.00");
    // A resume that changes the target: the controller holds the new one, p carries over.
    const retargeted = AdaAugmentation.fromJSON(ada.toJSON(), 0.9);
    expect([retargeted.p, retargeted.toJSON().controller.target, back.toJSON().controller.target]).toEqual([ada.p, 0.9, 0.6]);
  });
});
