// The panel frame around a view: title, stale banner with Re-run, progress bar, error banner.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import type { VscodeProgressBar } from '@vscode-elements/elements/dist/vscode-progress-bar/vscode-progress-bar.js';

export interface Frame {
  /** Where the view mounts. */
  readonly viewRoot: HTMLElement;
  setTitle(title: string): void;
  setStale(stale: boolean): void;
  /** fraction undefined: indeterminate; >= 1 or null: hide. */
  setProgress(fraction: number | undefined | null, message?: string): void;
  showError(message: string | null): void;
}

export function createFrame(root: HTMLElement, onRerun: () => void): Frame {
  root.replaceChildren();
  const header = el('header', 'll-header');
  const title = el('h1', 'll-title');
  const stale = el('div', 'll-stale');
  stale.setAttribute('role', 'status');
  stale.hidden = true;
  const staleText = el('span');
  staleText.textContent = 'The prompt was edited: this result is stale.';
  const rerun = document.createElement('vscode-button');
  rerun.textContent = 'Re-run';
  rerun.setAttribute('title', 'Run the analysis again on the edited prompt');
  rerun.addEventListener('click', onRerun);
  stale.append(staleText, rerun);
  header.append(title, stale);

  const progress = document.createElement('vscode-progress-bar') as VscodeProgressBar;
  progress.classList.add('ll-progress');
  progress.max = 1;
  progress.hidden = true;
  const progressText = el('div', 'll-progress-text');
  progressText.setAttribute('aria-live', 'polite');
  progressText.hidden = true;

  const error = el('div', 'll-error');
  error.setAttribute('role', 'alert');
  error.hidden = true;

  const viewRoot = el('section', 'll-view');
  root.append(header, progress, progressText, error, viewRoot);

  return {
    viewRoot,
    setTitle(t) {
      title.textContent = t;
      document.title = t;
    },
    setStale(s) {
      stale.hidden = !s;
      root.classList.toggle('ll-is-stale', s);
    },
    setProgress(fraction, message) {
      const done = fraction === null || (fraction !== undefined && fraction >= 1);
      progress.hidden = done;
      progressText.hidden = done || !message;
      if (done) return;
      progress.indeterminate = fraction === undefined;
      if (fraction !== undefined) progress.value = fraction;
      progress.ariaLabel = message ?? 'Working…';
      progressText.textContent = message ?? '';
    },
    showError(message) {
      error.hidden = message === null;
      error.textContent = message ?? '';
    },
  };
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (className) e.className = className;
  return e;
}
