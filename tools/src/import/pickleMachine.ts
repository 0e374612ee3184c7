/**
 * A safe reader of Python pickles (protocols 0-5): it runs the pickle's stack machine but never executes
 * anything. Python's `pickle.load` imports and calls whatever globals a file names (any code); here a global is
 * only accepted when the caller whitelists it, and a whitelisted global is a TypeScript function that builds
 * plain data (a dict, a tensor description). Every other global, and the opcodes that exist only to call code
 * (INST, OBJ, EXT*, out-of-band buffers), end the read with a one-line error naming them.
 */
import { PyDict, PyGlobal, PyObject, PyTuple, PyTypeName, type PyValue } from "./pythonValues.js";

/** What a whitelisted global does when a pickle calls it (REDUCE or NEWOBJ) with the given arguments. */
export type PickleGlobal = (args: readonly PyValue[], how: "call" | "new") => PyValue;

/** Options of {@link UnpickleSafely}. */
export interface UnpickleOptions {
  /** Whitelisted globals by qualified name (`module.name`). */
  readonly globals: ReadonlyMap<string, PickleGlobal>;
  /** Resolves persistent ids (torch.save's storages); absent: a persistent id is an error. */
  readonly persistentLoad?: (id: PyValue) => PyValue;
  /** Byte offset to start at (torch's legacy format holds several pickles in a row). */
  readonly offset?: number;
  /** For messages, e.g. the file name. */
  readonly source?: string;
}

/** Result of {@link UnpickleSafely}: the value and the offset just after the STOP opcode. */
export interface UnpickleResult {
  readonly value: PyValue;
  readonly end: number;
}

const Mark = Symbol("mark");
type StackItem = PyValue | typeof Mark;

/**
 * Reads one pickle from `bytes`. Throws `Error("<source>: pickle: ...")` on anything outside the whitelist,
 * on truncated or malformed data, and on opcodes that would run code.
 */
