// `pnpm bench:profile <file.cpuprofile>`: the heaviest frames of a CPU profile (see
// bench/README.md; `BENCH_CPU_PROF=1 pnpm bench` writes one for the API process).
import { printTopFrames } from './lib/profile.js';

const [file, limit] = process.argv.slice(2);
if (!file) throw new Error('usage: pnpm bench:profile <file.cpuprofile> [frames]');
await printTopFrames(file, Number(limit ?? 30), (line) => process.stdout.write(`${line}\n`));
