// One source, two bundles: mode "v2" builds the ES module that Streamlit's
// components v2 mount inline; mode "v1" builds the script of the iframe page
// (public-v1/index.html) for Streamlit versions before components v2.
// ST_MEMWATCH_BUILD_DIR builds elsewhere (the Makefile's staleness check compares
// that build with the committed one); file names carry no hash, so builds compare.
import { resolve } from "node:path"
import { transform } from "esbuild"
import { defineConfig, type Plugin } from "vite"

function minifyChunk(): Plugin {
  return {
    name: "st-memwatch-minify-es",
    enforce: "post",
    async generateBundle(_options, bundle) {
      for (const chunk of Object.values(bundle)) {
        if (chunk.type === "chunk") chunk.code = (await transform(chunk.code, { minify: true, format: "esm", target: "es2020" })).code
      }
    },
  }
}

export default defineConfig(({ command, mode }) => {
  if (command === "serve") {
    // `npm run dev`: the sources live for the v1 iframe (/dev-v1.html), with
    // ST_MEMWATCH_GAUGE_DEV=http://localhost:5173 in the app's environment.
    return { server: { port: 5173, strictPort: true } }
  }
  if (mode !== "v1" && mode !== "v2") {
    throw new Error(`build with --mode v1 or --mode v2, not ${mode}`)
  }
  const root = process.env.ST_MEMWATCH_BUILD_DIR ?? resolve(__dirname, "../st_memwatch/ui/frontend_build")
  return {
    // Components v2 send the module's text with every rerun's element, and Vite leaves an ES
    // library's whitespace in place (for later tree-shaking, of which the gauge needs none):
    // the finished chunk is minified whole.
    plugins: mode === "v2" ? [minifyChunk()] : [],
    publicDir: mode === "v1" ? resolve(__dirname, "public-v1") : false,
    build: {
      outDir: resolve(root, mode),
      emptyOutDir: true,
      target: "es2020",
      minify: true,
      reportCompressedSize: false,
      lib: {
        entry: resolve(__dirname, `src/${mode}.ts`),
        formats: [mode === "v2" ? "es" : "iife"],
        name: "stMemwatchGauge",
        fileName: () => "gauge.js",
      },
    },
  }
})
