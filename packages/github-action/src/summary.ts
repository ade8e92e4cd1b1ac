import { errorJson, publicGoodTrustedRoot, type ParsedBundle, type RuleResult, type VerifiedSigner } from '@modelseal/core/internals';
import { bundleFacts, type BundleFacts } from './bundle-facts.js';
import type { ModeFailure, ModeResult } from './results.js';

/**
 * The job summary, as markdown: a rendering of the mode's result, written on
 * success and on failure. Public-good Rekor entries link to search.sigstore.dev.
 */
export const REKOR_SEARCH = 'https://search.sigstore.dev/?logIndex=';

/** A table cell: no pipes, no line breaks, no HTML from attacker-controlled bundle text. */
export function cell(s: string | undefined): string {
  if (s === undefined || s === '') return '–';
  return s.replace(/[\r\n]+/g, ' ').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|').replace(/`/g, "'");
}
const code = (s: string) => `\`${s.replace(/`/g, "'").replace(/\|/g, '\\|')}\``;

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

let searchable: Set<string> | undefined;
/** Key ids (base64) of the public-good Rekor log that search.sigstore.dev indexes, from the shipped trusted root. */
function searchableLogs(): Set<string> {
  searchable ??= new Set(
    publicGoodTrustedRoot()
      .tlogs.filter((t) => t.baseUrl === 'https://rekor.sigstore.dev')
      .map((t) => Buffer.from(t.logId!.keyId).toString('base64')),
  );
  return searchable;
}

/** Log indexes; a link only for the public-good log: an index in a private Rekor means nothing to search.sigstore.dev. */
export function rekor(f: BundleFacts | undefined): string {
  if (!f?.tlog.length) return '–';
  return f.tlog
    .map((t) => {
      const index = cell(t.logIndex);
      return t.logId && searchableLogs().has(t.logId) ? `[${index}](${REKOR_SEARCH}${encodeURIComponent(t.logIndex)})` : `${index} (log ${cell(t.logId?.slice(0, 12) ?? 'unknown')}…, not public-good)`;
    })
    .join(', ');
}

function signerFromFacts(f: BundleFacts | undefined): string | undefined {
  if (!f) return undefined;
  if (f.identity) return `${cell(f.identity.subjectAlternativeName)} (issuer ${cell(f.identity.issuer)})`;
  if (f.keyHint) return `key ${code(f.keyHint)}`;
  return undefined;
}

function signerText(s: VerifiedSigner): string {
  if (s.kind === 'key') return `key ${code(s.fingerprint)} (${s.keyType})`;
  if (s.kind === 'certificate') return `certificate ${cell(s.subject)}`;
  return `${cell(s.identity.subjectAlternativeName)} (issuer ${cell(s.identity.issuer)})`;
}

export function renderSummary(r: ModeResult | ModeFailure): string {
  if ('error' in r) {
    const e = errorJson(r.error);
    return `## ❌ modelseal ${r.mode} failed\n\n${table(['Model', 'Error'], [[code(r.modelPath), `${cell(e.message)} [${code(e.code)}]`]])}\n`;
  }
  switch (r.mode) {
    case 'sign':
      return `## ✅ modelseal signed ${cell(r.manifest.modelName)}\n\n${table(['', ''], [
        ['Model', cell(r.manifest.modelName)],
        ['Digest', code(`sha256:${r.manifest.rootDigest}`)],
        ['Files', String(r.manifest.resources.length)],
        ['Signature', code(r.signaturePath)],
        ['Signer', signerFromFacts(factsFromBundle(r)) ?? '–'],
        ['Rekor log index', rekor(factsFromBundle(r))],
      ])}\n`;
    case 'attest-provenance':
    case 'approve':
      return `## ✅ modelseal ${r.mode === 'approve' ? 'approval' : 'provenance'} for ${cell(r.name)}\n\n${table(['', ''], [
        ['Model', cell(r.name)],
        ['Digest', code(`sha256:${r.digest}`)],
        ['Attestation', code(r.file)],
        ['Signer', signerFromFacts(factsFromBundle(r)) ?? '–'],
        ['Rekor log index', rekor(factsFromBundle(r))],
      ])}\n`;
    case 'verify':
      return `## ✅ modelseal verified ${cell(r.result.modelName)}\n\n${table(['', ''], [
        ['Model', cell(r.result.modelName)],
        ['Digest', code(`sha256:${r.result.rootDigest}`)],
        ['Files', String(r.result.manifest.resources.length)],
        ['Signer', signerText(r.result.signer)],
        ['Rekor log index', rekor(factsFromBundle(r))],
      ])}\n`;
    case 'gate':
      return gateSummary(r);
  }
}

