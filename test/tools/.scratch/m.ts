import { main } from '../../../server/tools/mapper-config.ts';
process.exitCode = await main(process.argv.slice(2));
