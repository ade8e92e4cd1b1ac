import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { keySigner, loadCertificates, loadPrivateKey, ModelsealError, signModel, verifyChain, verifyModel } from '@modelseal/core/internals';
import { bytes, codeOf, tempDir, writeTree } from './helpers.js';

/**
 * Certificate chains made with openssl (req/x509 with extension files), each
 * verified by modelseal and by `openssl verify` on the same files: both must
 * accept, or both refuse (ours with a specific code).
 */

interface Cert {
  name: string;
  key: string;
  pem: string;
}

const CA_EXT = 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n';
const LEAF_EXT = 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n';

class Pki {
  readonly dir = tempDir('modelseal-pki-');

  /** A certificate for `subject`, signed by `issuer` (self-signed without), with exactly these extensions. */
  cert(subject: string, ext: string, issuer?: Cert, o: { key?: string; issuerName?: string } = {}): Cert {
    const base = path.join(this.dir, subject.replace(/\W/g, '_') + '-' + randomBytes(3).toString('hex'));
    const key = o.key ?? `${base}.key`;
    if (!o.key) execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
    writeFileSync(`${base}.ext`, ext);
    execFileSync('openssl', ['req', '-new', '-key', key, '-subj', `/CN=${subject}`, '-out', `${base}.csr`]);
    const sign = issuer ? ['-CA', issuer.pem, '-CAkey', issuer.key] : ['-key', key];
    const serial = '0x' + randomBytes(8).toString('hex');
    execFileSync('openssl', ['x509', '-req', '-in', `${base}.csr`, ...sign, '-set_serial', serial, '-days', '30', '-extfile', `${base}.ext`, '-out', `${base}.pem`], { stdio: 'pipe' });
    return { name: subject, key, pem: `${base}.pem` };
  }

  /** A certificate whose issuer name is `issuerName` but which `signer`'s key signed. */
  misnamed(subject: string, ext: string, signer: Cert, issuerName: string): Cert {
    const impostor = this.cert(issuerName, CA_EXT, undefined, { key: signer.key });
    return this.cert(subject, ext, impostor);
  }
}

const x = (c: Cert) => new X509Certificate(execFileSync('openssl', ['x509', '-in', c.pem]));

function openssl(leaf: Cert, intermediates: Cert[], root: Cert): boolean {
  const untrusted = path.join(tempDir(), 'untrusted.pem');
  writeFileSync(untrusted, intermediates.map((c) => execFileSync('openssl', ['x509', '-in', c.pem]).toString()).join(''));
  const args = ['verify', '-CAfile', root.pem, ...(intermediates.length ? ['-untrusted', untrusted] : []), leaf.pem];
  return spawnSync('openssl', args, { encoding: 'utf8' }).status === 0;
}

function ours(leaf: Cert, intermediates: Cert[], root: Cert): string {
  try {
    verifyChain(x(leaf), intermediates.map(x), [x(root)], new Date());
    return 'OK';
  } catch (e) {
    expect(e).toBeInstanceOf(ModelsealError);
    return (e as ModelsealError).code;
  }
}

