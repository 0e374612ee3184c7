/**
 * rosinality stylegan2-pytorch checkpoints (`train.py`'s `{"g", "d", "g_ema", "g_optim", "d_optim", "args", ...}`,
 * or `convert_weight.py`'s `{"g_ema", "latent_avg"}`), saved with torch.save: a zip holding `<name>/data.pkl` and
 * one file per storage (`<name>/data/<key>`), which the pickle names by persistent ids
 * `('storage', torch.FloatStorage, key, location, numel)`. Read with the safe unpickler; storages load lazily, so
 * the discriminator and optimiser states are never decoded.
 */
import { NewDataObject, UnpickleSafely, type PickleGlobal } from "./pickleMachine.js";
import { PyDict, PyTuple, PyTypeName, type PyValue } from "./pythonValues.js";
import { StorageClassDtype, TensorToFloat32, TorchDtypeSize, TorchStorage, TorchTensor } from "./torchTensors.js";
import { TorchTensorGlobals } from "./torchTensors.js";
import { IsLegacyTorchSave, ReadLegacyTorchSave } from "./torchLegacyStorage.js";
import { ZipArchive } from "./zipArchive.js";

/** A rosinality generator state dict and the checkpoint's recorded mean w. */
export interface RosinalityCheckpoint {
  /** `g_ema` (or `g` when a file holds only that, or a bare state dict). */
  readonly stateDict: ReadonlyMap<string, TorchTensor>;
  readonly generatorKey: string;
  /** `latent_avg` ([style_dim]) when the file records it. */
  readonly latentAvg?: Float32Array;
  /** The training arguments (`args`), when recorded: size, n_mlp, latent, channel_multiplier. */
  readonly args?: PyDict;
}

/** Reads a torch.save zip and returns its generator state dict; one-line errors otherwise. */
export function ReadRosinalityCheckpoint(bytes: Uint8Array, source: string): RosinalityCheckpoint {
  const globals = new Map<string, PickleGlobal>([...TorchTensorGlobals(), ["argparse.Namespace", NewDataObject("argparse.Namespace")]]);
  // torch < 1.6 wrote the legacy stream instead of a zip.
  const value = IsLegacyTorchSave(bytes) ? ReadLegacyTorchSave(bytes, source, globals) : ReadZipTorchSave(bytes, source, globals);
  return GeneratorStateDict(value, source);
}

/** A torch.save zip: `<name>/data.pkl` with its storages in `<name>/data/<key>`. */
function ReadZipTorchSave(bytes: Uint8Array, source: string, globals: ReadonlyMap<string, PickleGlobal>): PyValue {
  const zip = new ZipArchive(bytes, source);
  const pickleName = [...zip.entries.keys()].find((n) => n.endsWith("/data.pkl") && n.split("/").length === 2);
  if (!pickleName) throw new Error(`${source}: a zip but not a torch.save file (no <name>/data.pkl)`);
  const prefix = pickleName.slice(0, -"data.pkl".length);
  const storages = new Map<string, TorchStorage>();
  const persistentLoad = (id: PyValue): PyValue => {
    if (!(id instanceof PyTuple) || id.items[0] !== "storage") throw new Error(`${source}: unsupported persistent id (${PyTypeName(id)})`);
    const [, storageClass, key, , numel] = id.items;
    const dtype = StorageClassDtype(storageClass);
    if (!dtype) throw new Error(`${source}: unsupported storage type ${PyTypeName(storageClass)}`);
    if (typeof key !== "string" || typeof numel !== "number") throw new Error(`${source}: malformed storage id`);
    let storage = storages.get(key);
    if (!storage) {
      storage = new TorchStorage(dtype, numel, () => {
        const data = zip.read(`${prefix}data/${key}`);
        if (data.length !== numel * TorchDtypeSize[dtype]) throw new Error(`${source}: storage ${key} has ${data.length} bytes, expected ${numel * TorchDtypeSize[dtype]}`);
        // Stored entries are views of the file: copy to an aligned buffer only when reading values (TensorToFloat32 uses a DataView).
        return data;
      });
      storages.set(key, storage);
    }
    return storage;
  };
  return UnpickleSafely(zip.read(pickleName), { globals, persistentLoad, source }).value;
}

/** The generator's state dict in a loaded checkpoint (`g_ema`, or a bare state dict). */
function GeneratorStateDict(value: PyValue, source: string): RosinalityCheckpoint {
  if (!(value instanceof PyDict)) throw new Error(`${source}: the checkpoint holds a ${PyTypeName(value)}, expected a dict`);
  let generatorKey = "";
  let dict: PyValue | undefined;
  if (value.has("g_ema")) [generatorKey, dict] = ["g_ema", value.get("g_ema")];
  else if (value.has("style.1.weight")) [generatorKey, dict] = ["state dict", value];
  else {
    const what = value.has("d") ? "a discriminator-only checkpoint" : "not a rosinality stylegan2 checkpoint";
    throw new Error(`${source}: ${what} (no g_ema; entries: ${value.keys().join(", ") || "none"})`);
  }
  if (!(dict instanceof PyDict)) throw new Error(`${source}: ${generatorKey} is a ${PyTypeName(dict)}, not a state dict`);
  const stateDict = new Map<string, TorchTensor>();
  for (const [key, tensor] of dict.entries) {
    if (!(tensor instanceof TorchTensor)) throw new Error(`${source}: ${generatorKey}["${key}"] is a ${PyTypeName(tensor)}, not a tensor`);
    stateDict.set(String(key), tensor);
  }
  const latent = value.get("latent_avg");
  const args = value.get("args");
  return {
    stateDict,
    generatorKey,
    ...(latent instanceof TorchTensor ? { latentAvg: TensorToFloat32(latent).subarray(0) } : {}),
    ...(args !== null && typeof args === "object" && "state" in args && (args as { state: PyValue }).state instanceof PyDict ? { args: (args as { state: PyDict }).state } : {}),
  };
}
