/** The named stages a frame passes through, in the order data flows (server and viewer share these names). */
export const STAGES = ['capture', 'preprocess', 'infer', 'postprocess', 'overlay', 'encode', 'send'] as const;
export type StageName = (typeof STAGES)[number];

/** Milliseconds a frame spent in each stage so far. */
export type StageTimings = Partial<Record<StageName, number>>;
