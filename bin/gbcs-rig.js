#!/usr/bin/env node
// gbcs-rig's entry point: loads the TypeScript sources through tsx (no build step to go stale).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
