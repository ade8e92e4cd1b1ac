import {
  APPROVAL_PREDICATE_V1, certificateIdentity, parseBundle, parseModelStatement, SLSA_PROVENANCE_V1, type ApprovalPredicate, type CertificateIdentity,
  type ParsedBundle, type SlsaProvenance,
} from '@modelseal/core/internals';

/**
 * What a bundle says, read for display in the job summary only. Nothing
 * here decides anything: the verdict and whether an attestation counted come
 * from core's verification; these are the details shown beside it.
 */
export interface BundleFacts {
  /** key hint (SHA-256 of the SPKI PEM), or the certificate identity */
  keyHint?: string;
  identity?: CertificateIdentity;
  /** Rekor entries: index, time, and the log's key id (base64), which says which log */
  tlog: Array<{ logIndex: string; integratedTime?: string; logId?: string }>;
  approval?: ApprovalPredicate;
  provenance?: { repository: string; workflow: string; ref: string; commit?: string; runUrl?: string };
}

export function bundleFacts(b: ParsedBundle): BundleFacts {
  const facts: BundleFacts = { tlog: tlogOf(b) };
  if (b.material.kind === 'publicKey' && b.material.hint) facts.keyHint = b.material.hint;
  const leaf = b.material.kind === 'certificate' ? b.material.certificate : b.material.kind === 'certificateChain' ? b.material.certificates[0] : undefined;
  if (leaf) {
    try {
      facts.identity = certificateIdentity(leaf);
    } catch {
      // a certificate without Fulcio extensions: the summary shows the verifier's words instead
    }
  }
  try {
    const st = parseModelStatement(JSON.parse(b.payload.toString('utf8')));
    if (st.predicateType === APPROVAL_PREDICATE_V1) facts.approval = st.predicate as ApprovalPredicate;
    if (st.predicateType === SLSA_PROVENANCE_V1) facts.provenance = provenanceFacts(st.predicate as SlsaProvenance);
  } catch {
    // not an attestation (the model signature): no predicate to show
  }
  return facts;
}

export function factsOf(bytes: Buffer, where: string): BundleFacts | undefined {
  try {
    return bundleFacts(parseBundle(bytes, where));
  } catch {
    return undefined;
  }
}

function tlogOf(b: ParsedBundle): BundleFacts['tlog'] {
  return b.tlogEntries.flatMap((t) => {
    const e = t as { logIndex?: unknown; integratedTime?: unknown; logId?: { keyId?: unknown } };
    if (typeof e?.logIndex !== 'string' && typeof e?.logIndex !== 'number') return [];
    return [{
      logIndex: String(e.logIndex),
      ...(typeof e.integratedTime === 'string' ? { integratedTime: e.integratedTime } : {}),
      ...(typeof e.logId?.keyId === 'string' ? { logId: e.logId.keyId } : {}),
    }];
  });
}

function provenanceFacts(p: SlsaProvenance): BundleFacts['provenance'] {
  const w = p?.buildDefinition?.externalParameters?.workflow;
  if (!w) return undefined;
  const commit = p.buildDefinition.resolvedDependencies?.find((d) => d.digest?.gitCommit)?.digest.gitCommit;
  const inv = p.runDetails?.metadata?.invocationId;
  return {
    repository: w.repository.replace(/^https:\/\/[^/]+\//, ''),
    workflow: w.path,
    ref: w.ref,
    ...(commit ? { commit } : {}),
    // invocationId is the run's URL with its attempt: https://github.com/o/r/actions/runs/1/attempts/1
    ...(inv && /^https:\/\//.test(inv) ? { runUrl: inv } : {}),
  };
}
