import { consume } from '@lit/context';
import { LitElement, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { settingsContext } from './contexts';
import { ListenController } from './controllers/listen';
import type { SettingsStore, ThemeChoice } from './services/settings';
import { base } from './styles/theme';
import { icons } from './styles/icons';

const NEXT: Record<ThemeChoice, ThemeChoice> = { system: 'light', light: 'dark', dark: 'system' };
const NAME: Record<ThemeChoice, string> = { system: 'system', light: 'light', dark: 'dark' };

/** One button that cycles the theme: follow the system → light → dark. Saved with the settings. */
@customElement('theme-switch')
export class ThemeSwitch extends LitElement {
  static override styles = [base];

  @consume({ context: settingsContext }) @property({ attribute: false }) settings?: SettingsStore;

  constructor() {
    super();
    new ListenController(this, () => this.settings, ['change']);
  }

  override render() {
    const theme = this.settings?.value.theme ?? 'system';
    const label = `Theme: ${NAME[theme]}. Switch to ${NAME[NEXT[theme]]}`;
    return html`<button class="icon-btn" type="button" aria-label=${label} title=${label} @click=${() => this.settings?.update({ theme: NEXT[theme] })}>
      ${theme === 'light' ? icons.sun : theme === 'dark' ? icons.moon : icons.monitor}
    </button>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'theme-switch': ThemeSwitch;
  }
}
