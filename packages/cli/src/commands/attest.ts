import {
  attestModel, buildApproval, buildInfoFromGithubEnv, buildProvenance, defaultAttestationsDir, parseDuration, parseInputFlag,
  peekAttestation, readAttestations, resolveLineage, APPROVAL_PREDICATE_V1, InputError, SLSA_PROVENANCE_V1, type BuildInfo, type LineageInput,
} from '@modelseal/core';
import { Command } from 'commander';
import { addRegistryOptions } from '../oci-options.js';
import { listOciCommandAction } from './oci-verify.js';
import { addSignerOptions, signerFromFlags, type SignerFlags } from '../signer-options.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

interface ProvenanceFlags extends SignerFlags {
  attestations?: string;
  signature?: string;
  repository?: string;
  ref?: string;
  commit?: string;
  workflow?: string;
  builderId?: string;
  input?: string[];
  inputModel?: string[];
  dataset?: string[];
}

export function attestCommand(): Command {
  const attest = new Command('attest').description('create signed attestations about a model');
  attest.addCommand(
    addSignerOptions(
      new Command('provenance')
        .description('SLSA v1 provenance: which workflow built the model, from what (GitHub Actions environment, or flags)')
        .argument('<model>', 'model folder, single file, or tarball'),
    )
      .option('--attestations <dir>', 'where attestations are kept (default: <model>.attestations beside the model)')
      .option('--signature <file>', "the model's signature, whose recorded hashing defines the digest (default: model.sig)")
      .option('--repository <owner/repo>', 'outside GitHub Actions: source repository')
      .option('--ref <ref>', 'outside GitHub Actions: git ref')
      .option('--commit <sha>', 'outside GitHub Actions: git commit')
      .option('--workflow <path>', 'outside GitHub Actions: workflow or pipeline file')
      .option('--builder-id <uri>', 'outside GitHub Actions: builder id (default: repository/workflow@ref)')
      .option('--input <name=sha256:digest>', 'a build input by digest (repeatable)', collect)
      .option('--input-model <path>', 'a base model, recorded by its OMS root digest (repeatable)', collect)
      .option('--dataset <path>', 'a dataset, recorded by its OMS root digest (repeatable)', collect)
      .action(async (model: string, f: ProvenanceFlags) => {
        const fromEnv = buildInfoFromGithubEnv();
        const flagged = f.repository || f.workflow || f.ref;
        let info: BuildInfo;
        if (flagged || !fromEnv) {
          if (!f.repository || !f.workflow || !f.ref) {
            throw new InputError('MISSING_BUILD_INFO', 'outside GitHub Actions, give --repository, --workflow and --ref (and --commit)');
          }
          info = { repository: f.repository, ref: f.ref, workflow: f.workflow, github: false, ...(f.commit ? { commit: f.commit } : {}), ...(f.builderId ? { builderId: f.builderId } : {}) };
        } else info = fromEnv;
        const lineage: LineageInput[] = [
          ...(f.input ?? []).map(parseInputFlag),
          ...(f.inputModel ?? []).map((p) => ({ kind: 'model' as const, path: p })),
          ...(f.dataset ?? []).map((p) => ({ kind: 'dataset' as const, path: p })),
        ];
        const predicate = buildProvenance(info, await resolveLineage(lineage));
        const signer = await signerFromFlags(f);
        const r = await attestModel(model, SLSA_PROVENANCE_V1, predicate, { signer, label: 'provenance', ...(f.attestations ? { dir: f.attestations } : {}), ...(f.signature ? { signaturePath: f.signature } : {}) });
        process.stderr.write(`provenance for ${r.statement.subject[0].name} (sha256:${r.statement.subject[0].digest.sha256}) -> ${r.file}\n`);
        process.stdout.write(`${r.file}\n`);
      }),
  );
  return attest;
}

interface ApproveFlags extends SignerFlags {
  stage: string;
  reason?: string;
  expires?: string;
  reject?: boolean;
  approver?: string;
  attestations?: string;
  signature?: string;
}

export function approveCommand(): Command {
  return addSignerOptions(
    new Command('approve')
      .description('sign an approval (or --reject) of this model digest for a stage')
      .argument('<model>', 'model folder, single file, or tarball'),
  )
    .requiredOption('--stage <stage>', 'e.g. staging, production')
    .option('--reason <text>', 'why')
    .option('--expires <duration>', 'approval lifetime, e.g. 30d, 12h')
    .option('--reject', 'record a rejection: it overrides approvals for the stage')
    .option('--approver <name>', 'display name (who approved is always the verified signer)')
    .option('--attestations <dir>', 'where attestations are kept (default: <model>.attestations beside the model)')
    .option('--signature <file>', "the model's signature, whose recorded hashing defines the digest (default: model.sig)")
    .action(async (model: string, f: ApproveFlags) => {
      const predicate = buildApproval({
        stage: f.stage,
        decision: f.reject ? 'rejected' : 'approved',
        ...(f.reason ? { reason: f.reason } : {}),
        ...(f.approver ? { approver: f.approver } : {}),
        ...(f.expires ? { expiresInMs: parseDuration(f.expires, '--expires') } : {}),
      });
      const signer = await signerFromFlags(f);
      const r = await attestModel(model, APPROVAL_PREDICATE_V1, predicate, { signer, label: `${predicate.decision === 'approved' ? 'approval' : 'rejection'}-${f.stage}`, ...(f.attestations ? { dir: f.attestations } : {}), ...(f.signature ? { signaturePath: f.signature } : {}) });
      process.stderr.write(`${predicate.decision} ${r.statement.subject[0].name} (sha256:${r.statement.subject[0].digest.sha256}) for ${f.stage} -> ${r.file}\n`);
      process.stdout.write(`${r.file}\n`);
    });
}

export function attestationsCommand(): Command {
  const c = new Command('attestations').description('attestations kept beside a model');
  addRegistryOptions(c.command('list'))
    .description('list attestations (unverified: `verify --policy` decides what counts)')
    .argument('<model>', 'model folder, single file, tarball, or oci://registry/repository:tag')
    .option('--attestations <dir>', 'where attestations are kept (default: <model>.attestations)')
    .option('--json', 'print as JSON')
    .action(async (model: string, f: { attestations?: string; json?: boolean }) => {
      if (model.startsWith('oci://')) return listOciCommandAction(model, f);
      const dir = f.attestations ?? defaultAttestationsDir(model);
      const rows = readAttestations(dir).map((a) => {
        if ('error' in a) return { file: a.file, error: a.error };
        try {
          const { statement, material } = peekAttestation(a.bytes, a.file);
          const p = statement.predicate as Record<string, unknown>;
          const what = statement.predicateType === APPROVAL_PREDICATE_V1 ? `${String(p.decision)} for ${String(p.stage)}` : statement.predicateType === SLSA_PROVENANCE_V1 ? 'SLSA provenance' : statement.predicateType;
          return { file: a.file, type: statement.predicateType, what, subject: statement.subject[0].digest.sha256, signer: material };
        } catch (err) {
          return { file: a.file, error: (err as Error).message };
        }
      });
      if (f.json) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
      else if (rows.length === 0) process.stdout.write(`no attestations in ${dir}\n`);
      else for (const r of rows) process.stdout.write('error' in r ? `${r.file}: unreadable: ${r.error}\n` : `${r.file}: ${r.what}, subject sha256:${r.subject.slice(0, 16)}…, ${r.signer}\n`);
    });
  return c;
}
