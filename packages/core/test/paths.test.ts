import { describe, expect, it } from 'vitest';
import { checkRelativeName, comparePaths, compareCodePoints, normalizeIgnorePath } from '@modelseal/core/internals';

describe('comparePaths (model_signing canonical order)', () => {
  it('orders by path component, not by plain string', () => {
    // plain sort puts "a.txt" first because "." < "/"
    expect(['a.txt', 'a/b'].sort()).toEqual(['a.txt', 'a/b']);
    expect(['a.txt', 'a/b'].sort(comparePaths)).toEqual(['a/b', 'a.txt']);
    expect(['a-b/c', 'a/c'].sort(comparePaths)).toEqual(['a/c', 'a-b/c']);
    expect(['b', 'a/z/z', 'a/z', 'a'].sort(comparePaths)).toEqual(['a', 'a/z', 'a/z/z', 'b']);
  });

  it('compares by code point like Python, not by UTF-16 unit', () => {
    const astral = '\u{1F600}'; // U+1F600, UTF-16 starts 0xD83D
    const bmp = '\uFF5E'; // U+FF5E
    expect(bmp < astral).toBe(false); // JS string order
    expect(compareCodePoints(bmp, astral)).toBe(-1); // Python order
    expect([astral, bmp].sort(comparePaths)).toEqual([bmp, astral]);
  });
});

describe('checkRelativeName', () => {
  it.each([
    ['../x', 'escapes'],
    ['a/../../x', 'escapes'],
    ['/etc/passwd', 'absolute'],
    ['C:\\x', 'absolute'],
    ['a//b', 'not normalized'],
    ['./a', 'not normalized'],
    ['a\0b', 'NUL'],
    ['', 'empty'],
  ])('rejects %j', (name, why) => {
    expect(checkRelativeName(name)).toContain(why);
  });
  it('accepts ordinary and non-ASCII names', () => {
    expect(checkRelativeName('weights/模型-ü.safetensors')).toBeUndefined();
    expect(checkRelativeName('.')).toBeUndefined();
  });
  it('normalizes ignore paths and refuses escapes', () => {
    expect(normalizeIgnorePath('./.git/')).toBe('.git');
    expect(() => normalizeIgnorePath('../x')).toThrow(/escapes/);
    expect(() => normalizeIgnorePath('.')).toThrow();
  });
});
