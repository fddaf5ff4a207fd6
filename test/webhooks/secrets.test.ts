/** Signing secrets: sealed at rest under the service's key, and signatures a Standard Webhooks receiver accepts. */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { signedHeaders, signerFor } from '../../reactions/webhooks/signature';
import { aesGcmSecrets, parseSecretKey } from '../../src/webhooks/secret-box';

const box = aesGcmSecrets(randomBytes(32));

describe('signing secrets', () => {
  it('are whsec_ and base64 of 24 random bytes, and different every time', () => {
    const secret = box.generate();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(box.generate()).not.toBe(secret);
  });

  it('are sealed so that the sealed form does not contain them, and open only with the same key', () => {
    const secret = box.generate();
    const sealed = box.seal(secret);
    expect(sealed).not.toContain(secret.slice(6));
    expect(box.open(sealed)).toBe(secret);
    expect(() => aesGcmSecrets(randomBytes(32)).open(sealed)).toThrow();
  });

  it('need a 32-byte key', () => {
    expect(() => parseSecretKey(randomBytes(16).toString('base64'))).toThrow(/32 bytes/);
    expect(parseSecretKey(randomBytes(32).toString('base64'))).toHaveLength(32);
  });
});

describe('signed headers', () => {
  const body = JSON.stringify({ type: 'credits.low', timestamp: '2026-01-01T00:00:00.000Z', data: {} });

  it('verify with the library for each secret while two sign, and not with any other', () => {
    const [oldSecret, newSecret] = [box.generate(), box.generate()];
    const headers = signedHeaders('msg_1', new Date(), body, [signerFor(newSecret), signerFor(oldSecret)]);
    expect(headers['webhook-signature']?.split(' ')).toHaveLength(2);
    expect(new Webhook(oldSecret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(new Webhook(newSecret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(box.generate()).verify(body, headers)).toThrow();
    expect(() => new Webhook(newSecret).verify(`${body} `, headers)).toThrow();
  });

  it('are the library’s own signatures, byte for byte, whatever the body holds', () => {
    const secret = box.generate();
    const at = new Date('2026-03-04T05:06:07.890Z');
    for (const text of [body, JSON.stringify({ note: 'Crédits bas — 残り 😀' }), '']) {
      expect(signerFor(secret).sign('msg_2', at, text)).toBe(new Webhook(secret).sign('msg_2', at, text));
    }
    expect(() => signerFor('whsec_')).toThrow();
  });

  it('are the library’s own signatures for any id, instant and body', () => {
    const secret = box.generate();
    const signer = signerFor(secret);
    const library = new Webhook(secret);
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }),
        fc.string({ unit: 'grapheme', maxLength: 200 }),
        (id, at, text) => signer.sign(id, at, text) === library.sign(id, at, text),
      ),
    );
  });
});
