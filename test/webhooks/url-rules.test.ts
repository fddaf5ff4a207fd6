/**
 * The SSRF rules: which addresses are public, which URLs an endpoint may have, and the lookup that
 * lets a delivery connect only to an address it checked at that moment (DNS rebinding).
 */
import type { lookup as dnsLookup, LookupAddress } from 'node:dns';
import { isPublicAddress } from '../../src/webhooks/address-policy';
import { publicOnlyLookup } from '../../src/webhooks/http-transport';
import { UnsafeWebhookUrl } from '../../src/webhooks/port';
import { webhookUrlPolicy } from '../../src/webhooks/url-policy';

describe('public addresses', () => {
  it.each([
    '127.0.0.1',
    '127.8.9.10',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '100.100.100.200',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '192.0.0.192',
    '::1',
    '::',
    'fe80::1',
    'fc00::1',
    'fd00:ec2::254',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '::ffff:169.254.169.254',
    '64:ff9b::a00:1',
    '::a9fe:a9fe',
    '::a00:1',
    '::127.0.0.1',
    '100::1',
    '168.63.129.16',
    '::ffff:168.63.129.16',
    'not an address',
  ])('refuses %s', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(['93.184.216.34', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8'])('allows %s', (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });
});

describe('the URL rule', () => {
  const resolving = (addresses: Record<string, string[]>) =>
    webhookUrlPolicy({
      allowPrivate: false,
      resolve: async (host) => {
        const found = addresses[host];
        if (!found) throw new Error('ENOTFOUND');
        return found;
      },
    });
  const policy = resolving({
    'hooks.example.com': ['93.184.216.34'],
    'internal.example.com': ['10.0.0.7'],
    'mixed.example.com': ['93.184.216.34', '127.0.0.1'],
    'metadata.google.internal': ['169.254.169.254'],
  });

  it.each([
    [' https://hooks.example.com/credits ', 'https://hooks.example.com/credits'],
    ['HTTPS://HOOKS.example.com/credits', 'https://hooks.example.com/credits'],
    ['https:\\\\hooks.example.com\\credits', 'https://hooks.example.com/credits'],
    ['https://hooks.example.com\t/credits', 'https://hooks.example.com/credits'],
    ['https://hooks.example.com/a b', 'https://hooks.example.com/a%20b'],
  ])('answers %j as the URL it will be sent to: %s', async (typed, stored) => {
    await expect(policy.check(typed)).resolves.toBe(stored);
  });

  it.each([
    ['https://hooks.example.com/credits#', 'A webhook URL may not have a #fragment.'],
    ['https://hooks.example.com/credits?a=1#', 'A webhook URL may not have a #fragment.'],
    ['https://hooks.example.com/credits#part', 'A webhook URL may not have a #fragment.'],
    ['https://hooks.example.com:0/credits', 'A webhook URL may not name port 0: nothing can be reached there.'],
  ])('refuses %j, which could never be delivered as written', async (typed, message) => {
    await expect(policy.check(typed)).rejects.toThrow(message);
  });

  it('allows https to a host that resolves only to public addresses', async () => {
    await expect(policy.check('https://hooks.example.com/credits?x=1')).resolves.toBe(
      'https://hooks.example.com/credits?x=1',
    );
  });

  it.each([
    ['http://hooks.example.com/credits', /https/],
    ['https://internal.example.com/', /not a public address/],
    ['https://mixed.example.com/', /not a public address/],
    ['https://metadata.google.internal/computeMetadata/v1/', /not a public address/],
    ['https://127.0.0.1/', /not a public address/],
    ['https://[::1]/', /not a public address/],
    ['https://[::ffff:7f00:1]/', /not a public address/],
    ['https://[::a9fe:a9fe]/', /not a public address/],
    ['https://nowhere.example.com/', /not a public address: it must resolve/],
    [`https://hooks.example.com/${'é'.repeat(1000)}`, /at most 2048 characters once escaped/],
    ['https://user:pass@hooks.example.com/', /user name or password/],
    ['ftp://hooks.example.com/', /https/],
    ['not a url', /not a URL/],
  ])('refuses %s', async (url, reason) => {
    const refusal = policy.check(url);
    await expect(refusal).rejects.toBeInstanceOf(UnsafeWebhookUrl);
    await expect(refusal).rejects.toThrow(reason);
  });

  it.each(['http://localhost:4000/hooks', 'https://127.0.0.1/', 'https://internal.example.com/'])(
    'names the development setting that would take %s',
    async (url) => {
      await expect(policy.check(url)).rejects.toThrow(
        /WEBHOOK_ALLOW_PRIVATE_URLS=true \(for development and tests only\)/,
      );
    },
  );

  it('does not name it in production, where a tenant has no use for an operator’s switch', async () => {
    const production = webhookUrlPolicy({
      allowPrivate: false,
      namesSetting: false,
      resolve: () => Promise.resolve(['10.0.0.5']),
    });
    for (const url of ['http://hooks.example.com/', 'https://127.0.0.1/', 'https://internal.example.com/']) {
      const refusal = await production.check(url).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(UnsafeWebhookUrl);
      expect((refusal as Error).message).not.toMatch(/WEBHOOK_ALLOW_PRIVATE_URLS/);
    }
  });

  it.each(['ftp://hooks.example.com/', 'https://user:pass@hooks.example.com/'])(
    'does not name it for %s, which it would not take either',
    async (url) => {
      await expect(policy.check(url)).rejects.not.toThrow(/WEBHOOK_ALLOW_PRIVATE_URLS/);
    },
  );

  it('does not tell a caller which internal address a name resolves to', async () => {
    for (const url of ['https://mixed.example.com/', 'https://metadata.google.internal/computeMetadata/v1/']) {
      const refusal = await policy.check(url).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(UnsafeWebhookUrl);
      expect((refusal as Error).message).not.toMatch(/127\.0\.0\.1|169\.254/);
    }
  });

  it('does not tell a name that resolves to an internal address from one that does not resolve', async () => {
    const messageOf = async (url: string) =>
      ((await policy.check(url).catch((error: unknown) => error)) as Error).message.replace(/"[^"]*"/, '"…"');
    expect(await messageOf('https://internal.example.com/')).toBe(await messageOf('https://nowhere.example.com/'));
  });

  it('allows http and private addresses when told to (development and tests)', async () => {
    const open = webhookUrlPolicy({ allowPrivate: true, resolve: () => Promise.reject(new Error('not asked')) });
    await expect(open.check('http://127.0.0.1:8080/hooks')).resolves.toBe('http://127.0.0.1:8080/hooks');
    await expect(open.check('ftp://127.0.0.1/')).rejects.toBeInstanceOf(UnsafeWebhookUrl);
  });
});

describe('the delivery-time lookup', () => {
  const fakeDns = (answers: LookupAddress[] | Error) =>
    ((_host: string, _options: unknown, callback: (error: Error | null, addresses: LookupAddress[]) => void) =>
      answers instanceof Error ? callback(answers, []) : callback(null, answers)) as unknown as typeof dnsLookup;
  const failures: [string, string | undefined][] = [];
  const resolve = (answers: LookupAddress[] | Error, all = false) =>
    new Promise<{ error: Error | null; address: unknown }>((done) =>
      publicOnlyLookup(fakeDns(answers), (host, error) => failures.push([host, error.code]))(
        'rebind.example.com',
        { all },
        (error, address) => done({ error, address }),
      ),
    );

  it('hands the socket a public address the name resolves to now', async () => {
    const { error, address } = await resolve([
      { address: '10.0.0.1', family: 4 },
      { address: '93.184.216.34', family: 4 },
    ]);
    expect(error).toBeNull();
    expect(address).toBe('93.184.216.34');
  });

  it('fails when the name now resolves only to private addresses', async () => {
    const { error } = await resolve([
      { address: '127.0.0.1', family: 4 },
      { address: '::1', family: 6 },
    ]);
    expect(error).toBeInstanceOf(UnsafeWebhookUrl);
  });

  it('fails in the same words whether the name resolves only to internal addresses or not at all', async () => {
    const internal = await resolve([{ address: '10.1.2.3', family: 4 }]);
    const missing = await resolve(
      Object.assign(new Error('getaddrinfo ENOTFOUND rebind.example.com'), { code: 'ENOTFOUND' }),
    );
    expect(missing.error).toBeInstanceOf(UnsafeWebhookUrl);
    expect(missing.error?.message).toBe(internal.error?.message);
    expect(missing.error?.message).toBe('rebind.example.com resolves to no public address');
    // The operator is told why, apart.
    expect(failures).toEqual([['rebind.example.com', 'ENOTFOUND']]);
  });
});
