/**
 * Data-set throughput benchmark, called by the repository's `npm run bench`: images/s of every source at
 * 64 and 128 px (render + PNG encode on one thread, ~1 s each), plus one end-to-end build on all cores.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BuildDatasetAsync } from "./buildDataset.js";
import { CreateDatasetSourceAsync } from "./createDatasetSource.js";
import { DefaultBackground, DicebearStyleNames, type SourceSpec } from "./datasetSources.js";
import { DefaultWorkerCount } from "./datasetWorkerPool.js";
import { DefaultMinImageSize, ScanImageFolderAsync } from "./folderSource.js";
import { RunRenderJobAsync } from "./renderJob.js";
import { DeriveImageSeed } from "./seededRandom.js";

/** Seconds spent measuring each source and size. */
const MeasureSeconds = 1;

async function MeasureAsync(spec: SourceSpec, res: number, items: number): Promise<number> {
  const source = await CreateDatasetSourceAsync(spec);
  for (let i = 0; i < 3; i++) await RunRenderJobAsync(source, { index: i % items, seed: DeriveImageSeed(1, i) }, res);
  let done = 0;
  const start = performance.now();
  while (performance.now() - start < MeasureSeconds * 1000) {
    await RunRenderJobAsync(source, { index: done % items, seed: DeriveImageSeed(1, done) }, res);
    done++;
  }
  return done / ((performance.now() - start) / 1000);
}

/** Runs the benchmark; returns the lines to print. */
export async function RunDatasetBenchAsync(): Promise<string[]> {
  const lines = [`dataset sources (one thread, render + PNG encode; ${DefaultWorkerCount()} cores available):`];
  const sharp = (await import("sharp")).default;
  const work = await mkdtemp(join(tmpdir(), "npc-faces-dataset-bench-"));
  try {
    // A folder of 512×512 noisy JPEGs: decoding and Lanczos resizing dominate, as with real photos.
    const folder = join(work, "images");
    await mkdir(folder);
    for (let i = 0; i < 8; i++) {
      const background = { r: 30 * i, g: 120, b: 200 - 20 * i };
      await sharp({ create: { width: 512, height: 512, channels: 3, background, noise: { type: "gaussian", mean: 128, sigma: 30 } } })
        .jpeg({ quality: 85 })
        .toFile(join(folder, `${i}.jpg`));
    }
    const files = await ScanImageFolderAsync(folder);
    const specs: { name: string; spec: SourceSpec; items: number }[] = [
      { name: "facesjs", spec: { kind: "facesjs", background: DefaultBackground }, items: 1 },
      ...DicebearStyleNames.map((style) => ({ name: `dicebear:${style}`, spec: { kind: "dicebear", style, background: DefaultBackground } as SourceSpec, items: 1 })),
      {
        name: "folder (512² JPEG)",
        spec: { kind: "folder", root: folder, files, fit: "crop", minSize: DefaultMinImageSize, background: DefaultBackground },
        items: files.length,
      },
    ];
    for (const { name, spec, items } of specs) {
      const rates: string[] = [];
      for (const res of [64, 128]) rates.push(`${res} px ${(await MeasureAsync(spec, res, items)).toFixed(0).padStart(5)} img/s`);
      lines.push(`  ${name.padEnd(22)} ${rates.join("   ")}`);
    }
    const count = 400;
    const built = await BuildDatasetAsync({ source: "dicebear:personas", count, res: 128, out: join(work, "built"), seed: 1 });
    lines.push(
      `  end to end: dicebear:personas ${count} × 128 px with ${built.workerThreads || 1} ${built.workerThreads ? "worker threads" : "thread"} → ${(count / built.seconds).toFixed(0)} img/s (incl. start-up and writing)`,
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return lines;
}
