// Decode pillar: request/response types for the sidecar and messages for the decode panel.

// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface DecodeMethods {}
