import { chromiumPath } from './chromium';

/** Fails the browser and e2e projects up front, with install instructions, when no Chromium is present. */
export default function setup(): void {
  chromiumPath();
}
