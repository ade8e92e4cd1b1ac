import { FormatError } from '../errors.js';

export const APPROVAL_PREDICATE_V1 = 'https://modelseal.dev/attestation/approval/v1';

/**
 * A named reviewer's decision about one model digest for one stage. Who
 * approved is never read from here: it is the verified signer of the bundle.
 * `approver` is a display name only.
 */
export interface ApprovalPredicate {
  stage: string;
  decision: 'approved' | 'rejected';
  reason?: string;
  /** RFC 3339 */
  approvedAt: string;
  expiresAt?: string;
  approver?: string;
}

const STAGE = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export function parseApproval(v: unknown): ApprovalPredicate {
  const a = v as Partial<ApprovalPredicate> | null;
  if (typeof a !== 'object' || a === null) throw new FormatError('BAD_APPROVAL', 'approval predicate is not an object');
  if (typeof a.stage !== 'string' || !STAGE.test(a.stage)) throw new FormatError('BAD_APPROVAL', `approval stage ${JSON.stringify(a.stage)} is not a stage name`);
  if (a.decision !== 'approved' && a.decision !== 'rejected') throw new FormatError('BAD_APPROVAL', `approval decision ${JSON.stringify(a.decision)} is not approved or rejected`);
  if (typeof a.approvedAt !== 'string' || Number.isNaN(Date.parse(a.approvedAt))) throw new FormatError('BAD_APPROVAL', 'approval has no valid approvedAt time');
  if (a.expiresAt !== undefined && (typeof a.expiresAt !== 'string' || Number.isNaN(Date.parse(a.expiresAt)))) throw new FormatError('BAD_APPROVAL', 'approval expiresAt is not a time');
  for (const k of ['reason', 'approver'] as const) if (a[k] !== undefined && typeof a[k] !== 'string') throw new FormatError('BAD_APPROVAL', `approval ${k} must be a string`);
  return a as ApprovalPredicate;
}

export function buildApproval(o: { stage: string; decision?: 'approved' | 'rejected'; reason?: string; approver?: string; now?: Date; expiresInMs?: number }): ApprovalPredicate {
  const now = o.now ?? new Date();
  const p: ApprovalPredicate = {
    stage: o.stage,
    decision: o.decision ?? 'approved',
    approvedAt: now.toISOString(),
    ...(o.reason ? { reason: o.reason } : {}),
    ...(o.approver ? { approver: o.approver } : {}),
    ...(o.expiresInMs ? { expiresAt: new Date(now.getTime() + o.expiresInMs).toISOString() } : {}),
  };
  return parseApproval(p);
}
