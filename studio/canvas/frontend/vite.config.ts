// Builds the canvas as one minified ES module plus one stylesheet with fixed
// names (assets/canvas/index.js, index.css), so the committed bundle diffs
// cleanly and `make canvas-check` can tell when it is stale. Python reads both
// files and passes them inline to st.components.v2.component.
//
// Not Vite's library mode: it leaves ES output unminified for re-bundling,
// while ours is loaded as-is by the browser.
import { fileURLToPath } from "node:url";

import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const outDir = fileURLToPath(new URL("../../../assets/canvas", import.meta.url));
const entry = fileURLToPath(new URL("src/index.tsx", import.meta.url));

export default defineConfig({
  plugins: [react()],
  base: "./",
  build: {
    outDir,
    emptyOutDir: true,
    target: "es2020",
    sourcemap: false,
    minify: true,
    cssMinify: true,
    cssCodeSplit: false,
    modulePreload: false,
    reportCompressedSize: false,
    rolldownOptions: {
      input: entry,
      preserveEntrySignatures: "exports-only",
      output: {
        format: "es",
        entryFileNames: "index.js",
        assetFileNames: "index[extname]",
        codeSplitting: false,
      },
    },
  },
});
