/**
 * `npc-faces checkpoint pack|average|info`: the packed checkpoint that carries a training run from one machine (or
 * sitting) to the next. `pack` turns a run's fp32 checkpoint.ckpt into the compact form (fp16 weights, bfloat16
 * Adam moments), gzip-compressed, with the run's log up to it; `npc-faces train --resume-from FILE` continues
 * from it. See docs/training.md, "Continuing on another machine". `average` writes a run folder whose G_ema is
 * the mean of a run's kept snapshots' (docs/training.md, "Snapshot averaging").
 */
import { readFile, stat } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import type { CheckpointContents } from "@npc-faces/trainer";
import { EnsureFolderAsync, WriteFileAtomicAsync } from "../../bake/atomicWrite.js";
import { ParseFiniteNumber } from "../argParsers.js";
import { CliFailure, CliUsageError } from "../cliErrors.js";
import { FormatBytes, JsonHelp, WriteJsonResult } from "../cliFormat.js";

/** The run folder's checkpoint and log names (trainer's RunFiles; kept here so `--help` needs no trainer import). */
const CheckpointFile = "checkpoint.ckpt";
const LogFile = "log.jsonl";

/** `npc-faces checkpoint`: see its `--help` and docs/training.md. */
export function CheckpointCommand(): Command {
  const command = new Command("checkpoint")
    .summary("pack a training run's checkpoint for another machine, or describe one")
    .description("Packs a training run's checkpoint into one compact file that `npc-faces train --resume-from` continues from, or describes a checkpoint file.");
  command.addCommand(
    new Command("pack")
      .summary("write a run's checkpoint in packed form (fp16 weights, gzip)")
      .description(
        "Reads RUN/checkpoint.ckpt and writes --out: the compact form (fp16 weights and G_ema, bfloat16 Adam moments; " +
          "the first Adam moment as zeros when beta1 = 0, as it is never read then), gzip-compressed, with RUN/log.jsonl up to the checkpoint. " +
          "About 40% of the fp32 checkpoint. The file is written atomically (an existing one is replaced) and read back to check it. " +
          "`npc-faces train --data D --out NEWRUN --resume-from FILE` continues from it; the resumed run is not bit-identical to the fp32 one.",
      )
      .requiredOption("--run <dir>", "run folder (from `npc-faces train`) holding checkpoint.ckpt")
      .requiredOption("--out <file>", "packed checkpoint to write (parent folders are created; replaced if it exists)")
      .addHelpText("after", "\nExample:\n  npc-faces checkpoint pack --run runs/default --out models/training/checkpoint.npcfckpt.gz")
      .action(async (flags: { run: string; out: string }) => {
        await PackAsync(flags.run, flags.out);
      }),
  );
  command.addCommand(
    new Command("average")
      .summary("average the EMA generator of a run's kept snapshots into a new run folder")
      .description(
        "Reads RUN's kept snapshots (train --keep-snapshots) from --from to --to kimg, both included, and writes OUT/checkpoint.ckpt: " +
          "the latest of them with G_ema replaced by the mean of their G_ema (G, D, Adam moments and counters as the latest's), and OUT/log.jsonl: RUN's log up to it. " +
          "OUT exports, packs and resumes like any run folder. An OUT that holds a checkpoint not made by `average` is refused (it would be a training run).",
      )
      .requiredOption("--run <dir>", "run folder whose snapshots/ holds the kept snapshots")
      .requiredOption("--from <kimg>", "first snapshot to include, in kimg", ParseKimg)
      .requiredOption("--to <kimg>", "last snapshot to include, in kimg", ParseKimg)
      .requiredOption("--out <dir>", "run folder to write (created; an earlier average there is replaced)")
      .addHelpText("after", "\nExample:\n  npc-faces checkpoint average --run runs/v2 --from 968 --to 1024 --out runs/v2-avg968-1024\n  npc-faces export --run runs/v2-avg968-1024 --data data/facesjs64 --out candidates/avg.onnx --fp16")
      .action(async (flags: { run: string; from: number; to: number; out: string }) => {
        await AverageAsync(flags);
      }),
  );
  command.addCommand(
    new Command("info")
      .summary("describe a checkpoint file (plain or packed)")
      .description("Verifies a checkpoint file (SHA-256) and prints its progress (kimg, step), preset and options, data set id and labels, storage and sizes. Exit status 1 if it is not a valid checkpoint.")
      .argument("<file>", "checkpoint file: RUN/checkpoint.ckpt or a packed one")
      .option("--json", JsonHelp)
      .action(async (file: string, flags: { json?: boolean }) => {
        const { contents, bytes } = await ReadForCliAsync(file);
        if (flags.json) {
          WriteJsonResult("checkpoint info", CheckpointFacts(contents, resolve(file), bytes));
          return;
        }
        process.stdout.write(`${FormatCheckpointSummary(contents, file, bytes).join("\n")}\n`);
      }),
  );
  return command;
}

