// fast-check for the project's property tests: random seeds on a developer's machine (to keep
// finding new cases), a fixed seed in CI (so CI is reproducible); FC_SEED overrides both.
import fc from 'fast-check';

const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : process.env.CI ? 20261121 : undefined;
if (seed !== undefined) fc.configureGlobal({ seed });

export default fc;
