import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createManifest, FormatError, parseOmsStatement, parseShardName, toOmsStatement, type Manifest } from '@modelseal/core/internals';

const hex = (s: string) => createHash('sha256').update(s).digest('hex');

function sample(): Manifest {
  return createManifest(
    'm',
    { method: 'files', hashType: 'sha256', allowSymlinks: false, ignorePaths: ['.git'] },
    [
      { name: 'b.bin', algorithm: 'sha256', digest: hex('b') },
      { name: 'a/x.json', algorithm: 'sha256', digest: hex('x') },
      { name: 'a.txt', algorithm: 'sha256', digest: hex('a') },
    ],
  );
}

/** A statement as JSON with `edit` applied, re-signed with a consistent root digest when asked. */
function edited(edit: (s: any) => void, fixRoot = true): unknown {
  const s: any = structuredClone(toOmsStatement(sample()));
  edit(s);
  if (fixRoot) {
    const h = createHash('sha256');
    for (const r of s.predicate.resources) if (/^[0-9a-f]*$/.test(r.digest)) h.update(Buffer.from(r.digest, 'hex'));
    if (s.subject[0]) s.subject[0].digest.sha256 = h.digest('hex');
  }
  return s;
}

function codeOf(v: unknown): string {
  try {
    parseOmsStatement(v);
  } catch (e) {
    expect(e).toBeInstanceOf(FormatError);
    return (e as FormatError).code;
  }
  throw new Error('parsed without error');
}

