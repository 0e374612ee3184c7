/**
 * Value parsers for commander options (`Option.argParser`): each turns the text into a checked value or throws
 * `InvalidArgumentError`, so bad values stop the run before any work with a message naming the option.
 */
import { InvalidArgumentError, Option } from "commander";
import { AssertValidSeed, MaxSeed } from "@npc-faces/runtime";
import { ParseSeedList } from "../bake/seedList.js";

/** Parses a finite number (`0.7`, `-1.5`, `1e-3`); rejects empty text, `NaN`, `Infinity`, `0x10`. */
export function ParseFiniteNumber(text: string): number {
  const trimmed = text.trim();
  // Number() would accept "", "0x1f" and "Infinity"; allow plain decimal notation only.
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(trimmed)) throw new InvalidArgumentError(`expected a finite number, got "${text}"`);
  const value = Number(trimmed);
  if (!Number.isFinite(value)) throw new InvalidArgumentError(`expected a finite number, got "${text}"`);
  return value;
}

/** Parses `a,b,c` (names trimmed); an empty item (`a,,b`, a trailing comma) is refused rather than dropped. */
export function ParseNameList(text: string): string[] {
  const names = text.split(",").map((n) => n.trim());
  if (names.some((n) => n === "")) throw new InvalidArgumentError(`expected comma-separated names, got "${text}"`);
  return names;
}

/** Returns a parser of integers in `min..max`. */
export function IntegerParser(min: number, max: number): (text: string) => number {
  return (text: string): number => {
    const trimmed = text.trim();
    if (!/^[+-]?\d+$/.test(trimmed)) throw new InvalidArgumentError(`expected an integer in ${min}..${max}, got "${text}"`);
    const value = Number(trimmed);
    if (value < min || value > max) throw new InvalidArgumentError(`expected an integer in ${min}..${max}, got ${trimmed}`);
    return value;
  };
}

/** Returns a parser of finite numbers in `min..max`. */
export function NumberInRangeParser(min: number, max: number): (text: string) => number {
  return (text: string): number => {
    const value = ParseFiniteNumber(text);
    if (value < min || value > max) throw new InvalidArgumentError(`expected a number in ${min}..${max}, got ${text.trim()}`);
    return value;
  };
}

/** Parses one seed (an integer in 0..4294967295). */
export function ParseSeed(text: string): number {
  const trimmed = text.trim();
  const value = /^\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  try {
    AssertValidSeed(value);
  } catch {
    throw new InvalidArgumentError(`expected a seed, an integer in 0..${MaxSeed}, got "${text}"`);
  }
  return value;
}

/** Parses a seed list (`1-16,20,30-32`), see {@link ParseSeedList}. */
export function ParseSeedListArgument(text: string): number[] {
  try {
    return ParseSeedList(text);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

/**
 * Parser of a repeatable `name=value` option; accumulates into a record (a later value for the same name
 * wins). Whether the name exists is checked against the model later.
 */
export function CollectControl(text: string, previous: Record<string, number> | undefined): Record<string, number> {
  const match = /^\s*([^=\s]+)\s*=\s*(.*)$/.exec(text);
  if (!match) throw new InvalidArgumentError(`expected name=value (e.g. age=1.5), got "${text}"`);
  let value: number;
  try {
    value = ParseFiniteNumber(match[2]);
  } catch {
    throw new InvalidArgumentError(`control "${match[1]}": expected a finite number, got "${match[2]}"`);
  }
  return { ...(previous ?? {}), [match[1]]: value };
}

/** Parser of a repeatable `--label name=value` (a conditional model's label); a later value for the same name wins. */
export function CollectLabel(text: string, previous: Record<string, string> | undefined): Record<string, string> {
  const match = /^\s*([^=\s]+)\s*=\s*(.+?)\s*$/.exec(text);
  if (!match) throw new InvalidArgumentError(`expected name=value (e.g. gender=female), got "${text}"`);
  return { ...(previous ?? {}), [match[1]]: match[2] };
}

/**
 * `--engine canonical|native`, shared by the commands that draw faces: canonical (onnxruntime-web WASM, the bytes a
 * game shows in any browser, on every CPU) by default; native (onnxruntime-node) is faster but "close, not exact".
 */
export function EngineOption(): Option {
  return new Option(
    "--engine <engine>",
    "canonical: onnxruntime-web's WASM engine, the exact pixels the game shows in any browser, the same on every CPU; native: onnxruntime-node, several times faster, within 1 level of 255 on a few bytes (docs/seeds.md)",
  )
    .choices(["canonical", "native"])
    .default("canonical");
}
