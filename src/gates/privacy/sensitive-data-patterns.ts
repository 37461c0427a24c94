import { isValidIban, passesLuhn, shannonEntropy } from 'src/gates/privacy/checksums';

export type SensitiveCategory = 'secret' | 'personal-data';

export interface SensitivePattern {
  kind: string;
  category: SensitiveCategory;
  pattern: RegExp;
  /** Further check on the match, to keep years, names and ordinary numbers out. */
  accept?: (match: string) => boolean;
}

const digitsOf = (text: string) => text.replace(/\D/g, '');

/** A generic token looks like a secret when long, mixed and close to random. */
function looksRandom(token: string): boolean {
  const classes = [/[a-z]/, /[A-Z]/, /\d/].filter((c) => c.test(token)).length;
  return token.length >= 20 && classes >= 2 && /\d/.test(token) && shannonEntropy(token) >= 3.5;
}

const STREET_TYPES =
  'Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Boulevard|Blvd|Drive|Dr|Way|Court|Ct|Place|Pl|Square|Sq|Terrace|Close|Crescent|Row|Gardens|Parade|Mews|Alley|Highway|Hwy|Strasse|Straße|Rue|Via|Calle';

/** Ordered: specific formats first, so the evidence names the most precise kind. */
export const SENSITIVE_PATTERNS: SensitivePattern[] = [
  // Secrets
  { kind: 'private-key', category: 'secret', pattern: /-----BEGIN (?:[A-Z]+ )*PRIVATE KEY(?: BLOCK)?-----/ },
  {
    kind: 'aws-access-key',
    category: 'secret',
    pattern: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b/,
  },
  {
    kind: 'github-token',
    category: 'secret',
    pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{40,})/,
  },
  { kind: 'gitlab-token', category: 'secret', pattern: /\bglpat-[\w-]{20,}/ },
  {
    kind: 'slack-token',
    category: 'secret',
    pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}|hooks\.slack\.com\/services\/\S+/,
  },
  { kind: 'stripe-key', category: 'secret', pattern: /\b[spr]k_(?:live|test)_[A-Za-z0-9]{16,}/ },
  { kind: 'openai-key', category: 'secret', pattern: /\bsk-(?:proj-)?[A-Za-z0-9_-]{20,}/ },
  { kind: 'google-api-key', category: 'secret', pattern: /\bAIza[0-9A-Za-z_-]{35}\b/ },
  { kind: 'npm-token', category: 'secret', pattern: /\bnpm_[A-Za-z0-9]{36}\b/ },
  { kind: 'jwt', category: 'secret', pattern: /\beyJ[\w-]{5,}\.eyJ[\w-]{5,}\.[\w-]{5,}/ },
  {
    kind: 'connection-string',
    category: 'secret',
    pattern: /\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/]+:[^\s@/]+@[^\s/]+/i,
  },
  {
    kind: 'credential',
    category: 'secret',
    pattern:
      /\b(?:password|passwd|pwd|passphrase|passcode|pin(?: code)?|(?:door |safe |vault |access )?(?:code|combination)|secret(?: key)?|api[ _-]?key|access[ _-]?key|auth[ _-]?token|bearer|token|client[ _-]?secret)\b(?:\s+(?:for|of|to)\s+[\w' ]{1,40}?)?\s*(?:[:=]|\bis\b|\bwas\b)\s*["'`]?[^\s"'`,;]{4,}/i,
    // After "is", only a value that does not read as an English word: "the token is a lily" is prose.
    accept: (match) => /[:=]/.test(match) || /[\d\W_]/.test(match.split(/\s+(?:is|was)\s+/i).pop() ?? ''),
  },
  {
    kind: 'login-pair',
    category: 'secret',
    pattern: /\b(?:login|log-in|sign-in|user(?:name)?|credentials)\s*[:=]\s*\S+\s*(?:\/|:|,|and)\s*\S+/i,
  },
  {
    kind: 'high-entropy-token',
    category: 'secret',
    pattern: /(?<![\w/+=-])[A-Za-z0-9_+/=-]{20,}(?![\w/+=-])/,
    accept: looksRandom,
  },
  // Personal data
  { kind: 'email', category: 'personal-data', pattern: /\b[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}\b/i },
  {
    kind: 'iban',
    category: 'personal-data',
    pattern: /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b/,
    accept: isValidIban,
  },
  {
    kind: 'payment-card',
    category: 'personal-data',
    pattern: /\b\d(?:[ -]?\d){12,18}\b/,
    accept: (match) => passesLuhn(digitsOf(match)),
  },
  {
    kind: 'us-ssn',
    category: 'personal-data',
    pattern: /\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b/,
  },
  {
    kind: 'uk-national-insurance',
    category: 'personal-data',
    pattern: /\b[A-CEGHJ-PR-TW-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b/,
  },
  {
    kind: 'personal-identifier',
    category: 'personal-data',
    pattern:
      /\b(?:passport|national (?:id|identity|insurance)|id card|identity card|social security|driver'?s licen[cs]e|tax|personal|patient|account|customer|employee)\s*(?:(?:number|no\.?|#|id)\s*(?:is|:)?|is|:)\s*[A-Z]{0,3}[ -]?\d[\d -]{3,}\d(?: ?[A-Z]\b)?/i,
    accept: (match) => digitsOf(match).length >= 5,
  },
  {
    kind: 'phone-number',
    category: 'personal-data',
    pattern: /(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,5}\)[ .-]?)?\d{2,5}(?:[ .-]\d{2,6}){1,4}(?!\w)/,
    // A phone number has 9-15 digits; a year range or a list of years does not look like one.
    accept: (match) => {
      const digits = digitsOf(match).length;
      return digits >= 9 && digits <= 15 && !/^\d{4}(?:[ -]\d{4})+$/.test(match.trim());
    },
  },
  {
    kind: 'street-address',
    category: 'personal-data',
    // Not after "in", "since"...: "in 1954 Oxford Street" is a year.
    pattern: new RegExp(
      String.raw`(?<!\b(?:[Ii]n|[Oo]f|[Ss]ince|[Bb]y|[Ff]rom|[Uu]ntil|[Yy]ear|[Tt]he)\s)\b\d{1,5}[A-Za-z]?,?\s+(?:[A-Z][\w'-]+\s+){1,3}(?:${STREET_TYPES})\b\.?`,
    ),
  },
  {
    kind: 'home-address',
    category: 'personal-data',
    pattern:
      /\b(?:lives|living|resides|residing|home address|house|apartment|flat)\b[^.]{0,20}\b(?:at|is)\s+(?:number\s+)?\d{1,5}[A-Za-z]?\b/i,
  },
  {
    kind: 'postcode',
    category: 'personal-data',
    pattern: /\b[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}\b|\bZIP(?: code)?:?\s*\d{5}(?:-\d{4})?\b/,
  },
];
