import { describe, expect, it } from 'vitest'
import type { ContentCredentials } from '@/api/cases'
import { credentialsLine } from '@/lib/credentials'

function credentials(over: Partial<ContentCredentials>): ContentCredentials {
  return { state: 'valid', trust: 'not_checked', claim_generator: 'Camera 1.0', signed_at: null, errors: [],
           signer: { common_name: 'Test Camera 0001', organization: '示范镇执法设备' }, ...over }
}

describe('the content credentials line under a photo', () => {
  it('says nothing for a photo without credentials', () => {
    expect(credentialsLine(null)).toBeNull()
    expect(credentialsLine(undefined)).toBeNull()
  })

  it('names the signer of valid credentials, and never calls them trusted', () => {
    expect(credentialsLine(credentials({}))).toEqual({ text: '内容凭证有效（签发：示范镇执法设备）', state: 'valid' })
    expect(credentialsLine(credentials({ signer: { common_name: 'CN only', organization: null } }))?.text)
      .toBe('内容凭证有效（签发：CN only）')
    expect(credentialsLine(credentials({ trust: 'untrusted' }))?.text)
      .toBe('内容凭证有效（签发：示范镇执法设备，不在信任列表）')
  })

  it.each([
    ['assertion.dataHash.mismatch', '内容凭证无效：照片在签名后被改动'],
    ['claimSignature.mismatch', '内容凭证无效：签名无效'],
    ['signingCredential.expired', '内容凭证无效：签名证书无效'],
    ['assertion.hashedURI.mismatch', '内容凭证无效：凭证内容被改动'],
    ['manifest.unreadable', '内容凭证无效：凭证数据损坏'],
    ['claim.malformed', '内容凭证无效：校验未通过（claim.malformed）'],
  ])('gives the reason of invalid ones: %s', (code, text) => {
    const line = credentialsLine(credentials({ state: 'invalid', errors: [{ code, explanation: null }] }))
    expect(line).toEqual({ text, state: 'invalid' })
  })

  it('says a remote manifest was not checked', () => {
    expect(credentialsLine(credentials({ state: 'unverified' }))).toEqual({ text: '内容凭证未核验：凭证存于远程地址', state: 'unverified' })
  })
})
