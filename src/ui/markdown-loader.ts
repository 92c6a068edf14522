/**
 * marked + DOMPurify are about a third of the app's script; they load when the first answer is shown,
 * not before the first user action (the empty state needs neither).
 */
type Render = (text: string) => DocumentFragment;

let renderer: Render | null = null;
let loading: Promise<Render> | null = null;

/** The renderer if it is loaded, else null (and it starts loading). */
export function markdownRenderer(): Render | null {
  if (!renderer) void loadMarkdown();
  return renderer;
}

export function loadMarkdown(): Promise<Render> {
  loading ??= import('./markdown').then((m) => (renderer = m.renderMarkdown));
  return loading;
}
