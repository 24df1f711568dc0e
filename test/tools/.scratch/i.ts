import { main } from '../../../server/tools/inspect.ts';
process.exitCode = await main(process.argv.slice(2));
