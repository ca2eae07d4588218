// The web UI's build: Vite bundles web/src into dist/web (hashed files under assets/), which the
// orchestrator serves at `/`. No inline scripts or styles (the server's CSP forbids them), and the
// module-preload polyfill (an inline script) is off.
import { defineConfig } from "vite";

export default defineConfig({
  root: import.meta.dirname,
  base: "/",
  build: {
    outDir: "../dist/web",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
    sourcemap: false,
  },
});
