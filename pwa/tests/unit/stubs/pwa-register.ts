// Stand-in for vite-plugin-pwa's virtual module, which exists only inside a Vite build with the PWA plugin.
export function registerSW(): never {
  throw new Error('virtual:pwa-register is not available in unit tests; inject a register function')
}
