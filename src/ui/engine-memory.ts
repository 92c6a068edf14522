import { consume } from '@lit/context';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { EngineController } from '../engine/api';
import { engineContext } from './contexts';
import { ListenController } from './controllers/listen';
import { size } from './format';
import { panelStyles } from './styles/panel';
import { base } from './styles/theme';

/**
 * Settings → Storage & models: the memory the model's worker holds now and at rest, and whether Glimpse gave
 * memory back (WebAssembly memory never shrinks: after a big picture the worker is replaced between turns).
 * Shows nothing until the engine has read its worker's memory (a model loaded on WebAssembly's heap).
 */
@customElement('engine-memory')
export class EngineMemoryView extends LitElement {
  static override styles = [
    base,
    panelStyles,
    css`
      :host {
        display: block;
      }
    `,
  ];

  @consume({ context: engineContext, subscribe: true }) @property({ attribute: false }) engine?: EngineController;

  constructor() {
    super();
    new ListenController(this, () => this.engine, ['memory']);
  }

  override render() {
    const m = this.engine?.memory;
    if (!m) return nothing;
    const last = m.last;
    return html`<section aria-labelledby="memory-title">
      <h3 id="memory-title">Memory the model uses</h3>
      <div class="numbers">
        <span class="now"><strong>${size(m.nowBytes)}</strong> now</span>
        <span class="steady muted">${size(m.steadyBytes)} at rest after loading</span>
      </div>
      <p class="help given-back" role="status">
        ${last
          ? `Given back ${m.givenBack === 1 ? 'once' : `${m.givenBack} times`}: the model held ${size(last.fromBytes)}` +
            `${last.toBytes !== undefined ? ` and holds ${size(last.toBytes)} after reloading` : ', and is reloading'} (at ${new Date(last.at).toLocaleTimeString()}).`
          : `Above ${size(m.giveBackAboveBytes)} after an answer, Glimpse gives the memory back by reloading the model between answers (a big picture takes the most).`}
      </p>
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'engine-memory': EngineMemoryView;
  }
}
