/**
 * 1,000 concurrent editor saves (PUT /api/manifest with the launch token, JSON) of different manifests while a
 * reader re-reads the file without pause: every read parses as a whole manifest that one of the saves wrote (no
 * torn file), the last state is one of them, and no temporary file is left.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
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
    const written = new Set<string>();
    let reading = true;
    let reads = 0;
    let missing = 0;
    const torn: string[] = [];
    const reader = (async () => {
      while (reading) {
        const text = await readFile(server.manifestPath, "utf8").catch(() => null);
        if (text === null) missing++; // before the first save
        else {
          reads++;
          try {
            const parsed = ParseFaceManifest(text);
            const name = parsed.npcs[0]?.name ?? "";
            const i = Number(/^save (\d+) /.exec(name)?.[1]);
            if (JSON.stringify(parsed.npcs) !== JSON.stringify(manifest(i).npcs)) torn.push(`read ${reads}: a mix of saves`);
          } catch (error) {
            torn.push(`read ${reads}: ${(error as Error).message.slice(0, 120)}`);
          }
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const start = performance.now();
    const statuses = await Promise.all(
      Array.from({ length: Saves }, async (_, i) => {
        const body = JSON.stringify(manifest(i), null, 2);
        written.add(body);
        const response = await fetch(`${server.url}api/manifest`, { method: "PUT", headers: { "Content-Type": "application/json", [EditorTokenHeader]: server.token }, body });
        await response.arrayBuffer();
        return response.status;
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    reading = false;
    await reader;
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
