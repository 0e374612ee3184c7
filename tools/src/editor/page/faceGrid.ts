/**
 * The paged grid of faces by seed: page p shows seeds 24p .. 24p+23, generated in the face worker in batches (one
 * request each to the shared client, which batches them into few session runs) and drawn into canvases as they
 * arrive. Click a face to open it; Shift+click (or right-click) picks it as the breeding partner.
 */
import { MaxSeed, type FaceImage } from "@npc-faces/runtime";
import type { FaceLease, FaceWorkerClient } from "@npc-faces/babylon";
import { DrawFace } from "./faceCanvas.js";

/** Faces per grid page. */
export const FacesPerPage = 24;

/** The last page (it holds seed 4294967295). */
export const LastPage = Math.floor(MaxSeed / FacesPerPage);

/** The page that shows `seed`. */
export function PageOfSeed(seed: number): number {
  return Math.floor(seed / FacesPerPage);
}

/** What the grid tells the page. */
export interface FaceGridEvents {
  select(seed: number): void;
  pickPartner(seed: number): void;
  /** A page finished drawing (all its faces are on screen). */
  pageDrawn(page: number, milliseconds: number): void;
  error(message: string): void;
}

interface Cell {
  readonly seed: number;
  readonly element: HTMLButtonElement;
  readonly canvas: HTMLCanvasElement;
  lease: FaceLease | undefined;
  face: FaceImage | undefined;
}

/** The grid of one page of faces. */
export class FaceGrid {
  private pageValue = -1;
  private cells: Cell[] = [];
  private selected: number | undefined;
  private partner: number | undefined;
  private drawn: Promise<void> = Promise.resolve();

  constructor(
    private readonly container: HTMLElement,
    private readonly client: FaceWorkerClient,
    private readonly events: FaceGridEvents,
  ) {}

  /** The page shown. */
  get page(): number {
    return this.pageValue;
  }

  /** Seeds of the page shown. */
  get seeds(): number[] {
    return this.cells.map((c) => c.seed);
  }

  /** The face drawn for `seed` on the current page, if any. */
  faceOf(seed: number): FaceImage | undefined {
    return this.cells.find((c) => c.seed === seed)?.face;
  }

  /** Resolves when every face of the current page is drawn. */
  whenDrawnAsync(): Promise<void> {
    return this.drawn;
  }

  /** Shows page `page` (clamped to 0..{@link LastPage}); the previous page's faces are released. */
  showPage(page: number): void {
    const target = Math.max(0, Math.min(LastPage, Math.trunc(page)));
    if (target === this.pageValue) return;
    const started = performance.now();
    for (const cell of this.cells) cell.lease?.release();
    this.pageValue = target;
    this.container.replaceChildren();
    this.cells = [];
    const promises: Promise<void>[] = [];
    for (let i = 0; i < FacesPerPage; i++) {
      const seed = target * FacesPerPage + i;
      if (seed > MaxSeed) break;
      const element = document.createElement("button");
      element.type = "button";
      element.className = "cell";
      element.dataset.seed = String(seed);
      element.title = `seed ${seed} (click: open, Shift+click: breeding partner)`;
      const canvas = document.createElement("canvas");
      const label = document.createElement("span");
      label.textContent = String(seed);
      element.append(canvas, label);
      element.addEventListener("click", (event) => (event.shiftKey ? this.events.pickPartner(seed) : this.events.select(seed)));
      element.addEventListener("contextmenu", (event) => {
        event.preventDefault();
        this.events.pickPartner(seed);
      });
      this.container.append(element);
      const cell: Cell = { seed, element, canvas, lease: undefined, face: undefined };
      this.cells.push(cell);
      try {
        const lease = this.client.acquire({ seed });
        cell.lease = lease;
        promises.push(
          lease.promise.then(
            (face) => {
              if (cell.lease !== lease) return;
              cell.face = face;
              DrawFace(canvas, face);
              element.classList.add("drawn");
            },
            (error: unknown) => this.events.error(`seed ${seed}: ${(error as Error).message}`),
          ),
        );
      } catch (error) {
        this.events.error((error as Error).message);
      }
    }
    this.mark();
    this.drawn = Promise.all(promises).then(() => {
      if (this.pageValue === target) this.events.pageDrawn(target, performance.now() - started);
    });
  }

  /** Highlights the face open in the detail view and the breeding partner. */
  highlight(selected: number | undefined, partner: number | undefined): void {
    this.selected = selected;
    this.partner = partner;
    this.mark();
  }

  private mark(): void {
    for (const cell of this.cells) {
      cell.element.classList.toggle("selected", cell.seed === this.selected);
      cell.element.classList.toggle("partner", cell.seed === this.partner);
    }
  }
}
