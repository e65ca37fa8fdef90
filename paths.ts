// Where gbcs-rig's own files are — the checkout or installed package — whether a module runs from
// its TypeScript source or from the JavaScript build in dist/ (tsconfig.build.json).
import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** The package root: this file's folder, or its parent when this is dist/paths.js. */
export const ROOT = basename(here) === 'dist' ? dirname(here) : here;
