// Modules the build generates (pkg.config.json bundle.generated): they exist only in the bundle.
declare module 'meshctl:oclif-manifest' {
  import type { Interfaces } from '@oclif/core';
  const manifest: Interfaces.Manifest;
  export default manifest;
}

declare module 'meshctl:sea-app' {
  /** The names of the application's assets in the single executable (scripts/build.js). */
  const app: { source: string; codeCache: string };
  export default app;
}