function factsFromBundle(r: { bundle: ParsedBundle }): BundleFacts | undefined {
  try {
    return bundleFacts(r.bundle);
  } catch {
    return undefined;
  }
}

function gateSummary(r: Extract<ModeResult, { mode: 'gate' }>): string {
  const ok = r.report.ok;
  const stage = r.stage ? ` for ${cell(r.stage)}` : '';
  const sigRule = r.report.rules.find((x) => x.rule === 'signature');
  const out: string[] = [];
  out.push(`## ${ok ? '✅' : '❌'} modelseal gate${stage}: ${ok ? 'passed' : 'FAILED'}`);
  out.push(
    table(['', ''], [
      ['Model', cell(r.report.model?.name)],
      ['Digest', r.report.model ? code(`sha256:${r.report.model.digest.sha256}`) : '– (the signature did not verify)'],
      ['Signer', `${sigRule?.ok ? '' : '(not trusted) '}${signerFromFacts(r.signature) ?? '–'}`],
      ['Rekor log index', rekor(r.signature)],
      ['Policy', `${code(r.policyFile)}${r.stage ? `, stage ${cell(r.stage)}` : ''}`],
      ['Attestations', cell(r.source)],
    ]),
  );
  out.push('### Rules', table(['Rule', 'Result', 'Detail'], r.report.rules.map((x) => [code(x.rule), x.ok ? '✅ pass' : '❌ FAIL', cell(x.detail)])));
  for (const rule of r.report.rules) {
    if (rule.rule === 'provenance') out.push('### Provenance', provenanceTable(rule, r.attestations));
    else if (rule.rule.startsWith('approvals.')) out.push(`### Approvals: ${cell(rule.rule.slice('approvals.'.length))}`, approvalsTable(rule, r.attestations));
  }
  return out.join('\n\n') + '\n';
}

function provenanceTable(rule: RuleResult, facts: Map<string, BundleFacts | undefined>): string {
  const items = rule.items ?? [];
  if (!items.length) return '_no provenance attestations found_';
  return table(
    ['Counted', 'Repository', 'Workflow', 'Ref', 'Commit', 'Run', 'Rekor', 'Why'],
    items.map((i) => {
      const f = facts.get(i.file);
      const p = f?.provenance;
      return [
        i.counted ? '✅' : '❌',
        cell(p?.repository),
        cell(p?.workflow),
        cell(p?.ref),
        p?.commit ? code(p.commit.slice(0, 12)) : '–',
        p?.runUrl ? `[run](${encodeURI(p.runUrl)})` : '–',
        rekor(f),
        cell(i.why),
      ];
    }),
  );
}

function approvalsTable(rule: RuleResult, facts: Map<string, BundleFacts | undefined>): string {
  const items = rule.items ?? [];
  if (!items.length) return '_no approvals found_';
  return table(
    ['Counted', 'Approver', 'When', 'Decision', 'Reason', 'Rekor', 'Why'],
    items.map((i) => {
      const f = facts.get(i.file);
      const a = f?.approval;
      const who = [signerFromFacts(f), a?.approver ? `"${cell(a.approver)}"` : undefined].filter(Boolean).join(' ');
      return [i.counted ? '✅' : '❌', who || '–', cell(a?.approvedAt), cell(a?.decision), cell(a?.reason), rekor(f), cell(i.why)];
    }),
  );
}
