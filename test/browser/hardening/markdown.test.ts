/**
 * Model output → DOM, without the built app's CSP (as in `npm run dev` or on a host that drops it): the
 * sanitizer alone must keep the answer from running code or fetching anything.
 */
import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../../../src/ui/markdown';

function mount(text: string): HTMLElement {
  const div = document.createElement('div');
  div.append(renderMarkdown(text));
  document.body.append(div);
  return div;
}

describe('renderMarkdown without a CSP', () => {
  it('inline SVG and MathML are dropped, so an SVG <image> cannot fetch a remote URL', async () => {
    const url = `https://attacker.example/svg-${Date.now()}.png`;
    const div = mount(`Look: <svg><image href="${url}"/><use href="${url}#x"/></svg> <math><mi>x</mi></math> done`);
    await new Promise((r) => setTimeout(r, 200));
    expect(div.querySelectorAll('svg, image, use, math').length).toBe(0);
    expect(div.textContent).toContain('Look:');
    expect(div.textContent).toContain('done');
    expect(performance.getEntriesByType('resource').some((e) => e.name.startsWith('https://attacker.example'))).toBe(false);
    div.remove();
  });

  it('markdown and HTML that would run code are inert', async () => {
    const w = window as unknown as { __md?: unknown };
    const div = mount([
      '<img src=x onerror="window.__md=1"> <script>window.__md=2</script>',
      '[a](javascript:window.__md=3) <a href="vbscript:x">b</a> <a href=" jAvAsCrIpT:window.__md=4">c</a>',
      '<details open ontoggle="window.__md=5">d</details> <div onmouseover="window.__md=6">e</div>',
    ].join('\n\n'));
    for (const a of div.querySelectorAll('a')) a.click();
    await new Promise((r) => setTimeout(r, 200));
    expect(w.__md).toBeUndefined();
    const attrs = [...div.querySelectorAll('*')].flatMap((n) => [...n.attributes].map((a) => `${a.name}=${a.value}`));
    expect(attrs.filter((a) => /^on/i.test(a) || /script:/i.test(a))).toEqual([]);
    div.remove();
  });
});
