/**
 * The safe unpickler on pickles written by CPython 3.11 (`pickle.dumps(value, protocol=p)`, bytes below as hex) and
 * on hand-made hostile ones: data comes back as plain values in every protocol; globals outside the whitelist,
 * INST/OBJ and truncated data end the read with one line.
 */
import { describe, expect, it } from "vitest";
import { UnpickleSafely, type PickleGlobal } from "../../src/import/pickleMachine.js";
import { PyDict, PyTuple } from "../../src/import/pythonValues.js";

const Hex = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, "hex"));

// {'a': [1, -2, 2.5, 'x', (True, None, False)], 'big': 2**70, 'neg': -(2**40), 's': {3}, 't': ()}
const SameValue: Record<number, string> = {
  0: "286470300a56610a70310a286c70320a49310a61492d320a6146322e350a6156780a70330a61284930310a4e4930300a7470340a6173566269670a70350a4c313138303539313632303731373431313330333432344c0a73566e65670a70360a4c2d313039393531313632373737364c0a7356730a70370a635f5f6275696c74696e5f5f0a7365740a70380a28286c70390a49330a61747031300a527031310a7356740a7031320a2874732e",
  2: "80027d71002858010000006171015d7102284b014afeffffff4740040000000000005801000000787103884e8987710465580300000062696771058a0900000000000000004058030000006e656771068a060000000000ff5801000000737107635f5f6275696c74696e5f5f0a7365740a71085d71094b036185710a52710b580100000074710c29752e",
  4: "80049554000000000000007d94288c0161945d94284b014afeffffff4740040000000000008c017894884e898794658c03626967948a090000000000000000408c036e6567948a060000000000ff8c0173948f94284b03908c01749429752e",
  5: "80059554000000000000007d94288c0161945d94284b014afeffffff4740040000000000008c017894884e898794658c03626967948a090000000000000000408c036e6567948a060000000000ff8c0173948f94284b03908c01749429752e",
};

// Protocols 0-2 spell a set as a call of the builtin `set` on a list: whitelisted here as data.
const SetGlobal: PickleGlobal = (args) => new Set(args[0] as unknown[]);
const Globals = new Map<string, PickleGlobal>([["__builtin__.set", SetGlobal]]);

describe("UnpickleSafely", () => {
  for (const protocol of [0, 2, 4, 5]) {
    it(`reads plain data written with protocol ${protocol}`, () => {
      const { value } = UnpickleSafely(Hex(SameValue[protocol]), { globals: Globals });
      expect(value).toBeInstanceOf(PyDict);
      const dict = value as PyDict;
      const list = dict.get("a") as unknown[];
      expect(list.slice(0, 4)).toEqual([1, -2, 2.5, "x"]);
      expect((list[4] as PyTuple).items).toEqual([true, null, false]);
      expect(dict.get("big")).toBe(2n ** 70n);
      expect(dict.get("neg")).toBe(-(2 ** 40));
      expect([...(dict.get("s") as Set<number>)]).toEqual([3]);
      expect((dict.get("t") as PyTuple).items).toEqual([]);
    });
  }

  it("returns bytes as views", () => {
    const { value } = UnpickleSafely(Hex("8004950e000000000000007d948c01629443030001ff94732e"), { globals: new Map() });
    expect([...((value as PyDict).get("b") as Uint8Array)]).toEqual([0, 1, 255]);
  });

  it("refuses globals outside the whitelist, naming them", () => {
    // builtins.eval("1"), protocol 2: GLOBAL, BINUNICODE, TUPLE1, REDUCE.
    const evil = Hex("8002" + Buffer.from("cbuiltins\neval\n").toString("hex") + "5801000000318552" + "2e");
    expect(() => UnpickleSafely(evil, { globals: new Map(), source: "evil.pkl" })).toThrow(/^evil\.pkl: pickle: refused global "builtins\.eval"/);
    // The same set pickle without its global whitelisted.
    expect(() => UnpickleSafely(Hex(SameValue[2]), { globals: new Map() })).toThrow(/refused global "__builtin__\.set"/);
  });

  it("refuses INST and OBJ, which build arbitrary objects", () => {
    expect(() => UnpickleSafely(new TextEncoder().encode("(ios\nsystem\n."), { globals: new Map() })).toThrow(/refused opcode INST/);
    expect(() => UnpickleSafely(Hex("28" + "6f" + "2e"), { globals: new Map() })).toThrow(/refused opcode OBJ/);
  });

  it("reports truncated and malformed data in one line", () => {
    const cut = Hex(SameValue[4]).subarray(0, 40);
    expect(() => UnpickleSafely(cut, { globals: new Map() })).toThrow(/truncated|no STOP/);
    expect(() => UnpickleSafely(Hex("80042e"), { globals: new Map() })).toThrow(/STOP with 0 values/);
    expect(() => UnpickleSafely(Hex("8004ff"), { globals: new Map() })).toThrow(/unknown opcode 0xff/);
    expect(() => UnpickleSafely(Hex("8004" + "6805" + "2e"), { globals: new Map() })).toThrow(/memo entry 5 missing/);
    expect(() => UnpickleSafely(Hex("8004" + "4b01" + "51" + "2e"), { globals: new Map() })).toThrow(/persistent id outside a torch.save file/);
  });
});
