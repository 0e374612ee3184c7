import { describe, expect, it } from "vitest";
import { FormatSeedList, ParseSeedList, SeedListError } from "../../src/bake/seedList.js";
import { CollectControl, IntegerParser, NumberInRangeParser, ParseFiniteNumber, ParseNameList, ParseSeed, ParseSeedListArgument } from "../../src/cli/argParsers.js";

describe("ParseSeedList", () => {
  it("expands ranges and single seeds in order", () => {
    expect(ParseSeedList("1-16,20,30-32")).toEqual([...Array.from({ length: 16 }, (_, i) => i + 1), 20, 30, 31, 32]);
    expect(ParseSeedList("7")).toEqual([7]);
    expect(ParseSeedList(" 3 - 5 , 1 ")).toEqual([3, 4, 5, 1]);
    expect(ParseSeedList("0,4294967295")).toEqual([0, 4294967295]);
    expect(ParseSeedList("4294967294-4294967295")).toEqual([4294967294, 4294967295]);
  });

  it("drops duplicates, keeping the first occurrence", () => {
    expect(ParseSeedList("3,1-4,2")).toEqual([3, 1, 2, 4]);
  });

  it.each([
    ["5-2", /range goes down \(5 > 2\)/],
    ["1-", /range has no end/],
    ["a", /expected a seed/],
    ["1,,2", /item 2 is empty/],
    ["1,", /item 2 is empty/],
    ["", /empty seed list/],
    ["4294967296", /out of range 0\.\.4294967295/],
    ["1-4294967296", /out of range/],
    ["1.5", /must be an integer/],
    ["-3", /not negative/],
    ["1e3", /must be an integer/],
    ["0x10", /expected a seed/],
    ["1-2-3", /expected a seed/],
  ])("rejects %j", (text, message) => {
    expect(() => ParseSeedList(text)).toThrow(SeedListError);
    expect(() => ParseSeedList(text)).toThrow(message);
  });

  it("refuses huge lists before expanding them", () => {
    expect(() => ParseSeedList("0-4294967295")).toThrow(/more than 1000000 seeds/);
    expect(() => ParseSeedList("1-10,20-25", { maxCount: 12 })).toThrow(/more than 12 seeds/);
    expect(ParseSeedList("1-10,20-21", { maxCount: 12 })).toHaveLength(12);
  });

  it("formats back into the compact form", () => {
    expect(FormatSeedList(ParseSeedList("1-16,20,30-32"))).toBe("1-16,20,30-32");
    expect(FormatSeedList([5, 3, 4])).toBe("5,3-4");
    expect(FormatSeedList([])).toBe("");
  });
});

describe("CLI value parsers", () => {
  it("parses finite numbers only", () => {
    expect(ParseFiniteNumber("0.7")).toBe(0.7);
    expect(ParseFiniteNumber("-1.5e-1")).toBe(-0.15);
    expect(ParseFiniteNumber(".5")).toBe(0.5);
    for (const bad of ["NaN", "Infinity", "-Infinity", "", "abc", "0x10", "1e999", "1,5"]) {
      expect(() => ParseFiniteNumber(bad), bad).toThrow(/expected a finite number/);
    }
  });

  it("parses name lists, refusing empty items", () => {
    expect(ParseNameList("eyes, mouth ,hair_style")).toEqual(["eyes", "mouth", "hair_style"]);
    for (const bad of ["", "eyes,,mouth", "eyes,", " , "]) expect(() => ParseNameList(bad), bad).toThrow(/expected comma-separated names/);
  });

  it("checks integer and number ranges", () => {
    expect(IntegerParser(1, 8)("8")).toBe(8);
    expect(() => IntegerParser(1, 8)("9")).toThrow(/integer in 1\.\.8/);
    expect(() => IntegerParser(1, 8)("2.5")).toThrow(/integer in 1\.\.8/);
    expect(NumberInRangeParser(0, 1)("0.25")).toBe(0.25);
    expect(() => NumberInRangeParser(0, 1)("1.5")).toThrow(/number in 0\.\.1/);
  });

  it("parses seeds and seed lists", () => {
    expect(ParseSeed("4294967295")).toBe(4294967295);
    for (const bad of ["-1", "4294967296", "1.5", "x", ""]) expect(() => ParseSeed(bad), bad).toThrow(/expected a seed/);
    expect(ParseSeedListArgument("1-3")).toEqual([1, 2, 3]);
    expect(() => ParseSeedListArgument("5-2")).toThrow(/range goes down/);
  });

  it("collects repeated name=value controls", () => {
    const first = CollectControl("age=1.5", undefined);
    expect(CollectControl("smile = -2", first)).toEqual({ age: 1.5, smile: -2 });
    expect(CollectControl("age=2", first)).toEqual({ age: 2 });
    expect(() => CollectControl("age", undefined)).toThrow(/expected name=value/);
    expect(() => CollectControl("age=NaN", undefined)).toThrow(/control "age": expected a finite number/);
    expect(() => CollectControl("=1", undefined)).toThrow(/expected name=value/);
  });
});
