/**
 * The onnxruntime engine's WebAssembly Adam and EMA give the same bits as the plain-array functions of the tfjs
 * engine's files (odd lengths included: the kernels take values in pairs).
 */
import { describe, expect, it } from "vitest";
import { OptimizerMemory } from "../../src/ortTraining/optimizerKernels.js";
import { AdamUpdateArrays } from "../../src/training/adam.js";
import { UpdateEmaArrays } from "../../src/training/ema.js";

function Values(n: number, seed: number, scale: number, positive = false): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => {
    const x = Math.sin(i * 12.9898 + seed * 78.233) * 43758.5453;
    const r = (x - Math.floor(x)) * 2 - 1;
    return (positive ? Math.abs(r) : r) * scale;
  });
}

function Bits(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

describe("optimizer kernels", () => {
  it("update Adam and the EMA bit for bit as AdamUpdateArrays and UpdateEmaArrays", () => {
    for (const n of [1, 2, 7, 1000]) {
      const memory = new OptimizerMemory([n, n, n, n, n]);
      const [p, g, m, v, e] = [0, 1, 2, 3, 4].map(() => memory.alloc(n));
      p.set(Values(n, 1, 1));
      m.set(Values(n, 3, 1e-3));
      v.set(Values(n, 4, 1e-6, true));
      e.set(Values(n, 5, 1));
      const [p2, m2, v2, e2] = [p, m, v, e].map((a) => Float32Array.from(a));
      const settings = { learningRate: 0.0025, beta1: 0.1, beta2: 0.99, epsilon: 1e-8 };
      for (let step = 1; step <= 3; step++) {
        g.set(Values(n, 10 + step, 1e-2));
        memory.adam(p, g, m, v, settings, step);
        AdamUpdateArrays(p2, Float32Array.from(g), m2, v2, settings, step);
        memory.ema(e, p, 0.97);
        UpdateEmaArrays(e2, p2, 0.97);
      }
      for (const [a, b] of [[p, p2], [m, m2], [v, v2], [e, e2]]) expect(Bits(a).equals(Bits(b))).toBe(true);
    }
  });

  it("refuses arrays from elsewhere and allocations beyond its size", () => {
    const memory = new OptimizerMemory([4]);
    const inside = memory.alloc(4);
    expect(() => memory.ema(inside, new Float32Array(4), 0.5)).toThrow(/not in this memory/);
    expect(() => memory.alloc(1)).toThrow(/beyond/);
  });
});