/** Reads and verifies a checkpoint file; a bad one ends in one line naming it (exit 1). */
async function ReadForCliAsync(file: string): Promise<{ contents: CheckpointContents; bytes: number }> {
  const trainer = await import("@npc-faces/trainer");
  const info = await stat(file).catch(() => null);
  if (info?.isDirectory()) throw new CliFailure(`checkpoint ${file}: is a folder (the checkpoint of a run is RUN/${CheckpointFile})`);
  try {
    return { contents: await trainer.ReadCheckpointAsync(file), bytes: info?.size ?? 0 };
  } catch (error) {
    throw new CliFailure((error as Error).message);
  }
}

async function PackAsync(run: string, out: string): Promise<void> {
  await RequireRunFolderAsync(run);
  const source = join(run, CheckpointFile);
  if (resolve(out) === resolve(source)) throw new CliUsageError(`--out ${out}: that is the run's own checkpoint; write the packed file elsewhere`);
  if (!(await stat(source).catch(() => null))) throw new CliFailure(`--run ${run}: no ${CheckpointFile} (train first; it is written every --snap ticks)`);
  const trainer = await import("@npc-faces/trainer");
  // One read: the trainer replaces the file by rename, so these bytes are one complete checkpoint even while it runs.
  const raw = await readFile(source);
  let contents: CheckpointContents;
  try {
    contents = trainer.ParseCheckpoint(raw, source);
  } catch (error) {
    throw new CliFailure((error as Error).message);
  }
  const log = await ReadLogUpToAsync(join(run, LogFile), contents.state.imagesSeen / 1000);
  let packed: Uint8Array;
  try {
    packed = trainer.PackCheckpoint(contents, log?.text);
  } catch (error) {
    throw new CliFailure((error as Error).message);
  }
  // Read it back before replacing anything: what gets committed must be loadable.
  trainer.ParseCheckpoint(packed, out);
  try {
    await EnsureFolderAsync(dirname(resolve(out)));
    await WriteFileAtomicAsync(resolve(out), packed);
  } catch (error) {
    throw new CliFailure(`--out ${out}: ${(error as Error).message}`);
  }
  const kimg = contents.state.imagesSeen / 1000;
  process.stdout.write(
    `packed ${source} (${FormatBytes(raw.length)}, ${kimg.toFixed(3)} kimg) -> ${out}: ${FormatBytes(packed.length)} ` +
      `(${((100 * packed.length) / raw.length).toFixed(0)}%; fp16 weights, bfloat16 Adam moments, gzip; log: ${log ? `${log.lines} lines` : "none"})\n`,
  );
}

function ParseKimg(text: string): number {
  let value = Number.NaN;
  try {
    value = ParseFiniteNumber(text);
  } catch {
    // reported below, in kimg's words
  }
  if (!(value >= 0)) throw new InvalidArgumentError(`expected a kimg >= 0, got "${text}"`);
  return value;
}

/** Refuses a --run that is missing or not a folder, in one line. */
async function RequireRunFolderAsync(run: string): Promise<void> {
  const info = await stat(run).catch(() => null);
  if (!info) throw new CliFailure(`--run ${run}: no such folder`);
  if (!info.isDirectory()) throw new CliFailure(`--run ${run}: not a folder (pass the run folder that holds ${CheckpointFile})`);
}

async function AverageAsync(flags: { run: string; from: number; to: number; out: string }): Promise<void> {
  const { run, from, to, out } = flags;
  await RequireRunFolderAsync(run);
  if (from > to) throw new CliUsageError(`--from ${from} is after --to ${to}`);
  // The run folder itself or a folder inside it (its snapshots/): the average would mix with the run's own files.
  const within = relative(resolve(run), resolve(out));
  if (!within.startsWith("..") && !isAbsolute(within)) throw new CliUsageError(`--out ${out}: is the run folder or inside it; write the average to a folder of its own`);
  const { ListRunSnapshotsAsync } = await import("../../training/runSnapshots.js");
  const kept = await ListRunSnapshotsAsync(run);
  // Snapshot names carry kimg to 3 decimals: compare there, so --to 1024 includes kimg-001024.000.
  const chosen = kept.filter((s) => s.kimg >= from - 5e-4 && s.kimg <= to + 5e-4);
  const available = kept.length > 0 ? `kept: ${kept.map((s) => s.kimg.toFixed(3)).join(", ")}` : "the run keeps none (train with --keep-snapshots N)";
  if (chosen.length < 2) throw new CliFailure(`--from ${from} --to ${to}: ${chosen.length} kept snapshot${chosen.length === 1 ? "" : "s"} of ${run} in that range, at least 2 needed (${available})`);
  const trainer = await import("@npc-faces/trainer");
  const target = join(out, CheckpointFile);
  const existing = await stat(target).catch(() => null);
  if (existing) {
    const previous = await trainer.ReadCheckpointAsync(target).catch(() => null);
    if (!previous?.extra?.[trainer.AveragedKimgKey]) throw new CliFailure(`--out ${out}: holds a ${CheckpointFile} that \`checkpoint average\` did not write; choose another folder`);
  }
  let averaged: CheckpointContents;
  try {
    const checkpoints: CheckpointContents[] = [];
    for (const snapshot of chosen) checkpoints.push(await trainer.ReadCheckpointAsync(join(snapshot.dir, CheckpointFile)));
    averaged = trainer.AverageGeneratorEma(checkpoints);
  } catch (error) {
    throw new CliFailure((error as Error).message);
  }
  const kimg = averaged.state.imagesSeen / 1000;
  const log = await ReadLogUpToAsync(join(run, LogFile), kimg);
  try {
    await EnsureFolderAsync(resolve(out));
    await trainer.WriteCheckpointAsync(resolve(target), averaged);
    if (log) await WriteFileAtomicAsync(resolve(out, LogFile), new TextEncoder().encode(log.text));
  } catch (error) {
    throw new CliFailure(`--out ${out}: ${(error as Error).message}`);
  }
  process.stdout.write(`averaged G_ema of ${chosen.length} snapshots of ${run} (${chosen.map((s) => s.kimg.toFixed(3)).join(", ")} kimg) -> ${target} (at ${kimg.toFixed(3)} kimg; log: ${log ? `${log.lines} lines` : "none"})\n`);
}

