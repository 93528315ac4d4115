import { chromium, type Browser } from 'playwright-core'

/** Debian's chromium (CI installs it): the tests drive a real browser, not a stand-in. */
export const CHROMIUM = '/usr/bin/chromium'

/** Flags for a closed network: no update checks, no sync, no first-run pages; root in CI needs --no-sandbox. */
export const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

export async function launchChromium (): Promise<Browser> {
  return await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS })
}
