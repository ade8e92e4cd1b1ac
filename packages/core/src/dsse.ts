/** DSSE (Dead Simple Signing Envelope) v1: what is signed is PAE(type, payload), never the bare payload. */
export interface DsseSignature {
  sig: string;
  keyid?: string;
}

export interface DsseEnvelope {
  /** base64 */
  payload: string;
  payloadType: string;
  signatures: DsseSignature[];
}

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** "DSSEv1" SP len(type) SP type SP len(body) SP body, lengths as ASCII decimal byte counts. */
export function preAuthEncoding(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}
