/**
 * Faces on `<canvas>`es: RGBA from the face worker drawn as they are (one canvas pixel per face pixel, scaled by
 * CSS), and a view that keeps one face of a changing request on screen with its cache reference.
 */
import type { FaceImage, FaceRequest } from "@npc-faces/runtime";
import type { FaceLease, FaceWorkerClient } from "@npc-faces/babylon";

/** Draws a face (RGBA8, top row first) into a canvas of its size. */
export function DrawFace(canvas: HTMLCanvasElement, face: FaceImage): void {
  if (canvas.width !== face.width) canvas.width = face.width;
  if (canvas.height !== face.height) canvas.height = face.height;
  const image = new ImageData(new Uint8ClampedArray(face.data), face.width, face.height);
  canvas.getContext("2d")!.putImageData(image, 0, 0);
}

/** Bytes as base64 (for the test hook: crosses `page.evaluate` compactly). */
export function BytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/**
 * One canvas showing the face of the latest request given to {@link show}: the previous face stays until the new one
 * is drawn (no flicker while a slider moves), superseded requests are released (queued ones are then never generated).
 */
export class FaceView {
  /** The face drawn now. */
  face: FaceImage | undefined;
  /** The request of the face drawn now. */
  shownRequest: FaceRequest | undefined;
  private shown: FaceLease | undefined;
  private pending: FaceLease | undefined;
  private waiters: (() => void)[] = [];

  constructor(
    readonly canvas: HTMLCanvasElement,
    private readonly client: FaceWorkerClient,
    private readonly onError: (message: string) => void = () => undefined,
  ) {}

  /** True while a requested face is not drawn yet. */
  get busy(): boolean {
    return this.pending !== undefined;
  }

  /** Shows the face of `request` (nothing happens when it is the one shown or being generated). */
  show(request: FaceRequest): void {
    let lease: FaceLease;
    try {
      lease = this.client.acquire(request);
    } catch (error) {
      this.onError((error as Error).message);
      return;
    }
    if (lease.key === (this.pending ?? this.shown)?.key) {
      lease.release();
      return;
    }
    this.pending?.release();
    this.pending = lease;
    lease.promise.then(
      (face) => {
        if (this.pending !== lease) return;
        this.pending = undefined;
        this.shown?.release();
        this.shown = lease;
        this.face = face;
        this.shownRequest = request;
        DrawFace(this.canvas, face);
        this.settle();
      },
      (error: unknown) => {
        if (this.pending !== lease) return;
        this.pending = undefined;
        lease.release();
        this.onError((error as Error).message);
        this.settle();
      },
    );
  }

  /** Resolves when no face is being generated for this view. */
  whenIdleAsync(): Promise<void> {
    if (!this.pending) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Releases the faces held. */
  dispose(): void {
    this.pending?.release();
    this.shown?.release();
    this.pending = this.shown = undefined;
    this.settle();
  }

  private settle(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
