/**
 * Parity of `npc-faces import` with the upstream code itself at full size, measured beside the project: runs only
 * when NPC_FACES_STYLEGAN2_ADA (a stylegan2-ada-pytorch checkout) and/or NPC_FACES_ROSINALITY (a stylegan2-pytorch
 * checkout) are set, with a Python that has torch (NPC_FACES_TORCH_PYTHON, default Debian's /usr/bin/python3).
 * tools/scripts/importParity.py writes a random-weight generator at each size of NPC_FACES_IMPORT_PARITY_SIZES
 * (default 64,1024) and the upstream generator's output; the imported graph must match it to 1e-4 relative error.
 *
 *   NPC_FACES_STYLEGAN2_ADA=/work/stylegan2-ada npx vitest run tools/test/import/importUpstreamParity.test.ts
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import * as ort from "onnxruntime-node";
import { ReadModelFile } from "@npc-faces/runtime";
import { ImportCheckpointAsync } from "../../src/import/importCheckpoint.js";

const Script = fileURLToPath(new URL("../../scripts/importParity.py", import.meta.url));
const Python = process.env.NPC_FACES_TORCH_PYTHON ?? "/usr/bin/python3";
const Sizes = (process.env.NPC_FACES_IMPORT_PARITY_SIZES ?? "64,1024").split(",").map(Number);
const Kinds = [
  ["nvidia", process.env.NPC_FACES_STYLEGAN2_ADA],
  ["rosinality", process.env.NPC_FACES_ROSINALITY],
] as const;
const Scratch = mkdtempSync(join(tmpdir(), "npc-faces-import-parity-"));
afterAll(() => rmSync(Scratch, { recursive: true, force: true }));

for (const [kind, checkout] of Kinds) {
  describe.skipIf(!checkout)(`import parity with ${kind}'s own generator (upstream code beside the project)`, () => {
    for (const resolution of Sizes) {
      it(`${resolution} px: max relative error <= 1e-4`, async () => {
        execFileSync(Python, [Script, Scratch, kind, String(resolution)], { stdio: ["ignore", "ignore", "pipe"], timeout: 900_000 });
        const base = join(Scratch, `${kind}-${resolution}`);
        const reference = JSON.parse(readFileSync(`${base}.json`, "utf8")) as { file: string; z: number[]; psi: number; shape: number[]; seconds: number };
        const expected = new Float32Array(readFileSync(`${base}.image.f32`).buffer.slice(0));
        const started = performance.now();
        const { bytes } = await ImportCheckpointAsync({ bytes: new Uint8Array(readFileSync(join(Scratch, reference.file))), fileName: reference.file, licence: "parity check", noise: "constant", controls: 0 });
        const importSeconds = (performance.now() - started) / 1000;
        const { metadata } = ReadModelFile(bytes, "imported");
        const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 2 });
        const n = reference.shape[0];
        const t = (data: number[], dims: number[]) => new ort.Tensor("float32", Float32Array.from(data), dims);
        const runStarted = performance.now();
        const out = await session.run({
          z: t(reference.z, [n, metadata.zDim]),
          z_mix: t(reference.z, [n, metadata.zDim]),
          mix: t(new Array(n * metadata.numWs).fill(0), [n, metadata.numWs]),
          psi: t(new Array(n).fill(reference.psi), [n, 1]),
          noise_strength: t(new Array(n).fill(1), [n, 1]),
        });
        const runSeconds = (performance.now() - runStarted) / 1000;
        await session.release();
        const actual = out.image.data as Float32Array;
        let maxDiff = 0;
        let maxRef = 0;
        for (let i = 0; i < expected.length; i++) {
          maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]));
          maxRef = Math.max(maxRef, Math.abs(expected[i]));
        }
        const relative = maxDiff / maxRef;
        process.stdout.write(
          `[import parity] ${kind} ${resolution} px: max |diff| ${maxDiff.toExponential(3)}, max |ref| ${maxRef.toFixed(3)}, relative ${relative.toExponential(3)}; ` +
            `import ${importSeconds.toFixed(1)} s, ${(bytes.length / 2 ** 20).toFixed(1)} MiB; onnxruntime ${runSeconds.toFixed(2)} s, upstream ${reference.seconds.toFixed(2)} s per face\n`,
        );
        expect(relative).toBeLessThanOrEqual(1e-4);
      }, 1_800_000);
    }
  });
}