/** The run's log lines up to `kimg` (later ticks are past the checkpoint; a half-written last line is dropped), or null without a log. */
async function ReadLogUpToAsync(path: string, kimg: number): Promise<{ text: string; lines: number } | null> {
  const text = await readFile(path, "utf8").catch(() => null);
  if (text === null) return null;
  const kept = text.split("\n").filter((line) => {
    try {
      const entry = JSON.parse(line) as { kimg?: unknown };
      return typeof entry.kimg === "number" && entry.kimg <= kimg + 1e-9;
    } catch {
      return false;
    }
  });
  return { text: kept.map((l) => `${l}\n`).join(""), lines: kept.length };
}

/** `checkpoint info --json`: what the summary shows, as values (options as stored). */
export function CheckpointFacts(c: CheckpointContents, file: string, bytes: number): Record<string, unknown> {
  const { options, state: s, data, stored } = c;
  const count = (m: ReadonlyMap<string, Float32Array>) => [...m.values()].reduce((n, v) => n + v.length, 0);
  const moments = (a: { m: Float32Array[] }) => a.m.reduce((n, v) => n + v.length, 0);
  const p = (s.augment as { controller?: { p?: unknown } } | null)?.controller?.p;
  return {
    file,
    bytes,
    storage: stored ? { gzip: stored.gzip, bytes: stored.bytes, types: stored.types, formatVersion: stored.formatVersion } : null,
    kimg: s.imagesSeen / 1000,
    imagesSeen: s.imagesSeen,
    step: s.step,
    adamSteps: { generator: s.adamG.step, discriminator: s.adamD.step },
    augmentP: typeof p === "number" ? p : null,
    data: { resolution: data.resolution, id: data.id ?? null, labels: data.labelNames },
    values: { generator: count(s.generator), generatorEma: count(s.generatorEma), discriminator: count(s.discriminator), adamG: 2 * moments(s.adamG), adamD: 2 * moments(s.adamD) },
    logLines: typeof c.extra?.log === "string" ? c.extra.log.split("\n").filter(Boolean).length : null,
    options,
  };
}

/** The human summary of a checkpoint, one string per line. */
export function FormatCheckpointSummary(c: CheckpointContents, file: string, bytes: number): string[] {
  const { options: o, state: s, data, stored } = c;
  const count = (m: ReadonlyMap<string, Float32Array>) => [...m.values()].reduce((n, v) => n + v.length, 0);
  const moments = (a: { m: Float32Array[] }) => a.m.reduce((n, v) => n + v.length, 0);
  const p = (s.augment as { controller?: { p?: unknown } } | null)?.controller?.p;
  const log = typeof c.extra?.log === "string" ? c.extra.log.split("\n").filter(Boolean).length : null;
  const storage = stored
    ? `${stored.gzip ? `packed (gzip of ${FormatBytes(stored.bytes)}), ` : ""}${stored.types.join(" + ")}, format version ${stored.formatVersion}`
    : "unknown";
  return [
    `file:      ${file} (${FormatBytes(bytes)})`,
    `storage:   ${storage}`,
    `progress:  ${(s.imagesSeen / 1000).toFixed(3)} kimg of ${o.kimg} (step ${s.step}, G Adam step ${s.adamG.step}, D Adam step ${s.adamD.step})`,
    `preset:    ${o.preset}, batch ${o.batch}, lr ${o.learningRate}, ${o.cond ? "conditional" : "unconditional"}, aug ${o.aug}${typeof p === "number" ? ` (p ${p.toFixed(3)})` : ""}, seed ${o.seed}, workers ${o.workers}`,
    `data:      ${data.resolution}x${data.resolution}, id ${data.id ?? "none (plain image folder)"}`,
    `labels:    ${data.labelNames.length ? data.labelNames.join(", ") : "none"}`,
    `values:    G ${count(s.generator)}, G_ema ${count(s.generatorEma)}, D ${count(s.discriminator)}, Adam G ${2 * moments(s.adamG)}, Adam D ${2 * moments(s.adamD)}`,
    `log:       ${log === null ? "not included" : `${log} lines included`}`,
    `options:   ${JSON.stringify(o)}`,
  ];
}
