/** The wire protocol shared by the server and the viewer (Node-free; see tsconfig.json beside this file). */
export * from './stages.ts';
export * from './postprocess-modes.ts';
export * from './controls.ts';
export * from './messages.ts';
export * from './frame-message.ts';
export * from './class-map-smoothing.ts';