describe('certificate chains: RFC 5280 checks, compared with openssl verify', () => {
  const pki = new Pki();
  const root = pki.cert('Root', CA_EXT);
  const pathlen = (n: number) => `basicConstraints=critical,CA:TRUE,pathlen:${n}\nkeyUsage=critical,keyCertSign\n`;

  const chains: Array<[string, () => { leaf: Cert; ints: Cert[]; anchor?: Cert }, string]> = [
    ['root -> leaf', () => ({ leaf: pki.cert('leaf', LEAF_EXT, root), ints: [] }), 'OK'],
    ['root -> CA(pathlen:0) -> leaf', () => {
      const i = pki.cert('I0', pathlen(0), root);
      return { leaf: pki.cert('leaf', LEAF_EXT, i), ints: [i] };
    }, 'OK'],
    ['root -> CA(pathlen:1) -> CA -> leaf', () => {
      const i1 = pki.cert('I1', pathlen(1), root);
      const i2 = pki.cert('I2', CA_EXT, i1);
      return { leaf: pki.cert('leaf', LEAF_EXT, i2), ints: [i2, i1] };
    }, 'OK'],
    ['root -> CA(pathlen:0) -> CA -> leaf (a pathlen:0 CA issuing a CA)', () => {
      const i1 = pki.cert('I1', pathlen(0), root);
      const i2 = pki.cert('I2', CA_EXT, i1);
      return { leaf: pki.cert('leaf', LEAF_EXT, i2), ints: [i2, i1] };
    }, 'CERT_PATH_LENGTH'],
    ['root(pathlen:0) -> CA -> leaf (the anchor\'s own constraint)', () => {
      const r0 = pki.cert('Root0', pathlen(0));
      const i = pki.cert('I', CA_EXT, r0);
      return { leaf: pki.cert('leaf', LEAF_EXT, i), ints: [i], anchor: r0 };
    }, 'CERT_PATH_LENGTH'],
    ['root -> CA(pathlen:1) -> CA -> CA -> leaf', () => {
      const i1 = pki.cert('I1', pathlen(1), root);
      const i2 = pki.cert('I2', CA_EXT, i1);
      const i3 = pki.cert('I3', CA_EXT, i2);
      return { leaf: pki.cert('leaf', LEAF_EXT, i3), ints: [i3, i2, i1] };
    }, 'CERT_PATH_LENGTH'],
    ['root -> CA without keyCertSign -> leaf', () => {
      const i = pki.cert('I', 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature,cRLSign\n', root);
      return { leaf: pki.cert('leaf', LEAF_EXT, i), ints: [i] };
    }, 'CERT_CA_KEY_USAGE'],
    ['root without keyCertSign -> leaf', () => {
      const r = pki.cert('RootNoSign', 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature\n');
      return { leaf: pki.cert('leaf', LEAF_EXT, r), ints: [], anchor: r };
    }, 'CERT_CA_KEY_USAGE'],
    ['root -> CA without keyUsage -> leaf (keyUsage absent: no restriction)', () => {
      const i = pki.cert('I', 'basicConstraints=critical,CA:TRUE\n', root);
      return { leaf: pki.cert('leaf', LEAF_EXT, i), ints: [i] };
    }, 'OK'],
    ['root -> non-CA -> leaf', () => {
      const i = pki.cert('I', 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,keyCertSign\n', root);
      return { leaf: pki.cert('leaf', LEAF_EXT, i), ints: [i] };
    }, 'CERT_NOT_CA'],
    ['a leaf signed by the root key under another issuer name', () => ({ leaf: pki.misnamed('leaf', LEAF_EXT, root, 'Not Root'), ints: [] }), 'CERT_NAME_MISMATCH'],
    ['an intermediate signed by the root key under another issuer name', () => {
      const i = pki.misnamed('I', CA_EXT, root, 'Other Root');
      return { leaf: pki.cert('leaf', LEAF_EXT, i), ints: [i] };
    }, 'CERT_NAME_MISMATCH'],
    ['a leaf naming an issuer that did not sign it', () => {
      const i = pki.cert('I', CA_EXT, root);
      const other = pki.cert('I', CA_EXT, root); // same name, another key
      return { leaf: pki.cert('leaf', LEAF_EXT, other), ints: [i] };
    }, 'CERT_UNTRUSTED'],
  ];

  it.each(chains)('%s', (_what, make, expected) => {
    const { leaf, ints, anchor = root } = make();
    const verdict = ours(leaf, ints, anchor);
    expect(verdict).toBe(expected);
    expect(openssl(leaf, ints, anchor), 'openssl verify agrees').toBe(expected === 'OK');
  });

  it('refuses a pathlen:0 CA issuing a CA through verifyModel (the bundle chain path)', async () => {
    const i1 = pki.cert('I1', pathlen(0), root);
    const i2 = pki.cert('I2', CA_EXT, i1);
    const leaf = pki.cert('signer', LEAF_EXT, i2);
    const d = writeTree(path.join(tempDir(), 'm'), { 'w.bin': bytes(100) });
    const chain = [leaf, i2, i1].flatMap((c) => loadCertificates(c.pem));
    await signModel(d, { signer: keySigner(loadPrivateKey(leaf.key).key, chain) });
    expect(await codeOf(verifyModel(d, { trust: { certificateAuthorities: loadCertificates(root.pem) } }))).toBe('CERT_PATH_LENGTH');
    // the same signer under a CA that may issue one CA verifies
    const j1 = pki.cert('J1', pathlen(1), root);
    const j2 = pki.cert('J2', CA_EXT, j1);
    const leaf2 = pki.cert('signer', LEAF_EXT, j2);
    await signModel(d, { signer: keySigner(loadPrivateKey(leaf2.key).key, [leaf2, j2, j1].flatMap((c) => loadCertificates(c.pem))) });
    expect((await verifyModel(d, { trust: { certificateAuthorities: loadCertificates(root.pem) } })).signer).toMatchObject({ kind: 'certificate', chain: ['CN=signer', 'CN=J2', 'CN=J1', 'CN=Root'] });
  });

  it('a malformed keyUsage extension is a coded error, not a stack trace', async () => {
    // keyUsage (2.5.29.15) holding a NULL instead of a BIT STRING
    const leaf = pki.cert('badku', 'basicConstraints=CA:FALSE\n2.5.29.15=critical,DER:0500\n', root);
    expect(ours(leaf, [], root)).toBe('CERT_BAD_EXTENSION');
    expect(openssl(leaf, [], root)).toBe(false);
    const d = writeTree(path.join(tempDir(), 'm'), { 'w.bin': bytes(100) });
    await signModel(d, { signer: keySigner(loadPrivateKey(leaf.key).key, loadCertificates(leaf.pem)) });
    expect(await codeOf(verifyModel(d, { trust: { certificateAuthorities: loadCertificates(root.pem) } }))).toBe('CERT_BAD_EXTENSION');
    // and in an intermediate
    const i = pki.cert('badku-ca', 'basicConstraints=critical,CA:TRUE\n2.5.29.15=critical,DER:020101\n', root);
    expect(ours(pki.cert('leaf', LEAF_EXT, i), [i], root)).toBe('CERT_BAD_EXTENSION');
  });
});
