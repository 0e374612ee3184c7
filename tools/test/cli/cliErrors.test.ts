/**
 * End-to-end: every bad input makes the built `npc-faces` binary fail with one line `npc-faces: error: ...`, the
 * documented exit status (2 usage, 1 failure), and nothing written.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ParseOnnxModel, SerializeOnnxModel } from "@npc-faces/trainer";
import { ExportTinyModelAsync, MapLimitAsync, RunCliAsync, type CliResult } from "./cliTestData.js";

let dir: string;
let model: string;
let notNpcFaces: string;
let tooNew: string;
let textFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "npc-faces-cli-errors-"));
  model = join(dir, "tiny.onnx");
  await ExportTinyModelAsync(model);
  // Variants of the real file: valid ONNX without our metadata, and metadata from a future format.
  const proto = ParseOnnxModel(new Uint8Array(await readFile(model)));
  const entry = proto.metadataProps.find((e) => e.key === "npc_faces")!;
  const future = { ...JSON.parse(entry.value!), formatVersion: 99 };
  entry.value = JSON.stringify(future);
  tooNew = join(dir, "too-new.onnx");
  await writeFile(tooNew, SerializeOnnxModel(proto));
  proto.metadataProps = [];
  notNpcFaces = join(dir, "plain.onnx");
  await writeFile(notNpcFaces, SerializeOnnxModel(proto));
  textFile = join(dir, "notes.onnx");
  await writeFile(textFile, "this is not a model\n");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Expects a failed run: the exit status, exactly one stderr line `npc-faces: error: ...` matching, nothing on stdout. */
function ExpectFailure(result: CliResult, code: number, message: RegExp, label: string): void {
  expect(result.code, `${label}: ${result.stderr}`).toBe(code);
  const lines = result.stderr.split("\n").filter((line) => line !== "");
  expect(lines, label).toHaveLength(1);
  expect(lines[0], label).toMatch(/^npc-faces: error: /);
  expect(lines[0], label).toMatch(message);
  expect(result.stdout, label).toBe("");
}

type Case = [label: string, args: (out: string) => string[], code: number, message: RegExp];

