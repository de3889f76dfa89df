// Bundles the two entry points and copies the stylesheet; nginx serves dist/ as /static/livehelp/.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = fileURLToPath(new URL(".", import.meta.url));

await mkdir(`${here}dist`, { recursive: true });
await build({
  absWorkingDir: here,
  entryPoints: ["src/widget.ts", "src/monitor.ts"],
  outdir: "dist",
  bundle: true,
  minify: true,
  // An IIFE keeps the widget's names out of the host page's global scope.
  format: "iife",
  target: "es2020",
  logLevel: "info",
});
// One stylesheet for the pages: livehelp.css, then the screen mirror's (mirror.css).
const css = await Promise.all(["livehelp.css", "mirror.css"].map((f) => readFile(`${here}src/${f}`, "utf8")));
await writeFile(`${here}dist/livehelp.css`, css.join("\n"));
