/**
 * URL of the bundled default model (`default.onnx`, next to this module): a `file:` URL in Node, the bundle's
 * URL of the file in browsers. Fetch it with `fetch(DefaultModelUrl)` in browsers.
 */
export declare const DefaultModelUrl: URL;

/**
 * The bundled default model's path on disk (Node 20.16 or later).
 * @throws Error outside Node, or where {@link DefaultModelUrl} is not a `file:` URL
 */
export declare function DefaultModelPath(): string;
