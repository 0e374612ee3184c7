/**
 * The Python values the safe unpickler builds ({@link UnpickleSafely}): plain data only. Lists are arrays, str is
 * string, bytes is Uint8Array, None is null, int is number (bigint beyond 2^53), float is number; tuples, dicts and
 * objects of whitelisted classes have their own types below, so that no pickle can make an arbitrary JS object.
 */

/** A Python tuple (kept apart from lists: torch's persistent ids and shapes are tuples). */
export class PyTuple {
  constructor(readonly items: readonly PyValue[]) {}
}

/** A dict key as JS can compare it: str and int keys as themselves, anything else by a printed form. */
export type PyDictKey = string | number;

/** A Python dict (insertion-ordered, as Python's); keys are strings or integers. */
export class PyDict {
  readonly entries = new Map<PyDictKey, PyValue>();

  /** Stores a value; other key types (tuples, floats) are refused, no layout this importer reads uses them. */
  set(key: PyValue, value: PyValue): void {
    if (typeof key === "string" || typeof key === "number") this.entries.set(key, value);
    else if (typeof key === "bigint") this.entries.set(key.toString(), value);
    else throw new Error(`pickle: a dict key of an unsupported type (${PyTypeName(key)})`);
  }

  get(key: PyDictKey): PyValue | undefined {
    return this.entries.get(key);
  }

  has(key: PyDictKey): boolean {
    return this.entries.has(key);
  }

  keys(): PyDictKey[] {
    return [...this.entries.keys()];
  }
}

/**
 * An object of a whitelisted class that carries only data: its qualified class name, constructor arguments and
 * pickled state (`__setstate__` / `__dict__`), e.g. `argparse.Namespace` or an NVIDIA persistent network object.
 */
export class PyObject {
  state: PyValue = null;
  constructor(
    readonly className: string,
    readonly args: readonly PyValue[],
  ) {}
}

/** A reference to a whitelisted global (`module.name`) as it sits on the stack before a call. */
export class PyGlobal {
  constructor(readonly qualifiedName: string) {}
}

/** Any value the unpickler may produce; `unknown` leaves room for the opaque results of whitelisted calls (tensors). */
export type PyValue = null | boolean | number | bigint | string | Uint8Array | PyValue[] | PyTuple | PyDict | PyObject | PyGlobal | Set<PyValue> | object;

/** A short type name for messages. */
export function PyTypeName(value: PyValue | undefined): string {
  if (value === null || value === undefined) return "None";
  if (typeof value === "boolean") return "bool";
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "float";
  if (typeof value === "bigint") return "int";
  if (typeof value === "string") return "str";
  if (value instanceof Uint8Array) return "bytes";
  if (Array.isArray(value)) return "list";
  if (value instanceof PyTuple) return "tuple";
  if (value instanceof PyDict) return "dict";
  if (value instanceof PyObject) return value.className;
  if (value instanceof PyGlobal) return value.qualifiedName;
  if (value instanceof Set) return "set";
  return value.constructor?.name ?? "object";
}

/** The dict's value at `key`, or a one-line error naming `where`. */
export function DictEntry(dict: PyValue | undefined, key: string, where: string): PyValue {
  if (!(dict instanceof PyDict)) throw new Error(`${where}: expected a dict, found ${PyTypeName(dict)}`);
  const value = dict.get(key);
  if (value === undefined) throw new Error(`${where}: no "${key}" entry`);
  return value;
}
