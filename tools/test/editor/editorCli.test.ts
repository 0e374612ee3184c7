/**
 * `npc-faces editor` (the built CLI): refuses non-loopback hosts and manifests outside the project folder with exit
 * status 2 and one clear line; starts on 127.0.0.1 and serves the API.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TinyModelAsync } from "../../../runtime/test/testModels.js";
import { CliBin, RunCliAsync } from "../cli/cliTestData.js";

let base: string;
let model: string;
beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), "npc-faces-editor-cli-"));
  model = join(base, "tiny.onnx");
  await writeFile(model, await TinyModelAsync());
});
afterAll(async () => {
  if (base) await rm(base, { recursive: true, force: true });
});

describe("npc-faces editor", () => {
  it("refuses a non-loopback --host and a --manifest outside the project folder (exit 2, one line)", async () => {
    const host = await RunCliAsync(["editor", "--model", model, "--root", base, "--host", "0.0.0.0", "--port", "0"]);
    expect(host.code).toBe(2);
    expect(host.stderr).toMatch(/^npc-faces: error: --host: refusing to listen on "0\.0\.0\.0": .*loopback interface only/);
    expect(host.stderr.trim().split("\n")).toHaveLength(1);
    const outside = await RunCliAsync(["editor", "--model", model, "--root", join(base), "--manifest", join(base, "..", "elsewhere.json"), "--port", "0"]);
    expect(outside.code).toBe(2);
    expect(outside.stderr).toMatch(/^npc-faces: error: --manifest .*elsewhere\.json: outside the project folder/);
  });

  it("serves on 127.0.0.1 and answers the API until stopped", async () => {
    const child = spawn(process.execPath, [CliBin, "editor", "--model", model, "--root", base, "--manifest", join(base, "m.json"), "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        let err = "";
        child.stdout.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          const match = /npc-faces editor: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
          if (match) resolve(match[1]);
        });
        child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
        child.once("exit", (code) => reject(new Error(`exited ${code}: ${err}`)));
      });
      const info = (await (await fetch(`${url}api/model-info`)).json()) as { name: string; manifestPath: string };
      expect(info).toMatchObject({ name: "tiny-test", manifestPath: "m.json" });
      expect((await fetch(url)).headers.get("cross-origin-opener-policy")).toBe("same-origin");
    } finally {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
  }, 120_000);
});
