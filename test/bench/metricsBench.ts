/**
 * The metrics' feature network (nsfwjs's InceptionV3, 299x299 inputs) on its two engines side by side:
 * onnxruntime-node (the default where installed) and tfjs on the wasm backend; images per second at batch 8.
 */
import { FeatureDimension, FeatureNetwork, InitializeTfjsBackendAsync, type FeatureImage } from "@npc-faces/trainer";
import { FormatTable, MedianMsAsync } from "./benchUtil.js";

/** Runs the feature-network benchmark and returns the lines to print. */
export async function RunMetricsBenchAsync(): Promise<string[]> {
  await InitializeTfjsBackendAsync("wasm");
  // Eight 64x64 RGBA faces' worth of bytes (the network's cost does not depend on the pixels).
  const images: FeatureImage[] = Array.from({ length: 8 }, (_, n) => ({ width: 64, height: 64, channels: 4, data: Uint8Array.from({ length: 64 * 64 * 4 }, (_, i) => (i * 7 + n * 13) & 255) }));
  const rows: (string | number)[][] = [["engine", "batch", "ms/image", "images/s"]];
  const features = new Map<string, Float32Array[]>();
  for (const engine of ["onnxruntime", "tfjs"] as const) {
    const net = await FeatureNetwork.LoadAsync({ engine });
    features.set(engine, await net.extractAsync(images));
    const ms = (await MedianMsAsync(() => net.extractAsync(images), { warmup: 1, minRuns: 3, minMs: 3000 })) / images.length;
    rows.push([engine === "tfjs" ? "tfjs (wasm)" : "onnxruntime-node (cpu)", images.length, ms, 1000 / ms]);
    net.dispose();
  }
  let worst = 0;
  const [a, b] = [features.get("onnxruntime")!, features.get("tfjs")!];
  for (let i = 0; i < a.length; i++) for (let k = 0; k < FeatureDimension; k++) worst = Math.max(worst, Math.abs(a[i][k] - b[i][k]));
  const [ort, tfjs] = [rows[1][2] as number, rows[2][2] as number];
  return [
    "Feature network of `npc-faces metrics` (InceptionV3 at 299x299, 64x64 faces resized), both engines in this run:",
    ...FormatTable(rows),
    `onnxruntime-node / tfjs wasm: ${(tfjs / ort).toFixed(1)}x the images per second; largest feature difference ${worst.toExponential(1)}.`,
  ];
}