describe('manifest', () => {
  it('sorts resources canonically and computes the root digest over raw digest bytes', () => {
    const m = sample();
    expect(m.resources.map((r) => r.name)).toEqual(['a/x.json', 'a.txt', 'b.bin']);
    const h = createHash('sha256');
    for (const k of ['x', 'a', 'b']) h.update(createHash('sha256').update(k).digest());
    expect(m.rootDigest).toBe(h.digest('hex'));
  });

  it('round-trips through the OMS statement', () => {
    const m = sample();
    const json = JSON.parse(JSON.stringify(toOmsStatement(m)));
    expect(json.predicateType).toBe('https://model_signing/signature/v1.0');
    expect(json.predicate.serialization).toEqual({ method: 'files', hash_type: 'sha256', allow_symlinks: false, ignore_paths: ['.git'] });
    expect(parseOmsStatement(json)).toEqual(m);
  });

  it('accepts shard_size written as a float, as model_signing does', () => {
    const s = {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'm', digest: { sha256: '' } }],
      predicateType: 'https://model_signing/signature/v1.0',
      predicate: {
        serialization: { method: 'shards', hash_type: 'sha256', allow_symlinks: false, shard_size: 8.0 },
        resources: [
          { name: 'f:0:8', algorithm: 'sha256-sharded-8', digest: hex('1') },
          { name: 'f:8:9', algorithm: 'sha256-sharded-8', digest: hex('2') },
        ],
      },
    };
    s.subject[0]!.digest.sha256 = createHash('sha256').update(Buffer.from(hex('1') + hex('2'), 'hex')).digest('hex');
    const m = parseOmsStatement(JSON.parse(JSON.stringify(s).replace('"shard_size":8', '"shard_size":8.0')));
    expect(m.serialization).toMatchObject({ method: 'shards', shardSize: 8 });
  });

  it.each([
    ['unknown method', (s: any) => (s.predicate.serialization.method = 'tensors'), 'BAD_SERIALIZATION'],
    ['unknown hash', (s: any) => (s.predicate.serialization.hash_type = 'md5'), 'BAD_SERIALIZATION'],
    ['non-boolean allow_symlinks', (s: any) => (s.predicate.serialization.allow_symlinks = 'no'), 'BAD_SERIALIZATION'],
    ['bad hex', (s: any) => (s.predicate.resources[0].digest = 'zz'.repeat(32)), 'BAD_DIGEST'],
    ['short digest', (s: any) => (s.predicate.resources[0].digest = 'ab'), 'BAD_DIGEST'],
    ['uppercase hex', (s: any) => (s.predicate.resources[0].digest = s.predicate.resources[0].digest.toUpperCase()), 'BAD_DIGEST'],
    ['wrong algorithm', (s: any) => (s.predicate.resources[0].algorithm = 'blake3'), 'BAD_ALGORITHM'],
    ['duplicate name', (s: any) => (s.predicate.resources[1] = { ...s.predicate.resources[0] }), 'DUPLICATE_RESOURCE'],
    ['.. name', (s: any) => (s.predicate.resources[0].name = '../etc/passwd'), 'BAD_PATH'],
    ['absolute name', (s: any) => (s.predicate.resources[0].name = '/etc/passwd'), 'BAD_PATH'],
    ['unsorted', (s: any) => s.predicate.resources.reverse(), 'UNSORTED_RESOURCES'],
    ['two subjects', (s: any) => s.subject.push(s.subject[0]), 'BAD_SUBJECT'],
    ['no subject', (s: any) => (s.subject = []), 'BAD_SUBJECT'],
    ['other predicate type', (s: any) => (s.predicateType = 'https://slsa.dev/provenance/v1'), 'BAD_PREDICATE_TYPE'],
    ['legacy v0.2 predicate naming a path outside the model', (s: any) => { s.predicateType = 'https://model_signing/Digests/v0.1'; s.subject[0].name = '../x'; }, 'BAD_PATH'],
    ['legacy v0.2 predicate hashed with another algorithm', (s: any) => { s.predicateType = 'https://model_signing/Digests/v0.1'; s.subject[0].annotations = { actual_hash_algorithm: 'file-blake3' }; }, 'BAD_ALGORITHM'],
    ['an empty shard (the OMS format gives empty files none)', (s: any) => { s.predicate.serialization = { method: 'shards', hash_type: 'sha256', allow_symlinks: false, shard_size: 10 }; s.predicate.resources = [{ name: 'a:0:0', algorithm: 'sha256-sharded-10', digest: s.predicate.resources[0].digest }]; }, 'BAD_SHARD_NAME'],
    ['a shard not at a shard boundary', (s: any) => { s.predicate.serialization = { method: 'shards', hash_type: 'sha256', allow_symlinks: false, shard_size: 10 }; s.predicate.resources = [{ name: 'a:5:10', algorithm: 'sha256-sharded-10', digest: s.predicate.resources[0].digest }]; }, 'BAD_SHARD_NAME'],
    ['wrong _type', (s: any) => (s._type = 'https://in-toto.io/Statement/v0.1'), 'BAD_STATEMENT'],
    ['files with shard_size', (s: any) => (s.predicate.serialization.shard_size = 10), 'BAD_SERIALIZATION'],
    ['ignore path escaping', (s: any) => (s.predicate.serialization.ignore_paths = ['../x']), 'BAD_IGNORE_PATH'],
  ])('rejects %s', (_what, edit, code) => {
    expect(codeOf(edited(edit))).toBe(code);
  });

  it('rejects a subject digest that is not the root of the resources', () => {
    expect(codeOf(edited((s) => (s.predicate.resources[0].digest = hex('tampered')), false))).toBe('ROOT_DIGEST_MISMATCH');
  });

  it('rejects non-objects', () => {
    expect(codeOf(null)).toBe('BAD_STATEMENT');
    expect(codeOf([1])).toBe('BAD_STATEMENT');
  });

  it('parses shard names from the right, so paths may contain colons', () => {
    expect(parseShardName('a:b/c.bin:0:10')).toEqual({ path: 'a:b/c.bin', start: 0, end: 10 });
    expect(() => parseShardName('a.bin:10:5')).toThrow(FormatError);
    expect(() => parseShardName('a.bin:01:5')).toThrow(FormatError);
    expect(() => parseShardName('a.bin')).toThrow(FormatError);
  });
});
