/**
 * The snapshot grid: faces of fixed seeds (the same every tick) from the EMA generator, as a PNG, so ticks
 * can be compared side by side. Latents and noise come from the seed contract (LatentFromSeed, NoiseFromSeed),
 * psi 1, no mixing: seed k here is the face `npc-faces bake` gives for seed k at psi 1.
 */
import { encode } from "fast-png";
import { LatentFromSeed, NoiseFromSeed } from "@npc-faces/runtime";
import { tf } from "../backends/tfjsBackend.js";
import { NoiseResolutions, NumWs } from "../networks/architecture.js";
import type { GeneratorNetwork } from "../networks/generatorNetwork.js";

/** Seeds of the grid: 0 .. count-1. */
export function GridSeeds(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}

/**
 * Renders `seeds` with `G` (labels [seeds, labelDim] for conditional models) into a grid of `columns` and
 * returns the PNG bytes (RGB, 8 bit, 1-pixel gaps).
 */
export function RenderSampleGridPng(G: GeneratorNetwork, seeds: readonly number[], columns: number, labels?: Float32Array): Uint8Array {
  const c = G.config;
  const n = seeds.length;
  const r = c.resolution;
  const pixels = new Float32Array(n * r * r * 3);
  const chunk = 16;
  for (let start = 0; start < n; start += chunk) {
    const part = seeds.slice(start, start + chunk);
    const m = part.length;
    const out = tf.tidy(() => {
      const z = tf.tensor2d(Float32Array.from(part.flatMap((s) => [...LatentFromSeed(s, c.zDim)])), [m, c.zDim]);
      const noise = NoiseResolutions(c).map((res, l) => tf.tensor4d(Float32Array.from(part.flatMap((s) => [...NoiseFromSeed(s, l, res)])), [m, res, res, 1]));
      const label = c.labelDim > 0 && labels ? tf.tensor2d(labels.subarray(start * c.labelDim, (start + m) * c.labelDim), [m, c.labelDim]) : undefined;
      return G.forward({ z, zMix: z, mix: tf.zeros([m, NumWs(c)]), psi: tf.ones([m, 1]), noiseStrength: tf.ones([m, 1]), noise, label }).dataSync();
    });
    pixels.set(out, start * r * r * 3);
  }
  const cols = Math.min(columns, n);
  const rows = Math.ceil(n / cols);
  const width = cols * (r + 1) - 1;
  const height = rows * (r + 1) - 1;
  const rgb = new Uint8Array(width * height * 3).fill(32);
  for (let i = 0; i < n; i++) {
    const ox = (i % cols) * (r + 1);
    const oy = Math.floor(i / cols) * (r + 1);
    for (let y = 0; y < r; y++) {
      for (let x = 0; x < r; x++) {
        for (let k = 0; k < 3; k++) {
          const v = pixels[((i * r + y) * r + x) * 3 + k];
          rgb[((oy + y) * width + ox + x) * 3 + k] = Math.max(0, Math.min(255, Math.round((v + 1) * 127.5)));
        }
      }
    }
  }
  return encode({ width, height, data: rgb, channels: 3, depth: 8 });
}
