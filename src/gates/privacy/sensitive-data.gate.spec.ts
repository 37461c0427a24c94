import { resolveThresholds } from 'src/gates/gate-thresholds';
import { GateVerdict } from 'src/gates/gate-verdict';
import { isValidIban, passesLuhn } from 'src/gates/privacy/checksums';
import { SensitiveDataGate, findSensitiveData } from 'src/gates/privacy/sensitive-data.gate';
import { LineFinding } from 'src/gates/screening/screening-gate';

const PASSAGE = {
  title: 'Kelan Moravi',
  text: 'Kelan Moravi was born in 1867. Kelan Moravi works for Pota Foundry. He plays the cello.',
};
const gate = new SensitiveDataGate();
const screen = (lines: string[], passage = PASSAGE) =>
  gate.run({ selfEdit: { lines }, passage }, resolveThresholds(gate));
const findings = (evidence: unknown) => (evidence as { findings: LineFinding[] }).findings;
const kinds = (text: string) => findSensitiveData(text).map((m) => m.kind);

describe('SensitiveDataGate', () => {
  it.each([
    'Kelan Moravi was born in 1867 and died in 1931.',
    'Pota Foundry was founded in 1602; it makes 12 ferries a year.',
    'The Gelen Conference took place in 1896, 1901 and 1911.',
    'The Rhine is about 1,230 kilometres long.',
    'In 1954 Oxford Street was closed to traffic.',
    'The token of the festival is a lily.',
    'Kelan Moravi carries a passport from Gaito.',
  ])('does not mistake ordinary text for sensitive data: %s', (text) => {
    expect(findSensitiveData(text)).toEqual([]);
  });

  it.each([
    ['aws-access-key', 'The key is AKIAIOSFODNN7EXAMPLE.'],
    ['github-token', 'Deploy with ghp_8fKq2LmZ7xR4vT1nB6cY3wE9sD0aJ5uH2gPq.'],
    ['slack-token', 'Post with xoxb-2048-1024-Qm9uZ3VzVG9rZW5IZXJl.'],
    ['jwt', 'Signed eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJrZWxhbiJ9.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk.'],
    ['private-key', '-----BEGIN RSA PRIVATE KEY----- MIIEowIBAAKCAQEA7'],
    ['credential', "The password for Kelan Moravi's account is Tr0ub4dor&3."],
    ['credential', 'password=hunter22'],
    ['login-pair', 'Login: admin / hunter2!'],
    ['connection-string', 'Connect to postgres://kelan:S3cret@db.internal:5432/pay.'],
    ['high-entropy-token', 'The archive token 9fK2xQ7LmZ3vB8nR1tW5yC0s is kept offline.'],
    ['email', 'Write to kelan.moravi@pota-foundry.com.'],
    ['phone-number', 'Call him on +44 20 7946 0958.'],
    ['phone-number', 'Her mobile is 07700 900123.'],
    ['street-address', 'Kelan Moravi lives at 14 Harbour Lane.'],
    ['us-ssn', 'His social security number is 078-05-1120.'],
    ['iban', 'Pay into GB82 WEST 1234 5698 7654 32.'],
    ['payment-card', 'Paid with 4539 1488 0343 6467.'],
    ['uk-national-insurance', 'NI number AB 12 34 56 C.'],
    ['personal-identifier', 'His passport number is X49201735.'],
  ])('finds a %s', (kind, text) => {
    expect(kinds(text)).toContain(kind);
  });

  it('needs the checksum before calling a number a card or an IBAN', () => {
    expect(passesLuhn('4539148803436467')).toBe(true);
    expect(passesLuhn('4539148803436468')).toBe(false);
    expect(isValidIban('GB82 WEST 1234 5698 7654 32')).toBe(true);
    expect(isValidIban('GB83 WEST 1234 5698 7654 32')).toBe(false);
    expect(kinds('Paid with 4539 1488 0343 6468.')).not.toContain('payment-card');
  });

  it('stops the edit naming each line and kind, without copying the secret into the report', async () => {
    const outcome = await screen([
      'Kelan Moravi works for Pota Foundry.',
      'Pota Foundry deploys with ghp_8fKq2LmZ7xR4vT1nB6cY3wE9sD0aJ5uH2gPq.',
      'Kelan Moravi can be reached at kelan@pota.example.com.',
    ]);
    expect(outcome.verdict).toBe(GateVerdict.FAIL);
    expect(outcome.metrics).toMatchObject({ offendingLines: 2, secretLines: 1, personalDataLines: 1 });
    expect(findings(outcome.evidence)).toEqual([
      expect.objectContaining({ line: 1, reason: 'github-token', category: 'secret' }),
      expect.objectContaining({ line: 2, reason: 'email', category: 'personal-data' }),
    ]);
    expect(JSON.stringify(outcome.evidence)).not.toContain('8fKq2LmZ7xR4vT1nB6cY3wE9sD0aJ5uH2gPq');
    expect(JSON.stringify(outcome.evidence)).not.toContain('kelan@pota.example.com');
  });

  it('screens the passage, which is trained on too', async () => {
    const outcome = await screen(['Kelan Moravi works for Pota Foundry.'], {
      ...PASSAGE,
      text: `${PASSAGE.text} His phone number is +1 (555) 010-4477.`,
    });
    expect(outcome.verdict).toBe(GateVerdict.FAIL);
    expect(findings(outcome.evidence)[0]).toMatchObject({ source: 'passage', reason: 'phone-number' });
  });

  it('passes a clean self-edit', async () => {
    const outcome = await screen(['Kelan Moravi was born in 1867.', 'Kelan Moravi plays the cello.']);
    expect(outcome.verdict).toBe(GateVerdict.PASS);
  });
});
