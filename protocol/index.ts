// The one protocol module shared by the extension host, the sidecar and the webview.
export * from './model';
export * from './core';
export * from './progress';
export * from './rpc';
export * from './webview';
export * from './decode';
export * from './skip';
export * from './probe';
