/**
 * The light install (issue 19): `info`, `bake`, `sheet` and `export --stamp` run with none of the optional
 * packages (the trainer, tfjs, nsfwjs, DiceBear, facesjs, resvg, onnxruntime-node, esbuild, Babylon). A module
 * resolve hook makes them missing for the CLI process and its workers; the commands that need one say in one
 * line which package to add.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MissingPackageMessage, MissingPackageOf } from "../../src/cli/optionalPackages.js";
import { RunCliAsync, type CliResult } from "./cliTestData.js";

/** Every optional package of the CLI, and what they pull in. */
const Blocked = ["@npc-faces/trainer", "@npc-faces/babylon", "@babylonjs/core", "@tensorflow", "nsfwjs", "@dicebear", "facesjs", "@resvg", "onnxruntime-node", "esbuild"];

let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "npc-faces-light-"));
  const hooks = join(dir, "hooks.mjs");
  await writeFile(
    hooks,
    `const blocked = ${JSON.stringify(Blocked)};
export async function resolve(specifier, context, next) {
  if (blocked.some((b) => specifier === b || specifier.startsWith(b + "/"))) {
    const error = new Error("Cannot find package '" + specifier + "' imported from " + context.parentURL);
    error.code = "ERR_MODULE_NOT_FOUND";
    throw error;
  }
  return next(specifier, context);
}
`,
  );
  const register = join(dir, "register.mjs");
  await writeFile(register, `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  env = { NODE_OPTIONS: `--import ${pathToFileURL(register).href}` };
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function Run(args: readonly string[]): Promise<CliResult> {
  return RunCliAsync(args, env);
}

describe("the CLI without its optional packages", () => {
  it("the hook really hides them", async () => {
    const result = await Run(["dataset", "--source", "dicebear:adventurer", "--count", "2", "--res", "16", "--out", join(dir, "data"), "--no-progress"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^npc-faces: error: dataset --source dicebear needs the package @dicebear\/core, which is not installed: npm install @dicebear\/core@9\.4\.3\n$/);
  });

  it("info, bake, sheet and export --stamp work; the default model on the canonical engine", async () => {
    const info = await Run(["info"]);
    expect(info.stderr).toBe("");
    expect(info.code).toBe(0);

    const bake = await Run(["bake", "--seeds", "1-2", "--out", join(dir, "baked"), "--no-progress"]);
    expect(bake.stderr).toBe("");
    expect(bake.code).toBe(0);
    expect(existsSync(join(dir, "baked", "face-2.png"))).toBe(true);

    const sheet = await Run(["sheet", "seeds", "--seeds", "0-3", "--columns", "2", "--out", join(dir, "sheet.png")]);
    expect(sheet.stderr).toBe("");
    expect(sheet.code).toBe(0);
    expect(existsSync(join(dir, "sheet.png"))).toBe(true);

    const model = join(dir, "model.onnx");
    const stamp = await Run(["export", "--stamp", join(import.meta.dirname, "..", "..", "..", "models", "default.onnx"), "--out", model]);
    expect(stamp.stderr).toBe("");
    expect(stamp.code).toBe(0);
    expect(existsSync(model)).toBe(true);
  }, 120_000);

  it("commands that need an optional package name it in one line", async () => {
    const cases: [string[], RegExp][] = [
      [["export", "--preset", "tiny", "--untrained", "--out", join(dir, "x.onnx")], /needs the package @npc-faces\/trainer, which is not installed: npm install @npc-faces\/trainer@0\.1\.0$/],
      [["import", join(import.meta.dirname, "..", "import", "fixtures", "nvidia-orig-16.pkl"), "--licence", "x", "--out", join(dir, "imported.onnx")], /import, .*needs the package @npc-faces\/trainer, which is not installed/],
      [["bake", "--seeds", "1", "--engine", "native", "--out", join(dir, "native"), "--no-progress"], /needs the package onnxruntime-node, which is not installed: npm install onnxruntime-node@1\.30\.0 --onnxruntime-node-install=skip$/],
    ];
    for (const [args, pattern] of cases) {
      const result = await Run(args);
      expect(result.code, args.join(" ")).toBe(1);
      const lines = result.stderr.trimEnd().split("\n");
      expect(lines, args.join(" ")).toHaveLength(1);
      expect(lines[0], args.join(" ")).toMatch(pattern);
    }
  }, 60_000);
});

describe("MissingPackageOf", () => {
  it("finds the package in Node's messages, scoped or not, and ignores relative paths", () => {
    expect(MissingPackageOf(new Error("Cannot find package '@dicebear/core' imported from /x/y.js"))).toBe("@dicebear/core");
    expect(MissingPackageOf(new Error("Cannot find package 'facesjs/lib/x.js' imported from /x/y.js"))).toBe("facesjs");
    expect(MissingPackageOf(new Error("Cannot find module '/abs/path.js' imported from /x/y.js"))).toBeUndefined();
    expect(MissingPackageOf(new Error("something else"))).toBeUndefined();
    expect(MissingPackageMessage("nsfwjs")).toMatch(/^metrics .*needs the package nsfwjs, which is not installed: npm install nsfwjs@4\.4\.0$/);
  });
});
