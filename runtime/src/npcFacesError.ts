/**
 * The one error type of the runtime. Callers (CLI, plugin, editor) switch on {@link NpcFacesError.code} to react;
 * the message is one line that says what is wrong and where.
 */

/** Why an operation failed. */
export type NpcFacesErrorCode =
  /** A path names no file (missing, or a directory). */
  | "NOT_A_FILE"
  /** The bytes are not a well-formed ONNX ModelProto. */
  | "NOT_ONNX"
  /** An ONNX model without the npc-faces metadata key. */
  | "NOT_NPC_FACES_MODEL"
  /** The model's format version is newer than this runtime reads. */
  | "FORMAT_TOO_NEW"
  /** The metadata JSON is unreadable or does not match the schema. */
  | "BAD_METADATA"
  /** The graph's bytes do not match the digest in the metadata (a damaged or altered file). */
  | "CORRUPT_MODEL"
  /** The graph's inputs/outputs are not those the metadata implies. */
  | "GRAPH_MISMATCH"
  /** A face request (seed, controls, ...) is invalid. */
  | "BAD_REQUEST"
  /** The inference backend failed to create a session or to run it. */
  | "BACKEND_FAILED"
  /** The generator was used after {@link FaceGenerator.disposeAsync}. */
  | "DISPOSED"
  /** A face manifest is malformed; the message lists every problem with its path. */
  | "BAD_MANIFEST";

/** An error with a machine-readable {@link NpcFacesErrorCode}. */
export class NpcFacesError extends Error {
  /** Machine-readable reason. */
  readonly code: NpcFacesErrorCode;

  /**
   * @param code machine-readable reason
   * @param message one line: what is wrong and where
   * @param options.cause the underlying error, if any
   */
  constructor(code: NpcFacesErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "NpcFacesError";
    this.code = code;
  }
}

/** True when `error` is an {@link NpcFacesError}, optionally with the given code. */
export function IsNpcFacesError(error: unknown, code?: NpcFacesErrorCode): error is NpcFacesError {
  return error instanceof NpcFacesError && (code === undefined || error.code === code);
}
