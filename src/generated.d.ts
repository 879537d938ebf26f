// Modules the build generates (pkg.config.json bundle.generated): they exist only in the bundle.
declare module 'meshctl:oclif-manifest' {
  import type * as Interfaces from '@oclif/core/interfaces';
  const manifest: Interfaces.Manifest;
  export default manifest;
}

declare module 'meshctl:sea-parts' {
  /** The names of the assets of each part of the application in the single executable
   * (scripts/build.js, pkg.config.json "parts"; src/commands/parts.ts). */
  const parts: Record<'cli' | 'app', { source: string; codeCache: string }>;
  export default parts;
}
