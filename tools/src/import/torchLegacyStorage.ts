/**
 * Storages inside a plain pickle. A torch tensor pickled with `pickle.dump` (NVIDIA's network pickles) reduces its
 * storage to `torch.storage._load_from_bytes(b)`, where `b` is torch's legacy (pre-zip) `torch.save` stream of that
 * one storage: five pickles (magic number, protocol version 1001, system info, the storage as a persistent id
 * `('storage', torch.FloatStorage, key, location, numel, view_metadata)`, the list of keys), then per key an int64
 * element count and the raw little-endian elements. This reads that stream with the safe unpickler; nothing in it
 * is executed.
 */
import { UnpickleSafely, type PickleGlobal } from "./pickleMachine.js";
import { PyDict, PyTuple, PyTypeName, type PyValue } from "./pythonValues.js";
import { StorageClassDtype, StorageClassDtypes, TorchDtypeSize, TorchStorage, type TorchDtype } from "./torchTensors.js";

/** torch's legacy serialisation magic number (0x1950a86a20f9469cfc6c). */
const LegacyMagic = 0x1950a86a20f9469cfc6cn;
const LegacyProtocol = 1001;

/** True for bytes that start like torch's legacy `torch.save` stream (protocol 2, then the magic number as LONG1). */
export function IsLegacyTorchSave(bytes: Uint8Array): boolean {
  return bytes.length > 4 && bytes[0] === 0x80 && bytes[1] === 0x02 && bytes[2] === 0x8a && bytes[3] === 0x0a;
}

/** Reads one storage from torch's legacy `torch.save` bytes (the argument of `torch.storage._load_from_bytes`). */
export function LoadLegacyStorage(bytes: Uint8Array, source: string): TorchStorage {
  const globals = new Map<string, PickleGlobal>();
  for (const name of StorageClassDtypes.keys()) globals.set(name, () => {
    throw new Error("a storage class is not callable here");
  });
  const result = ReadLegacyTorchSave(bytes, `${source}: legacy torch storage`, globals);
  if (!(result instanceof TorchStorage)) throw new Error(`${source}: legacy torch storage: expected a storage, found ${PyTypeName(result)}`);
  return result;
}

/**
 * Reads a whole legacy `torch.save` stream (files saved by torch < 1.6, and single storages inside pickles): the
 * object pickle with the given whitelisted globals, its storages resolved from the data that follows.
 */
export function ReadLegacyTorchSave(bytes: Uint8Array, where: string, globals: ReadonlyMap<string, PickleGlobal>): PyValue {
  let at = 0;
  const next = (persistentLoad?: (id: PyValue) => PyValue): PyValue => {
    const result = UnpickleSafely(bytes, { globals, offset: at, source: where, persistentLoad });
    at = result.end;
    return result.value;
  };
  const magic = next();
  if (magic !== LegacyMagic) throw new Error(`${where}: bad magic number`);
  if (next() !== LegacyProtocol) throw new Error(`${where}: unknown protocol version`);
  const info = next();
  if (info instanceof PyDict && info.get("little_endian") === false) throw new Error(`${where}: big-endian data is not supported`);

  // Storages are declared by persistent ids in the object pickle; their bytes follow the key list.
  const declared = new Map<string, { dtype: TorchDtype; numel: number; view?: { offset: number; numel: number } }>();
  const placeholders = new Map<string, TorchStorage>();
  const data = new Map<string, Uint8Array>();
  const persistentLoad = (id: PyValue): PyValue => {
    if (!(id instanceof PyTuple) || id.items[0] !== "storage") throw new Error(`${where}: unsupported persistent id (${PyTypeName(id)})`);
    const [, storageClass, key, , numel, viewMetadata] = id.items;
    const dtype = StorageClassDtype(storageClass);
    if (!dtype) throw new Error(`${where}: unsupported storage type ${PyTypeName(storageClass)}`);
    if (typeof key !== "string" || typeof numel !== "number") throw new Error(`${where}: malformed storage id`);
    if (viewMetadata !== null && viewMetadata !== undefined) throw new Error(`${where}: storage views (torch < 1.0 files) are not supported`);
    declared.set(key, { dtype, numel });
    let storage = placeholders.get(key);
    if (!storage) {
      storage = new TorchStorage(dtype, numel, () => data.get(key) ?? new Uint8Array(0));
      placeholders.set(key, storage);
    }
    return storage;
  };
  const result = next(persistentLoad);
  const keys = next();
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === "string")) throw new Error(`${where}: malformed storage key list`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const key of keys as string[]) {
    const entry = declared.get(key);
    if (!entry) throw new Error(`${where}: storage "${key}" was not declared`);
    if (at + 8 > bytes.length) throw new Error(`${where}: truncated storage data`);
    const numel = Number(view.getBigInt64(at, true));
    at += 8;
    const size = numel * TorchDtypeSize[entry.dtype];
    if (numel !== entry.numel || at + size > bytes.length) throw new Error(`${where}: storage "${key}" is truncated or mis-sized`);
    data.set(key, bytes.subarray(at, at + size));
    at += size;
  }
  return result;
}

/** The whitelisted `torch.storage._load_from_bytes` for plain pickles. */
export function LegacyStorageGlobal(source: string): PickleGlobal {
  return (args) => {
    if (!(args[0] instanceof Uint8Array)) throw new Error(`expected bytes, found ${PyTypeName(args[0])}`);
    return LoadLegacyStorage(args[0], source);
  };
}
