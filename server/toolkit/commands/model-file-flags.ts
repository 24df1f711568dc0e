/**
 * The flags of the Hugging Face files beside a float model (preprocessor_config.json, config.json), which every
 * toolkit command that loads a model takes with the same meaning (loadModelContext reads them).
 */
import { optionalString, type Options, type Values } from '../../cli/args.ts';

export const MODEL_FILE_OPTIONS = {
  preprocessor: { type: 'string' },
  'model-config': { type: 'string' },
} as const satisfies Options;

/** --preprocessor / --model-config as option fields: absent when not given, so defaults stay the callee's. */
export function modelFileFlags(values: Values): { preprocessor?: string; modelConfig?: string } {
  const preprocessor = optionalString(values, 'preprocessor');
  const modelConfig = optionalString(values, 'model-config');
  return { ...(preprocessor ? { preprocessor } : {}), ...(modelConfig ? { modelConfig } : {}) };
}
