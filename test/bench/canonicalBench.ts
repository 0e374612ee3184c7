/**
 * Canonical vs native engine (issue 13), side by side on the bundled default model: ms per face of each engine,
 * how far the native bytes stray from the canonical ones over 256 seeds (the figures docs/seeds.md quotes), and
 * the load-time cost of the model's integrity check.
 */
import { readFile } from "node:fs/promises";
import { FaceGenerator, ReadOnnxModel, ReadModelFile, Sha256HexAsync, VerifyModelIntegrityAsync, type FaceImage, type FaceRequest } from "@npc-faces/runtime";
import { CreateEngineBackendAsync, DefaultModelPath, FaceEngines } from "@npc-faces/runtime/node";
import { FormatTable, MedianMsAsync } from "./benchUtil.js";

/** Seeds compared between the engines. */
const SeedCount = 256;

/** Runs the canonical-engine benchmark and returns the lines to print. */
export async function RunCanonicalBenchAsync(): Promise<string[]> {
  const path = DefaultModelPath();
  const bytes = new Uint8Array(await readFile(path));
  const requests: FaceRequest[] = Array.from({ length: SeedCount }, (_, seed) => ({ seed }));
  const speed: (string | number)[][] = [["engine", "backend", "batch", "ms/face", "faces/s"]];
  const faces = new Map<string, FaceImage[]>();
  for (const engine of FaceEngines) {
    const generator = await FaceGenerator.loadAsync(bytes, { backend: await CreateEngineBackendAsync(engine), source: path });
    faces.set(engine, await generator.generateAsync(requests));
    for (const batch of [1, 8]) {
      const some = requests.slice(0, batch);
      const ms = (await MedianMsAsync(() => generator.generateAsync(some), { warmup: 1, minRuns: 3, minMs: 1500 })) / batch;
      speed.push([engine, generator.backendName, batch, ms, 1000 / ms]);
    }
    await generator.disposeAsync();
  }

  let differing = 0;
  let maxAbs = 0;
  let facesDiffering = 0;
  const canonical = faces.get("canonical")!;
  faces.get("native")!.forEach((face, i) => {
    let here = 0;
    for (let j = 0; j < face.data.length; j++) {
      const d = Math.abs(face.data[j] - canonical[i].data[j]);
      if (d > 0) here++;
      maxAbs = Math.max(maxAbs, d);
    }
    differing += here;
    if (here > 0) facesDiffering++;
  });
  const total = SeedCount * canonical[0].data.length;

  const { onnx, metadata } = ReadModelFile(bytes, path);
  const verifyMs = await MedianMsAsync(() => VerifyModelIntegrityAsync(bytes, onnx, metadata, path), { warmup: 2, minRuns: 10, minMs: 1000 });
  const readMs = await MedianMsAsync(() => ReadOnnxModel(bytes, path), { warmup: 2, minRuns: 10, minMs: 500 });
  const fileHashMs = await MedianMsAsync(() => Sha256HexAsync(bytes), { warmup: 2, minRuns: 10, minMs: 1000 });
  return [
    `Canonical (onnxruntime-web WASM, 1 thread) vs native (onnxruntime-node, default threads) on "${metadata.name}" ${metadata.resolution}x${metadata.resolution}:`,
    ...FormatTable(speed),
    `Native vs canonical bytes, seeds 0-${SeedCount - 1}: max |diff| ${maxAbs}, ${differing} of ${total} bytes (${((differing / total) * 100).toFixed(4)}%) in ${facesDiffering} of ${SeedCount} faces (bound checked by the tests: 1 level, 0.1% of bytes).`,
    `Integrity check at load (${(bytes.length / 2 ** 20).toFixed(1)} MiB file): graph SHA-256 ${verifyMs.toFixed(1)} ms; for scale: reading the ONNX header ${readMs.toFixed(2)} ms, the file's own SHA-256 ${fileHashMs.toFixed(1)} ms (both hashes run together at load).`,
  ];
}
