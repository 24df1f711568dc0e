import { main } from '../../../server/tools/calib.ts';
process.exitCode = await main(process.argv.slice(2));
