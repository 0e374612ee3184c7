/**
 * NVIDIA stylegan2-ada-pytorch network pickles (`network-snapshot-*.pkl`, the published `ffhq.pkl`, ...): a plain
 * pickle of `dict(training_set_kwargs, G, D, G_ema, augment_pipe)`. Every network is a "persistent" object
 * (torch_utils/persistence.py) pickled as `_reconstruct_persistent_obj(meta)`, where `meta` holds the class's
 * Python source (`module_src`, never executed here), its `class_name` and its `state` (the module's `__dict__`:
 * `_parameters`, `_buffers`, `_modules`, plain attributes). This reads the pickle with the safe unpickler and returns
 * the generator as {@link NvidiaModule} trees.
 */
import { NumpyScalarGlobals } from "./numpyScalars.js";
import { NewDict, UnpickleSafely, type PickleGlobal } from "./pickleMachine.js";
import { DictEntry, PyDict, PyObject, PyTypeName, type PyValue } from "./pythonValues.js";
import { LegacyStorageGlobal } from "./torchLegacyStorage.js";
import { TorchTensor, TorchTensorGlobals } from "./torchTensors.js";

/** One NVIDIA network module as pickled: class name and `__dict__`. */
export class NvidiaModule {
  constructor(
    readonly className: string,
    readonly state: PyDict,
    /** Dotted path from the generator, for messages (`synthesis.b8.conv0`). */
    readonly path: string,
  ) {}

  /** A sub-module (`_modules[name]`), or undefined. */
  child(name: string): NvidiaModule | undefined {
    const modules = this.state.get("_modules");
    const value = modules instanceof PyDict ? modules.get(name) : undefined;
    if (value === undefined || value === null) return undefined;
    if (!(value instanceof PyObject) || !(value.state instanceof PyDict)) throw new Error(`${this.path}.${name}: not a network module (${PyTypeName(value)})`);
    return new NvidiaModule(value.className, value.state, this.path ? `${this.path}.${name}` : name);
  }

  /** A required sub-module. */
  module(name: string): NvidiaModule {
    const child = this.child(name);
    if (!child) throw new Error(`${this.path || "generator"}: no sub-module "${name}"`);
    return child;
  }

  /** A parameter or buffer, or undefined. */
  tensorOrUndefined(name: string): TorchTensor | undefined {
    for (const group of ["_parameters", "_buffers"]) {
      const dict = this.state.get(group);
      const value = dict instanceof PyDict ? dict.get(name) : undefined;
      if (value instanceof TorchTensor) return value;
    }
    return undefined;
  }

  /** A required parameter or buffer. */
  tensor(name: string): TorchTensor {
    const t = this.tensorOrUndefined(name);
    if (!t) throw new Error(`${this.path || "generator"}: no tensor "${name}"`);
    return t;
  }

  /** A plain attribute (`self.z_dim`). */
  attribute(name: string): PyValue | undefined {
    return this.state.get(name);
  }

  /** A required numeric attribute. */
  number(name: string): number {
    const value = this.attribute(name);
    if (typeof value !== "number") throw new Error(`${this.path || "generator"}: attribute "${name}" is ${PyTypeName(value)}, expected a number`);
    return value;
  }
}

const PersistentClass = "torch_utils.persistence.persistent";

/** `_reconstruct_persistent_obj(meta)`: keeps class name and state; `module_src` is dropped unread. */
const ReconstructPersistent: PickleGlobal = (args) => {
  const meta = args[0];
  const type = DictEntry(meta, "type", "persistent object");
  if (type !== "class") throw new Error(`persistent object of type "${String(type)}" (only classes are read)`);
  const className = DictEntry(meta, "class_name", "persistent object");
  const state = DictEntry(meta, "state", "persistent object");
  if (typeof className !== "string" || !(state instanceof PyDict)) throw new Error("persistent object without class name or state");
  const object = new PyObject(className, [PersistentClass]);
  object.state = state;
  return object;
};

/** The globals an NVIDIA network pickle may name; anything else is refused. */
function NvidiaGlobals(source: string): Map<string, PickleGlobal> {
  return new Map<string, PickleGlobal>([
    ...TorchTensorGlobals(),
    ...NumpyScalarGlobals(),
    ["torch.storage._load_from_bytes", LegacyStorageGlobal(source)],
    ["torch_utils.persistence._reconstruct_persistent_obj", ReconstructPersistent],
    // dnnlib.EasyDict is a dict with attribute access: a dict here.
    ["dnnlib.util.EasyDict", () => NewDict()],
    ["dnnlib.EasyDict", () => NewDict()],
  ]);
}

/** What an NVIDIA pickle holds: the generator and, for provenance, the training-set options. */
export interface NvidiaPickleContents {
  readonly generator: NvidiaModule;
  /** `G_ema` for training snapshots; `G` when only a bare generator was pickled. */
  readonly generatorKey: string;
  readonly trainingSetKwargs?: PyDict;
}

/**
 * Reads an NVIDIA network pickle and returns its `G_ema`. Throws a one-line message for pickles that are not
 * NVIDIA snapshots, hold no generator (a discriminator alone) or name globals outside the whitelist.
 */
export function ReadNvidiaPickle(bytes: Uint8Array, source: string): NvidiaPickleContents {
  const { value } = UnpickleSafely(bytes, { globals: NvidiaGlobals(source), source });
  if (value instanceof PyObject && value.args[0] === PersistentClass) {
    // A generator pickled on its own (pickle.dump(G_ema, f)).
    if (value.className !== "Generator") throw new Error(`${source}: the pickle holds a ${value.className}, not a generator`);
    return { generator: new NvidiaModule(value.className, value.state as PyDict, ""), generatorKey: "G" };
  }
  if (!(value instanceof PyDict)) throw new Error(`${source}: not an NVIDIA network pickle (the pickle holds a ${PyTypeName(value)}, expected a dict with G_ema)`);
  const key = value.has("G_ema") ? "G_ema" : undefined;
  if (!key) {
    const keys = value.keys().join(", ");
    const what = value.has("D") ? "a discriminator-only pickle" : "not an NVIDIA network pickle";
    throw new Error(`${source}: ${what} (no G_ema; entries: ${keys || "none"})`);
  }
  const g = value.get(key);
  if (!(g instanceof PyObject) || g.args[0] !== PersistentClass || !(g.state instanceof PyDict)) {
    throw new Error(`${source}: ${key} is a ${PyTypeName(g)}, not an NVIDIA network object`);
  }
  if (g.className !== "Generator") throw new Error(`${source}: ${key} is an unknown class "${g.className}" (expected NVIDIA's Generator)`);
  const kwargs = value.get("training_set_kwargs");
  return { generator: new NvidiaModule(g.className, g.state, ""), generatorKey: key, ...(kwargs instanceof PyDict ? { trainingSetKwargs: kwargs } : {}) };
}
