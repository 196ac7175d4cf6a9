// The API VS Code injects into webviews, and CSS imported as text (esbuild loader '.css': 'text').
interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

declare module '*.css' {
  const text: string;
  export default text;
}
