// How long the fault tests load the proxy: 1 in `npm test`, 4 in `npm run
// test:faults` (scripts/test.mjs), or FAULT_SCALE for a longer local run.
export const SCALE = Math.max(1, Number(process.env.FAULT_SCALE ?? 1) || 1)

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
