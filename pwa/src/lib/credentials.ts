// The one line shown under a photo about its C2PA content credentials: valid (with who signed), or why not.
import type { ContentCredentials } from '@/api/cases'
import { t } from '@/i18n'

// C2PA status codes (and the server's own two) by what they mean to a reader of the case
const REASONS: [RegExp, string][] = [
  [/^assertion\.(dataHash|boxesHash|bmffHash|collectionHash)\./, 'changed'],
  [/^claimSignature\./, 'signature'],
  [/^signingCredential\./, 'certificate'],
  [/^assertion\./, 'tampered'],
  [/^manifest\.unreadable$/, 'damaged'],
]

export interface CredentialsLine {
  text: string
  state: ContentCredentials['state']
}

/** null when the photo carries no credentials (most do not: WeChat and the canvas strip them). */
export function credentialsLine(c: ContentCredentials | null | undefined): CredentialsLine | null {
  if (!c) return null
  if (c.state === 'valid') {
    const signer = c.signer?.organization || c.signer?.common_name || t('cases.credentials.unknownSigner')
    const key = c.trust === 'untrusted' ? 'cases.credentials.validUntrusted' : 'cases.credentials.valid'
    return { text: t(key, { signer }), state: 'valid' }
  }
  if (c.state === 'unverified') return { text: t('cases.credentials.unverified'), state: 'unverified' }
  const code = c.errors[0]?.code ?? ''
  const reason = REASONS.find(([pattern]) => pattern.test(code))?.[1]
  return {
    text: t('cases.credentials.invalid', {
      reason: reason ? t(`cases.credentials.${reason}`) : t('cases.credentials.other', { code: code || '?' }),
    }),
    state: 'invalid',
  }
}
