export default async function globalTeardown(): Promise<void> {
  await globalThis.__SSEHUB_REDIS__?.stop();
}
