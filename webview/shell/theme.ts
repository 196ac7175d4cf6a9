// VS Code theme changes inside a webview: the body's vscode-light / vscode-dark /
// vscode-high-contrast(-light) class changes (other body class changes are ignored).

/** The current theme class, e.g. 'vscode-dark'. */
export function themeKind(): string {
  return [...document.body.classList].filter((c) => /^vscode-(light|dark|high-contrast)/.test(c)).join(' ');
}

/** Calls `listener` when the theme class changes; returns a function that stops listening. */
export function onThemeChange(listener: () => void): () => void {
  let last = themeKind();
  const observer = new MutationObserver(() => {
    const now = themeKind();
    if (now === last) return;
    last = now;
    listener();
  });
  observer.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  return () => observer.disconnect();
}
