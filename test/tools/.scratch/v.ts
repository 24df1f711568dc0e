import { main } from '../../../server/tools/verify.ts';
process.exitCode = await main(process.argv.slice(2));
