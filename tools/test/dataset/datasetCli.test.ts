/**
 * Runs the built CLI (`node tools/bin/npc-faces.js dataset ...`): worker threads exist only in the compiled
 * build, so this is also where worker-thread output is compared with the in-process build.
 * Needs `npx tsc -b tools` first (`npm test` builds).
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { decode } from "fast-png";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BuildDatasetAsync } from "../../src/dataset/buildDataset.js";
import { MakeTempDirAsync, ReadTreeAsync } from "./datasetTestUtils.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const bin = join(root, "tools", "bin", "npc-faces.js");
const built = existsSync(join(root, "tools", "dist", "dataset", "datasetWorker.js"));

function RunCliAsync(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: root, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

let temp: Awaited<ReturnType<typeof MakeTempDirAsync>>;
beforeAll(async () => {
  temp = await MakeTempDirAsync();
});
afterAll(async () => temp.cleanupAsync());

describe.skipIf(!built)("npc-faces dataset (built CLI)", () => {
  const common = ["dataset", "--source", "dicebear:toon-head", "--count", "6", "--res", "32", "--seed", "9", "--holdout", "0.2", "--no-progress"];

  it("worker threads, one thread and the library give the same bytes and hash; credits are printed", async () => {
    const a = join(temp.dir, "a");
    const b = join(temp.dir, "b");
    const sheet = join(temp.dir, "sheet.png");
    const [ra, rb] = [await RunCliAsync([...common, "--out", a, "--workers", "2", "--contact-sheet", sheet]), await RunCliAsync([...common, "--out", b, "--workers", "1"])];
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(0);
    expect(ra.stdout).toContain("2 worker threads");
    const hash = /content hash: sha256:([0-9a-f]{64})/.exec(ra.stdout)?.[1];
    expect(hash).toBeDefined();
    expect(rb.stdout).toContain(`content hash: sha256:${hash}`);
    expect(ra.stdout).toMatch(/credits: .*ToonHead.*Johan Melin.*CC BY 4\.0/);
    const ta = await ReadTreeAsync(a);
    const tb = await ReadTreeAsync(b);
    expect([...ta.keys()]).toEqual([...tb.keys()]);
    for (const [file, bytes] of ta) expect(bytes.equals(tb.get(file)!), file).toBe(true);
    const library = await BuildDatasetAsync({ source: "dicebear:toon-head", count: 6, res: 32, seed: 9, holdout: 0.2, out: join(temp.dir, "lib") });
    expect(library.contentHash).toBe(hash);
    const png = decode(await readFile(sheet));
    expect([png.width, png.height]).toEqual([3 * 32 + 4 * 2, 2 * 32 + 3 * 2]);

    const sheet2 = join(temp.dir, "sheet2.png");
    const rs = await RunCliAsync(["dataset", "sheet", a, sheet2, "--columns", "6"]);
    expect(rs.code, rs.stderr).toBe(0);
    const png2 = decode(await readFile(sheet2));
    expect([png2.width, png2.height]).toEqual([6 * 32 + 7 * 2, 32 + 2 * 2]);
  });

  it("bad input gives a one-line error and writes nothing", async () => {
    const cases: [string[], number, RegExp][] = [
      [["--source", "nope", "--count", "2"], 2, /unknown source "nope"/],
      [["--source", "dicebear:pixel-art", "--count", "2"], 2, /unknown DiceBear style/],
      [["--source", "facesjs", "--count", "0"], 2, /--count must be an integer in 1\.\./],
      [["--source", "facesjs"], 2, /--count is required/],
      [["--source", `folder:${join(temp.dir, "missing")}`], 1, /image folder not found/],
    ];
    for (const [args, code, message] of cases) {
      const out = join(temp.dir, "bad");
      const result = await RunCliAsync(["dataset", ...args, "--res", "16", "--out", out]);
      expect(result.code, args.join(" ")).toBe(code);
      expect(result.stderr).toMatch(message);
      expect(existsSync(out)).toBe(false);
    }
    const result = await RunCliAsync(["dataset", "--source", "facesjs", "--count", "2", "--res", "16", "--out", join(bin, "out")]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cannot write the output folder/);
    expect((await readdir(temp.dir)).filter((n) => n.startsWith("bad"))).toEqual([]);
  });

  it("--help documents every flag with its default", async () => {
    const result = await RunCliAsync(["dataset", "--help"]);
    expect(result.code).toBe(0);
    for (const flag of ["--source", "--count", "--res", "--out", "--seed", "--holdout", "--workers", "--background", "--fit", "--min-size", "--no-pack", "--force", "--contact-sheet", "--licence", "--credits", "--no-progress"]) {
      expect(result.stdout).toContain(flag);
    }
    expect(result.stdout).toContain('default: "#dcdcdc"');
    expect(result.stdout).toContain("dicebear:personas");
  });
});
