// Preloaded (node --import) into a CLI child by the memory tests: on exit,
// writes the process's peak resident set size (KiB) to $MODELSEAL_MAX_RSS_FILE.
import { writeFileSync } from 'node:fs';

process.on('exit', () => writeFileSync(process.env.MODELSEAL_MAX_RSS_FILE, String(process.resourceUsage().maxRSS)));
