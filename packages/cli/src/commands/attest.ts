import {
  assertModelPath, attestModel, buildApproval, buildInfoFromGithubEnv, buildProvenance, bundleSignerJson, defaultAttestationsDir, manifestDigest, parseDuration, parseInputFlag,
  peekAttestation, printable, readAttestations, resolveLineage, APPROVAL_PREDICATE_V1, InputError, OUTPUT_VERSION, SLSA_PROVENANCE_V1, type BuildInfo, type LineageInput,
} from '@modelseal/core/internals';
import { Command } from 'commander';
import { collect, printJson, printWarnings } from '../output.js';
import { addRegistryOptions } from '../oci-options.js';
import { addSignerOptions, signerFromFlags, type FlagSigner, type SignerFlags } from '../signer-options.js';

interface CommonFlags extends SignerFlags {
  attestations?: string;
  signature?: string;
  force?: boolean;
  json?: boolean;
  quiet?: boolean;
}

/** The options every attesting command shares, on top of the signer's. */
function addAttestOptions(cmd: Command): Command {
  return addSignerOptions(cmd)
    .option('--attestations <dir>', 'where attestations are kept (default: <model>.attestations beside the model)')
    .option('--signature <file>', "the model's signature: the model must still match it, and the attestation binds its manifest (default: model.sig)")
    .option('--force', 'attest the files as they are even when they no longer match the signature')
    .option('--json', 'print the result as one JSON object (also on failure)')
    .option('-q, --quiet', 'no progress output');
}

async function attestAndReport(command: string, model: string, predicateType: string, predicate: unknown, label: string, f: CommonFlags, s: FlagSigner, say: (digest: string) => string) {
  const r = await attestModel(model, predicateType, predicate, {
    signer: s.signer,
    label,
    ...(f.attestations ? { dir: f.attestations } : {}),
    ...(f.signature ? { signaturePath: f.signature } : {}),
    ...(f.force ? { force: true } : {}),
  });
  const subject = r.statement.subject[0];
  if (f.json) {
    printJson({
      version: OUTPUT_VERSION,
      command,
      ok: true,
      file: r.file,
      predicateType,
      model: { name: subject.name, digest: { sha256: subject.digest.sha256 }, manifestDigest: { sha256: manifestDigest(r.manifest) } },
      signer: s.describe(r.bundle),
      warnings: r.warnings,
    });
    return;
  }
  printWarnings(r.warnings);
  process.stderr.write(`${printable(say(subject.digest.sha256))} -> ${r.file}\n`);
  process.stdout.write(`${r.file}\n`);
}

interface ProvenanceFlags extends CommonFlags {
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
    addAttestOptions(
      new Command('provenance')
        .description('SLSA v1 provenance: which workflow built the model, from what (GitHub Actions environment, or flags)')
        .argument('<model>', 'model folder, single file, or tarball'),
    )
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
        assertModelPath(model);
        const predicate = buildProvenance(info, await resolveLineage(lineage));
        const s = await signerFromFlags(f);
        await attestAndReport('attest provenance', model, SLSA_PROVENANCE_V1, predicate, 'provenance', f, s, (d) => `provenance for ${model} (sha256:${d})`);
      }),
  );
  return attest;
}

interface ApproveFlags extends CommonFlags {
  stage: string;
  reason?: string;
  expires?: string;
  reject?: boolean;
  approver?: string;
}

export function approveCommand(): Command {
  return addAttestOptions(
    new Command('approve')
      .description('sign an approval (or --reject) of this model, as signed, for a stage; the latest decision of each approver counts')
      .argument('<model>', 'model folder, single file, or tarball'),
  )
    .requiredOption('--stage <stage>', 'e.g. staging, production')
    .option('--reason <text>', 'why')
    .option('--expires <duration>', 'approval lifetime, e.g. 30d, 12h')
    .option('--reject', 'record a rejection: it fails the stage until the same approver approves later')
    .option('--approver <name>', 'display name (who approved is always the verified signer)')
    .action(async (model: string, f: ApproveFlags) => {
      assertModelPath(model);
      const predicate = buildApproval({
        stage: f.stage,
        decision: f.reject ? 'rejected' : 'approved',
        ...(f.reason ? { reason: f.reason } : {}),
        ...(f.approver ? { approver: f.approver } : {}),
        ...(f.expires ? { expiresInMs: parseDuration(f.expires, '--expires') } : {}),
      });
      const s = await signerFromFlags(f);
      const label = `${predicate.decision === 'approved' ? 'approval' : 'rejection'}-${f.stage}`;
      await attestAndReport('approve', model, APPROVAL_PREDICATE_V1, predicate, label, f, s, (d) => `${predicate.decision} ${model} (sha256:${d}) for ${f.stage}`);
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
      if (model.startsWith('oci://')) return (await import('./oci-verify.js')).listOciCommandAction(model, f);
      assertModelPath(model);
      const dir = f.attestations ?? defaultAttestationsDir(model);
      const rows = readAttestations(dir).map((a) => {
        if ('error' in a) return { file: a.file, error: a.error };
        try {
          const { statement } = peekAttestation(a.bytes, a.file);
          const p = statement.predicate as Record<string, unknown>;
          const what = statement.predicateType === APPROVAL_PREDICATE_V1 ? `${String(p.decision)} for ${String(p.stage)}` : statement.predicateType === SLSA_PROVENANCE_V1 ? 'SLSA provenance' : statement.predicateType;
          return { file: a.file, predicateType: statement.predicateType, what, subject: { name: statement.subject[0].name, digest: { sha256: statement.subject[0].digest.sha256 } }, signer: bundleSignerJson(a.bytes) };
        } catch (err) {
          return { file: a.file, error: (err as Error).message };
        }
      });
      if (f.json) {
        printJson({ version: OUTPUT_VERSION, command: 'attestations list', ok: true, verified: false, source: dir, attestations: rows, warnings: [] });
        return;
      }
      if (rows.length === 0) process.stdout.write(`no attestations in ${dir}\n`);
      for (const r of rows) {
        if ('error' in r) process.stdout.write(printable(`${r.file}: unreadable: ${r.error}`) + '\n');
        else {
          const who = r.signer.kind === 'key' ? `key ${r.signer.fingerprint.slice(0, 16)}…` : r.signer.kind === 'keyless' ? `${r.signer.identity} (${r.signer.issuer})` : `certificate "${r.signer.subject}"`;
          process.stdout.write(printable(`${r.file}: ${r.what}, subject sha256:${r.subject.digest.sha256.slice(0, 16)}…, ${who} (unverified)`) + '\n');
        }
      }
    });
  return c;
}
