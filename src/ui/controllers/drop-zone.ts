
/** What the drop zone needs from its element. */
export interface DropZoneHost {
  /** Reflected on the element, so its styles can outline the zone while a file is held over it. */
  dragging: boolean;
  /** Whether a dropped picture can be used (the backend in use sees images). */
  readonly acceptsImages: boolean;
}

/**
 * A picture dragged over the conversation: the element shows it is a drop zone while a file is held over
 * it, and a dropped file goes to `attach` (the composer, which checks it like a picked one).
 * Bind `onDragOver`, `onDragLeave` and `onDrop` to the zone's element.
 */
export class DropZoneController {
  constructor(
    private readonly host: DropZoneHost,
    private readonly attach: (file: File) => void,
  ) {}

  readonly onDragOver = (e: DragEvent): void => {
    if (!this.host.acceptsImages || !e.dataTransfer?.types.includes('Files')) return;
    e.preventDefault();
    this.host.dragging = true;
  };

  readonly onDragLeave = (): void => {
    this.host.dragging = false;
  };

  readonly onDrop = (e: DragEvent): void => {
    this.host.dragging = false;
    const file = e.dataTransfer?.files[0];
    if (!file || !this.host.acceptsImages) return;
    e.preventDefault();
    this.attach(file);
  };
}
