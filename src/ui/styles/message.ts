import { css } from 'lit';

/** One turn of the conversation (message-item): bubbles, the photo, details, actions, the edit form. */
export const messageStyles = css`
  :host {
    display: block;
  }
  article {
    display: flex;
    flex-direction: column;
    gap: 0.35rem;
  }
  :host([role-name='user']) article {
    align-items: flex-end;
  }
  .bubble {
    max-width: min(100%, 46rem);
    line-height: 1.55;
    overflow-wrap: anywhere;
  }
  :host([role-name='user']) .bubble {
    background: var(--user-bubble);
    padding: 0.55rem 0.9rem;
    border-radius: var(--radius) var(--radius) 4px var(--radius);
    white-space: pre-wrap;
  }
  :host([role-name='assistant']) .bubble {
    width: 100%;
  }
  .photo {
    display: block;
    max-width: min(100%, 280px);
    max-height: 280px;
    border-radius: var(--radius);
    border: 1px solid var(--border);
    object-fit: contain;
    background: var(--bg-sunken);
  }
  figure {
    margin: 0;
    display: grid;
    justify-items: end;
    gap: 0.3rem;
  }
  figure.out .photo {
    max-width: min(100%, 120px);
    max-height: 120px;
    opacity: 0.65;
    filter: grayscale(0.6);
  }
  figcaption {
    display: flex;
    flex-wrap: wrap;
    justify-content: flex-end;
    align-items: center;
    gap: 0.2rem 0.5rem;
    font-size: 0.78rem;
    color: var(--text-muted);
  }
  .badge {
    border: 1px solid var(--border);
    border-radius: 999px;
    padding: 0.05rem 0.5rem;
  }
  .linkish {
    border: 0;
    background: none;
    padding: 0.2rem 0;
    color: var(--accent);
    text-decoration: underline;
    font-size: inherit;
  }
  .elapsed {
    font-variant-numeric: tabular-nums;
    white-space: pre;
  }
  .meta {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.25rem 0.6rem;
    font-size: 0.78rem;
    color: var(--text-muted);
  }
  .status {
    font-weight: 600;
  }
  .status.stopped,
  .status.interrupted,
  .status.cut-off {
    color: var(--text);
  }
  .actions {
    display: flex;
    gap: 0.25rem;
  }
  .actions .btn {
    min-height: 30px;
    padding: 0.15rem 0.6rem;
    font-size: 0.8rem;
  }
  .thinking {
    display: inline-flex;
    gap: 0.5rem;
    align-items: center;
    color: var(--text-muted);
  }
  .pulse {
    width: 8px;
    height: 8px;
    border-radius: 50%;
    background: var(--accent);
    animation: pulse 1.2s infinite;
    flex: none;
  }
  @keyframes pulse {
    50% {
      opacity: 0.3;
    }
  }
  .cursor::after {
    content: '▍';
    margin-inline-start: 1px;
    animation: pulse 1s infinite;
    color: var(--accent);
  }
  @media (prefers-reduced-motion: reduce) {
    .pulse,
    .cursor::after {
      animation: none;
    }
  }
  form.edit {
    width: min(100%, 46rem);
    display: grid;
    gap: 0.4rem;
  }
  form.edit textarea {
    font: inherit;
    color: inherit;
    background: var(--surface);
    border: 1px solid var(--border);
    border-radius: var(--radius-sm);
    padding: 0.5rem 0.7rem;
    min-height: 4rem;
    resize: vertical;
  }
  form.edit .help {
    margin: 0;
    font-size: 0.8rem;
  }
  form.edit .row {
    display: flex;
    gap: 0.4rem;
    justify-content: flex-end;
  }
  error-banner {
    width: 100%;
  }
  .versions {
    display: inline-flex;
    align-items: center;
    gap: 0.1rem;
    font-variant-numeric: tabular-nums;
  }
  .versions .icon-btn {
    min-width: 30px;
    min-height: 30px;
    font-size: 1.05rem;
  }
`;
