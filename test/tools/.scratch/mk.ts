import { ensureDemoModel } from '../../../server/model/demo-model.ts';
const r = await ensureDemoModel('/tmp/t4/demo', { variant: 'tiny', size: 128, classes: 8, seed: 1 });
console.log(r);
