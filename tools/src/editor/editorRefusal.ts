/** A request the editor refuses on purpose (bad host, path outside the project, ...); `message` is for users. */
export class EditorRefusal extends Error {
  override readonly name = "EditorRefusal";
}
