// Probe pillar: request/response types for the sidecar and messages for the probe panel.

// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface ProbeMethods {}