describe("npc-faces bake with bad input", () => {
  const cases: Case[] = [
    ["model is a folder", (out) => ["--model", dir, "--seeds", "1", "--out", out], 1, /--model .*: not a file \(a directory\)/],
    ["model is missing", (out) => ["--model", join(dir, "nope.onnx"), "--seeds", "1", "--out", out], 1, /--model .*nope\.onnx: cannot read the model file \(no such file\)/],
    ["model is not ONNX", (out) => ["--model", textFile, "--seeds", "1", "--out", out], 1, /notes\.onnx: not an ONNX model/],
    ["ONNX but not npc-faces", (out) => ["--model", notNpcFaces, "--seeds", "1", "--out", out], 1, /plain\.onnx: an ONNX model .*but not an npc-faces model/],
    ["format too new", (out) => ["--model", tooNew, "--seeds", "1", "--out", out], 1, /model format version 99 is newer than this runtime reads/],
    ["seed out of range", (out) => ["--model", model, "--seeds", "1,4294967296", "--out", out], 2, /--seeds.*seed 4294967296 is out of range 0\.\.4294967295/],
    ["seed not an integer", (out) => ["--model", model, "--seeds", "2.5", "--out", out], 2, /--seeds.*"2\.5": a seed must be an integer/],
    ["descending range", (out) => ["--model", model, "--seeds", "5-2", "--out", out], 2, /--seeds.*range goes down \(5 > 2\)/],
    ["open range", (out) => ["--model", model, "--seeds", "1-", "--out", out], 2, /--seeds.*"1-": the range has no end/],
    ["not a seed", (out) => ["--model", model, "--seeds", "a", "--out", out], 2, /--seeds.*"a": expected a seed/],
    ["psi not finite", (out) => ["--model", model, "--seeds", "1", "--psi", "NaN", "--out", out], 2, /--psi.*expected a finite number, got "NaN"/],
    ["psi not a number", (out) => ["--model", model, "--seeds", "1", "--psi", "lots", "--out", out], 2, /--psi.*expected a finite number/],
    ["unknown control", (out) => ["--model", model, "--seeds", "1", "--control", "smile=1", "--out", out], 2, /--control: unknown control "smile" \(model "tiny-untrained" has: direction_0, direction_1, direction_2, direction_3\)/],
    ["control without value", (out) => ["--model", model, "--seeds", "1", "--control", "direction_0", "--out", out], 2, /--control.*expected name=value/],
    ["mix without mix seed", (out) => ["--model", model, "--seeds", "1", "--mix", "0.5", "--out", out], 2, /--mix needs --mix-seed/],
    ["mix out of range", (out) => ["--model", model, "--seeds", "1", "--mix-seed", "2", "--mix", "1.5", "--out", out], 2, /--mix.*expected a number in 0\.\.1/],
    ["crossover past the last layer", (out) => ["--model", model, "--seeds", "1", "--mix-seed", "2", "--crossover", "7", "--out", out], 2, /--crossover: expected an integer layer in 0\.\.6/],
    ["size zero", (out) => ["--model", model, "--seeds", "1", "--size", "0", "--out", out], 2, /--size.*expected an integer in 1\.\.4096/],
    ["batch zero", (out) => ["--model", model, "--seeds", "1", "--batch", "0", "--out", out], 2, /--batch.*expected an integer in 1\.\.256/],
    ["unknown flag", (out) => ["--model", model, "--seeds", "1", "--colour", "red", "--out", out], 2, /unknown option '--colour'/],
    ["missing --seeds", (out) => ["--model", model, "--out", out], 2, /required option '--seeds <list>' not specified/],
  ];

  it("fails with one line, the right exit status, and no output folder", async () => {
    const results = await MapLimitAsync(cases, 3, ([label, args], i) => RunCliAsync(["bake", ...args(join(dir, `out-${i}`))]));
    results.forEach((result, i) => {
      const [label, , code, message] = cases[i];
      ExpectFailure(result, code, message, label);
      expect(existsSync(join(dir, `out-${i}`)), label).toBe(false);
    });
  });

  it("refuses an output folder it cannot create, writing nothing", async () => {
    const blocker = join(dir, "blocker.txt");
    await writeFile(blocker, "x");
    const cases: [string, string, RegExp][] = [
      ["under a file", join(blocker, "faces"), /--out: cannot create .*blocker\.txt\/faces: .*blocker\.txt is not a folder/],
      ["is a file", blocker, /--out: .*blocker\.txt exists and is not a folder/],
    ];
    if (existsSync("/proc/self")) cases.push(["on a pseudo file system", "/proc/npc-faces-test/faces", /--out: cannot create \/proc\/npc-faces-test/]);
    const results = await Promise.all(cases.map(([, out]) => RunCliAsync(["bake", "--model", model, "--seeds", "1-3", "--out", out])));
    results.forEach((result, i) => ExpectFailure(result, 1, cases[i][2], cases[i][0]));
    expect(await readFile(blocker, "utf8")).toBe("x");
  });

  it("leaves an existing output folder unchanged", async () => {
    const out = join(dir, "existing");
    await mkdir(out);
    await writeFile(join(out, "face-1.png"), "old");
    const results = await Promise.all([
      RunCliAsync(["bake", "--model", model, "--seeds", "1-3", "--control", "nope=1", "--out", out]),
      RunCliAsync(["bake", "--model", notNpcFaces, "--seeds", "1-3", "--out", out]),
    ]);
    ExpectFailure(results[0], 2, /unknown control "nope"/, "unknown control");
    ExpectFailure(results[1], 1, /not an npc-faces model/, "not npc-faces");
    expect(await readdir(out)).toEqual(["face-1.png"]);
    expect(await readFile(join(out, "face-1.png"), "utf8")).toBe("old");
  });

  it("prints the stack trace only with NPC_FACES_DEBUG=1", async () => {
    const args = ["bake", "--model", textFile, "--seeds", "1", "--out", join(dir, "debug")];
    const [quiet, debug] = await Promise.all([RunCliAsync(args), RunCliAsync(args, { NPC_FACES_DEBUG: "1" })]);
    expect(quiet.stderr.split("\n").filter(Boolean)).toHaveLength(1);
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/^npc-faces: error: .*not an ONNX model/);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });
});

