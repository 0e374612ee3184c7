/**
 * Sharding for build farms: `--shard i/n` bakes the NPCs whose id hashes to slice i of n. Assignment is by a
 * stable hash of the id (not by position), so adding or removing an NPC never moves the others to another shard.
 */
import { createHash } from "node:crypto";

/** One slice of a sharded bake: `index` in 1..count. */
export interface BakeShard {
  readonly index: number;
  readonly count: number;
}

/** Largest shard count accepted. */
export const MaxShardCount = 1024;

/** A malformed `--shard` value. */
export class ShardSpecError extends Error {
  override readonly name = "ShardSpecError";
}

/**
 * Parses `i/n` (1-based: `1/3`, `2/3`, `3/3`).
 * @throws ShardSpecError saying what is wrong
 */
export function ParseShard(text: string): BakeShard {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!match) throw new ShardSpecError(`expected i/n, e.g. 2/3 (slice i of n, counted from 1), got "${text}"`);
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1 || count > MaxShardCount) throw new ShardSpecError(`shard count ${count} is out of range 1..${MaxShardCount}`);
  if (index < 1 || index > count) throw new ShardSpecError(`shard ${index} of ${count} does not exist (expected 1..${count})`);
  return { index, count };
}

/** The 1-based shard an NPC id belongs to among `count`: first 32 bits of SHA-256(id) modulo count, plus 1. */
export function ShardOfId(id: string, count: number): number {
  const digest = createHash("sha256").update(id, "utf8").digest();
  return (digest.readUInt32BE(0) % count) + 1;
}

/** True when `id` belongs to `shard` (always true without a shard). */
export function IsInShard(id: string, shard: BakeShard | undefined): boolean {
  return shard === undefined || shard.count === 1 || ShardOfId(id, shard.count) === shard.index;
}
