/**
 * 1,000 concurrent editor saves (PUT /api/manifest with the launch token, JSON) of different manifests while a
 * reader thread re-reads the file without pause: every read parses as a whole manifest that one of the saves wrote (no
 * torn file), the last state is one of them, and no temporary file is left.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { Worker } from "node:worker_threads";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ParseFaceManifest, Sha256HexAsync } from "@npc-faces/runtime";
import { expect, it } from "vitest";
import { StartEditorServerAsync } from "../../tools/src/editor/editorServer.js";
import { EditorTokenHeader } from "../../tools/src/editor/page/editorApi.js";
import { TinyModelAsync } from "../../runtime/test/testModels.js";
import { ReportSoak, Scaled } from "./soakUtil.js";

const Saves = Scaled(1_000);

it(`${Saves} concurrent editor saves: no torn file`, async () => {
  const base = await mkdtemp(join(tmpdir(), "npcf-soak-editor-"));
  const root = join(base, "project");
  const pageDir = join(base, "page");
  await mkdir(root);
  await mkdir(pageDir);
  await writeFile(join(pageDir, "index.html"), "<!doctype html><title>editor</title>");
  const model = await TinyModelAsync();
  const modelPath = join(base, "tiny.onnx");
  await writeFile(modelPath, model);
  const sha256 = await Sha256HexAsync(model);
  const server = await StartEditorServerAsync({ root, manifestPath: "town.json", modelPath, pageDir, port: 0 });
  try {
    // Manifests of different sizes (1 to 200 NPCs), so a torn write would show as a parse failure or a mix.
    const manifest = (i: number) => ({
      format: "npc-faces-manifest", formatVersion: 1, model: { sha256, name: "tiny-test" },
      npcs: Array.from({ length: 1 + ((i * 37) % 200) }, (_, k) => ({ id: `npc_${k}`, name: `save ${i} npc ${k}`, seed: i * 1000 + k })),
    });
    // The reader is a worker thread re-reading the file with readFileSync as fast as it can, in parallel with the
    // server's writes (not interleaved with them on one event loop). A read is torn unless it parses and is exactly
    // the manifest of one save (its NPC count and every NPC's name belong to the same save).
    const stop = new Int32Array(new SharedArrayBuffer(4));
    const reader = new Worker(
      `const { readFileSync } = require("node:fs");
      const { parentPort, workerData } = require("node:worker_threads");
      const stop = new Int32Array(workerData.stop);
      let reads = 0, missing = 0; const torn = [];
      while (Atomics.load(stop, 0) === 0) {
        let text;
        try { text = readFileSync(workerData.path, "utf8"); } catch { missing++; continue; }
        reads++;
        try {
          const doc = JSON.parse(text);
          const i = Number(/^save (\\d+) /.exec(doc.npcs[0].name)[1]);
          const ok = doc.format === "npc-faces-manifest" && doc.npcs.length === 1 + ((i * 37) % 200) && doc.npcs.every((n, k) => n.name === "save " + i + " npc " + k && n.seed === i * 1000 + k);
          if (!ok) torn.push("read " + reads + ": a mix of saves");
        } catch (error) { torn.push("read " + reads + ": " + String(error.message).slice(0, 120)); }
      }
      parentPort.postMessage({ reads, missing, torn });`,
      { eval: true, workerData: { path: server.manifestPath, stop: stop.buffer } },
    );
    const readerResult = new Promise<{ reads: number; missing: number; torn: string[] }>((resolve, reject) => {
      reader.once("message", resolve);
      reader.once("error", reject);
    });
    const start = performance.now();
    const statuses = await Promise.all(
      Array.from({ length: Saves }, async (_, i) => {
        const body = JSON.stringify(manifest(i), null, 2);
        const response = await fetch(`${server.url}api/manifest`, { method: "PUT", headers: { "Content-Type": "application/json", [EditorTokenHeader]: server.token }, body });
        await response.arrayBuffer();
        return response.status;
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    Atomics.store(stop, 0, 1);
    const { reads, missing, torn } = await readerResult;
    const final = ParseFaceManifest(await readFile(server.manifestPath, "utf8"));
    const finalIndex = Number(/^save (\d+) /.exec(final.npcs[0].name ?? "")?.[1]);
    const leftovers = (await readdir(root)).filter((name) => name !== "town.json");
    const byStatus = statuses.reduce<Record<number, number>>((acc, s) => ({ ...acc, [s]: (acc[s] ?? 0) + 1 }), {});
    ReportSoak("editor-saves", { saves: Saves, statuses: byStatus, seconds: Math.round(seconds * 10) / 10, reads, readsBeforeFirstSave: missing, tornReads: torn.length, leftoverFiles: leftovers });
    expect(byStatus).toEqual({ 200: Saves });
    expect(torn).toEqual([]);
    expect(reads).toBeGreaterThan(0);
    expect(JSON.stringify(final.npcs)).toBe(JSON.stringify(manifest(finalIndex).npcs));
    expect(leftovers).toEqual([]);
  } finally {
    await server.closeAsync();
    await rm(base, { recursive: true, force: true });
  }
});