export function UnpickleSafely(bytes: Uint8Array, options: UnpickleOptions): UnpickleResult {
  const source = options.source ?? "pickle";
  const fail = (message: string): never => {
    throw new Error(`${source}: pickle: ${message}`);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = new TextDecoder("utf-8");
  const latin1 = new TextDecoder("latin1");
  let pos = options.offset ?? 0;
  const stack: StackItem[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PyValue>();

  const need = (n: number): number => {
    if (!Number.isSafeInteger(n) || n < 0 || pos + n > bytes.length) fail(`truncated data at byte ${pos} (needs ${n} more bytes)`);
    const at = pos;
    pos += n;
    return at;
  };
  const u8 = (): number => bytes[need(1)];
  const u16 = (): number => view.getUint16(need(2), true);
  const u32 = (): number => view.getUint32(need(4), true);
  const i32 = (): number => view.getInt32(need(4), true);
  const u64 = (): number => {
    const at = need(8);
    const value = view.getBigUint64(at, true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) fail(`a length of ${value} bytes`);
    return Number(value);
  };
  const take = (n: number): Uint8Array => bytes.subarray(need(n), pos);
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail("truncated text opcode");
    const s = latin1.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): PyValue => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1])) fail("stack underflow");
    return stack.pop() as PyValue;
  };
  const top = (): PyValue => {
    if (stack.length === 0) fail("stack underflow");
    return stack[stack.length - 1] as PyValue;
  };
  const popMark = (): PyValue[] => {
    const at = marks.pop();
    if (at === undefined) fail("MARK missing");
    const items = stack.splice(at!) as PyValue[];
    return items;
  };
  const lookupGlobal = (qualifiedName: string): PyGlobal => {
    if (!options.globals.has(qualifiedName)) fail(`refused global "${qualifiedName}" (not a data class this importer reads; the file may need code execution)`);
    return new PyGlobal(qualifiedName);
  };
  const callGlobal = (callable: PyValue, args: PyValue, how: "call" | "new"): PyValue => {
    if (!(callable instanceof PyGlobal)) fail(`cannot call a ${PyTypeName(callable)}`);
    if (!(args instanceof PyTuple)) fail(`arguments of ${(callable as PyGlobal).qualifiedName} are a ${PyTypeName(args)}, not a tuple`);
    const name = (callable as PyGlobal).qualifiedName;
    try {
      return options.globals.get(name)!((args as PyTuple).items, how);
    } catch (error) {
      const message = (error as Error).message;
      throw new Error(message.startsWith(`${source}:`) ? message : `${source}: pickle: ${name}: ${message}`, { cause: error });
    }
  };
  const setItems = (target: PyValue, items: PyValue[]): void => {
    if (!(target instanceof PyDict)) fail(`SETITEMS on a ${PyTypeName(target)}`);
    if (items.length % 2 !== 0) fail("SETITEMS with an odd number of items");
    for (let i = 0; i < items.length; i += 2) (target as PyDict).set(items[i], items[i + 1]);
  };
  const appendItems = (target: PyValue, items: PyValue[]): void => {
    if (!Array.isArray(target)) fail(`APPENDS on a ${PyTypeName(target)}`);
    (target as PyValue[]).push(...items);
  };
  const build = (target: PyValue, state: PyValue): void => {
    if (target instanceof PyObject) target.state = state;
    else if (target instanceof PyDict) {
      // dict subclasses (OrderedDict, EasyDict): the state is instance attributes (a state dict's `_metadata`), not items.
      if (state !== null && !(state instanceof PyDict)) fail(`BUILD of a dict with a ${PyTypeName(state)} state`);
    } else if (state !== null && !(state instanceof PyDict && state.entries.size === 0)) {
      fail(`BUILD on a ${PyTypeName(target)}`);
    }
  };
  const long = (data: Uint8Array): number | bigint => {
    if (data.length === 0) return 0;
    let value = 0n;
    for (let i = data.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(data[i]);
    if (data[data.length - 1] & 0x80) value -= 1n << BigInt(8 * data.length);
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  };

  for (;;) {
    if (pos >= bytes.length) fail("no STOP opcode (truncated file)");
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail("pickle protocol newer than 5");
        break;
      case 0x95: // FRAME (framing only: the length is advisory)
        need(8);
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length !== 0) fail(`STOP with ${stack.length} values on the stack`);
        return { value: stack[0] as PyValue, end: pos };
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        if (stack.length > 0 && (marks.length === 0 || stack.length > marks[marks.length - 1])) stack.pop();
        else popMark();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      // ---- scalars
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(long(take(u8())));
        break;
      case 0x8b: // LONG4
        stack.push(long(take(u32())));
        break;
      case 0x49: { // INT (text; "00"/"01" are protocol 0's booleans)
        const s = line().trim();
        if (s === "00" || s === "01") stack.push(s === "01");
        else if (/^-?\d+$/.test(s)) stack.push(long(BigIntToBytes(BigInt(s))));
        else fail(`bad INT "${s}"`);
        break;
      }
      case 0x4c: { // LONG (text)
        const s = line().trim().replace(/L$/, "");
        if (!/^-?\d+$/.test(s)) fail(`bad LONG "${s}"`);
        stack.push(long(BigIntToBytes(BigInt(s))));
        break;
      }
      case 0x47: // BINFLOAT (big-endian double)
        stack.push(view.getFloat64(need(8), false));
        break;
      case 0x46: { // FLOAT (text)
        const value = Number(line());
        if (Number.isNaN(value)) fail("bad FLOAT");
        stack.push(value);
        break;
      }
      // ---- strings and bytes
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text.decode(take(u8())));
        break;
      case 0x58: // BINUNICODE
        stack.push(text.decode(take(u32())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(text.decode(take(u64())));
        break;
      case 0x56: // UNICODE (raw-unicode-escape text; plain ASCII in practice)
        stack.push(line());
        break;
      case 0x55: // SHORT_BINSTRING (Python 2 str: read as latin-1 text)
        stack.push(latin1.decode(take(u8())));
        break;
      case 0x54: // BINSTRING
        stack.push(latin1.decode(take(i32())));
        break;
      case 0x53: { // STRING (quoted text)
        const s = line().trim();
        if (!/^(['"]).*\1$/.test(s)) fail("bad STRING");
        stack.push(s.slice(1, -1));
        break;
      }
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()));
        break;
      case 0x42: // BINBYTES
        stack.push(take(u32()));
        break;
      case 0x8e: // BINBYTES8
        stack.push(take(u64()));
        break;
      case 0x96: // BYTEARRAY8
        stack.push(take(u64()));
        break;
      // ---- containers
      case 0x29: // EMPTY_TUPLE
        stack.push(new PyTuple([]));
        break;
      case 0x74: // TUPLE
        stack.push(new PyTuple(popMark()));
        break;
      case 0x85: // TUPLE1
        stack.push(new PyTuple([pop()]));
        break;
      case 0x86: { // TUPLE2
        const b = pop();
        const a = pop();
        stack.push(new PyTuple([a, b]));
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(new PyTuple([a, b, c]));
        break;
      }
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x61: { // APPEND
        const item = pop();
        appendItems(top(), [item]);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new PyDict());
        break;
      case 0x64: { // DICT
        const dict = new PyDict();
        setItems(dict, popMark());
        stack.push(dict);
        break;
      }
      case 0x73: { // SETITEM
        const value = pop();
        const key = pop();
        setItems(top(), [key, value]);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x8f: // EMPTY_SET
        stack.push(new Set<PyValue>());
        break;
      case 0x90: { // ADDITEMS
        const items = popMark();
        const set = top();
        if (!(set instanceof Set)) fail(`ADDITEMS on a ${PyTypeName(set)}`);
        for (const item of items) (set as Set<PyValue>).add(item);
        break;
      }
      case 0x91: // FROZENSET
        stack.push(new Set<PyValue>(popMark()));
        break;
      // ---- memo
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x70: // PUT
        memo.set(Number(line()), top());
        break;
      case 0x68: // BINGET
      case 0x6a: // LONG_BINGET
      case 0x67: { // GET
        const key = op === 0x68 ? u8() : op === 0x6a ? u32() : Number(line());
        if (!memo.has(key)) fail(`memo entry ${key} missing`);
        stack.push(memo.get(key)!);
        break;
      }
      // ---- globals, calls, objects
      case 0x63: { // GLOBAL "module\nname\n"
        const module = line();
        stack.push(lookupGlobal(`${module}.${line()}`));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== "string" || typeof name !== "string") fail("STACK_GLOBAL without two strings");
        stack.push(lookupGlobal(`${module as string}.${name as string}`));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        const callable = pop();
        stack.push(callGlobal(callable, args, "call"));
        break;
      }
      case 0x81: { // NEWOBJ
        const args = pop();
        const cls = pop();
        stack.push(callGlobal(cls, args, "new"));
        break;
      }
      case 0x92: { // NEWOBJ_EX
        const kwargs = pop();
        const args = pop();
        const cls = pop();
        if (!(kwargs instanceof PyDict) || kwargs.entries.size > 0) fail("NEWOBJ_EX with keyword arguments");
        stack.push(callGlobal(cls, args, "new"));
        break;
      }
      case 0x62: { // BUILD
        const state = pop();
        build(top(), state);
        break;
      }
      case 0x51: // BINPERSID
      case 0x50: { // PERSID
        const id = op === 0x51 ? pop() : line();
        if (!options.persistentLoad) fail("a persistent id outside a torch.save file");
        stack.push(options.persistentLoad!(id));
        break;
      }
      case 0x69: // INST
      case 0x6f: // OBJ
        fail(`refused opcode ${op === 0x69 ? "INST" : "OBJ"} (builds an arbitrary object)`);
        break;
      case 0x82:
      case 0x83:
      case 0x84:
        fail("refused extension-registry opcode (EXT1/2/4)");
        break;
      case 0x97:
      case 0x98:
        fail("refused out-of-band buffer opcode");
        break;
      default:
        fail(`unknown opcode 0x${op.toString(16).padStart(2, "0")} at byte ${pos - 1}`);
    }
  }
}

/** Little-endian two's complement bytes of a bigint (to reuse the LONG1 decoder for text integers). */
function BigIntToBytes(value: bigint): Uint8Array {
  const out: number[] = [];
  let v = value;
  for (;;) {
    const byte = Number(v & 0xffn);
    out.push(byte);
    v >>= 8n;
    if ((v === 0n && (byte & 0x80) === 0) || (v === -1n && (byte & 0x80) !== 0)) break;
  }
  return Uint8Array.from(out);
}

/** Helper for whitelisted globals that build a dict subclass (OrderedDict, EasyDict): an empty dict. */
export function NewDict(): PyDict {
  return new PyDict();
}

/** Helper for whitelisted data classes (argparse.Namespace, ...): an object whose state BUILD will set. */
export function NewDataObject(className: string): PickleGlobal {
  return (args) => new PyObject(className, args);
}
