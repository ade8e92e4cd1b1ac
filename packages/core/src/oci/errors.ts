import { InputError } from '../errors.js';

/**
 * A registry said no, or could not be reached. Input family (exit 2): the
 * reference, the credentials or the network are wrong, not the model.
 */
export class RegistryError extends InputError {
  constructor(code: string, message: string, readonly status?: number, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** The distribution spec's error body, `{"errors":[{"code","message"}]}`, as one short line. */
export async function registryErrorText(res: Response): Promise<string> {
  let text: string;
  try {
    text = (await res.text()).slice(0, 2000);
  } catch {
    return `HTTP ${res.status}`;
  }
  try {
    const j = JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> };
    if (Array.isArray(j.errors) && j.errors.length) return `HTTP ${res.status} ${j.errors.map((e) => `${e.code ?? ''}${e.message ? `: ${e.message}` : ''}`).join('; ')}`;
  } catch {
    // not JSON: a proxy or router page
  }
  return `HTTP ${res.status}${text.trim() ? ` ${text.trim().slice(0, 200)}` : ''}`;
}
