import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The typed client is used from its source (../clients/typescript/src, whose schema.d.ts `make client`
// generates from openapi.json); its one runtime dependency, openapi-fetch, comes from this package.
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  plugins: [react()],
  base: "./",
  resolve: {
    alias: {
      "@commerce/client": here("../clients/typescript/src/index.ts"),
      "openapi-fetch": here("./node_modules/openapi-fetch"),
    },
  },
  build: { target: "es2022", sourcemap: false, chunkSizeWarningLimit: 600 },
});
