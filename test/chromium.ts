import { existsSync } from 'node:fs';

/**
 * The Chromium the browser and end-to-end tests drive: $CHROMIUM_PATH, else Debian's /usr/bin/chromium.
 * Playwright's own browser download cannot reach its host here, so we never rely on it.
 */
export function findChromium(): string | undefined {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return candidates.find((c): c is string => !!c && existsSync(c));
}

export const NO_CHROMIUM_MESSAGE =
  'No Chromium found for the browser tests. Install one (Debian/Ubuntu: `sudo apt-get install -y chromium`) ' +
  'or set CHROMIUM_PATH to a Chromium/Chrome executable.';

/** The Chromium path, or an error that says how to install one. */
export function chromiumPath(): string {
  const found = findChromium();
  if (!found) throw new Error(NO_CHROMIUM_MESSAGE);
  return found;
}

/** Flags measured to work headless on these machines (see ../shared/FACTS.md). */
export function chromiumArgs({ webgpu }: { webgpu: boolean }): string[] {
  const args = [
    '--no-sandbox',
    '--disable-dev-shm-usage',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-quic',
  ];
  if (webgpu) args.push('--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-angle=swiftshader');
  return args;
}