describe("npc-faces info and export with bad input", () => {
  it("info fails on files that are not valid models", async () => {
    const cases: [string, string[], number, RegExp][] = [
      ["not ONNX", [textFile], 1, /notes\.onnx: not an ONNX model/],
      ["not npc-faces", [notNpcFaces], 1, /not an npc-faces model/],
      ["too new", [tooNew], 1, /format version 99 is newer/],
      ["missing", [join(dir, "nope.onnx")], 1, /nope\.onnx: cannot read the model file/],
      ["two file arguments", [textFile, tooNew], 2, /too many arguments/],
    ];
    const results = await MapLimitAsync(cases, 3, ([, args]) => RunCliAsync(["info", ...args]));
    results.forEach((result, i) => ExpectFailure(result, cases[i][2], cases[i][3], cases[i][0]));
  });

  it("info refuses a copy with a damaged weight (CORRUPT_MODEL); export --stamp gives an older file a digest, refusing a damaged one", async () => {
    const bytes = new Uint8Array(await readFile(model));
    const damaged = new Uint8Array(bytes);
    damaged[Math.floor(bytes.length / 2)] ^= 0x10; // the middle of the file: inside the weights
    await writeFile(join(dir, "damaged.onnx"), damaged);
    ExpectFailure(await RunCliAsync(["info", join(dir, "damaged.onnx")]), 1, /damaged\.onnx: the model's weights or graph are damaged/, "damaged weights");

    // An older file: the same model without the digest loads, and info warns.
    const proto = ParseOnnxModel(bytes);
    const entry = proto.metadataProps.find((e) => e.key === "npc_faces")!;
    const { integrity: _integrity, ...older } = JSON.parse(entry.value!) as Record<string, unknown>;
    entry.value = JSON.stringify(older);
    await writeFile(join(dir, "older.onnx"), SerializeOnnxModel(proto));
    const info = await RunCliAsync(["info", join(dir, "older.onnx")]);
    expect(info.code).toBe(0);
    expect(info.stderr).toMatch(/warning: .*older\.onnx has no integrity digest/);
    expect(info.stdout).toMatch(/^integrity +no graph digest/m);

    const stamp = await RunCliAsync(["export", "--stamp", join(dir, "older.onnx"), "--out", join(dir, "stamped.onnx")]);
    expect(stamp.stderr).toBe("");
    expect(stamp.code).toBe(0);
    // The graph is untouched, so stamping gives back exactly the file the exporter wrote.
    expect(new Uint8Array(await readFile(join(dir, "stamped.onnx")))).toEqual(bytes);
    const stamped = await RunCliAsync(["info", join(dir, "stamped.onnx")]);
    expect(stamped.stderr).toBe("");
    expect(stamped.stdout).toMatch(/^integrity +graph digest verified/m);

    ExpectFailure(await RunCliAsync(["export", "--stamp", join(dir, "damaged.onnx"), "--out", join(dir, "blessed.onnx")]), 1, /--stamp .*damaged\.onnx: the model's weights or graph are damaged/, "stamp damaged");
    expect(existsSync(join(dir, "blessed.onnx"))).toBe(false);
  });

  it("export rejects bad flags before writing anything", async () => {
    const out = join(dir, "export-out", "model.onnx");
    const cases: [string, string[], number, RegExp][] = [
      ["no weight source", ["--preset", "tiny", "--out", out], 2, /choose the weights: --run <dir> \(a training run\) or --untrained/],
      ["no preset", ["--untrained", "--out", out], 2, /--untrained needs --preset/],
      ["unknown preset", ["--untrained", "--preset", "huge", "--out", out], 2, /--preset.*'huge' is invalid.*tiny, tinyfine, npc64, npc64wide, npc64fine, npc128, game64, game128, paper256/],
      ["too many controls", ["--untrained", "--preset", "tiny", "--controls", "33", "--out", out], 2, /--controls: expected at most 32/],
      ["bad seed", ["--untrained", "--preset", "tiny", "--seed", "-1", "--out", out], 2, /--seed.*expected a seed/],
      ["both sources", ["--untrained", "--run", "runs/x", "--preset", "tiny", "--out", out], 2, /'--run <dir>' cannot be used with option '--untrained'/],
      ["noise strength out of range", ["--untrained", "--preset", "tiny", "--noise-strength", "5", "--out", out], 2, /--noise-strength <x>.* expected a number in 0\.\.4, got 5/],
      ["label centre, untrained", ["--untrained", "--preset", "tiny", "--truncation-centre", "labels", "--out", out], 2, /--truncation-centre labels needs --run of a conditional model/],
      ["unknown centre", ["--untrained", "--preset", "tiny", "--truncation-centre", "median", "--out", out], 2, /--truncation-centre <centre>.*'median' is invalid.*average, labels/],
      ["centre with --stamp", ["--stamp", textFile, "--truncation-centre", "labels", "--out", out], 2, /'--truncation-centre <centre>' cannot be used with option '--stamp <model>'/],
      ["out is a folder", ["--untrained", "--preset", "tiny", "--out", dir], 1, /--out: .* is a folder; expected a file name/],
      ["out under a file", ["--untrained", "--preset", "tiny", "--out", join(textFile, "m.onnx")], 1, /--out: .*notes\.onnx exists and is not a folder/],
    ];
    const results = await MapLimitAsync(cases, 3, ([, args]) => RunCliAsync(["export", ...args]));
    results.forEach((result, i) => ExpectFailure(result, cases[i][2], cases[i][3], cases[i][0]));
    expect(existsSync(join(dir, "export-out"))).toBe(false);
  });

  it("unknown commands are usage errors", async () => {
    ExpectFailure(await RunCliAsync(["bakes"]), 2, /unknown command 'bakes'/, "unknown command");
  });
});
