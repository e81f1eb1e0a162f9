// Builds static/vendor/uppy/ from src/: the upload widget bundle, its CSS and the licence notices
// of everything bundled. Run with `npm ci && npm run build` in frontend/; commit the output.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

import * as esbuild from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..");
const out = path.resolve(root, "../static/vendor/uppy");

const common = { bundle: true, minify: true, legalComments: "none", logLevel: "info", absWorkingDir: root };

const js = await esbuild.build({
  ...common,
  entryPoints: ["src/upload.js"],
  outfile: path.join(out, "upload.bundle.js"),
  format: "iife",
  target: "es2022",
  metafile: true,
});
const css = await esbuild.build({
  ...common,
  entryPoints: ["src/upload.css"],
  outfile: path.join(out, "uppy.min.css"),
  metafile: true,
});

// One notice per package that ended up in the output (MIT and ISC licences ask for it).
const packages = new Map();
for (const input of [...Object.keys(js.metafile.inputs), ...Object.keys(css.metafile.inputs)]) {
  const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (match) packages.set(match[1], path.join(root, "node_modules", match[1]));
}
const notices = [
  "Third-party software in upload.bundle.js and uppy.min.css (built by frontend/scripts/build.mjs).",
  "",
];
for (const [name, dir] of [...packages].sort()) {
  const meta = JSON.parse(await readFile(path.join(dir, "package.json"), "utf8"));
  let text = "";
  for (const file of ["LICENSE", "LICENSE.md", "LICENSE.txt", "license", "license.md"]) {
    text = await readFile(path.join(dir, file), "utf8").catch(() => "");
    if (text) break;
  }
  const author = typeof meta.author === "object" ? meta.author?.name : meta.author;
  const fallback = `The package ships no licence file; its package.json says: ${meta.license}` +
    (author ? `, Copyright (c) ${author}.` : ".");
  notices.push("=".repeat(72), `${name}@${meta.version} (${meta.license})`, "=".repeat(72), text.trim() || fallback, "");
}
await writeFile(path.join(out, "LICENSES.txt"), notices.join("\n"));
console.log(`LICENSES.txt: ${packages.size} packages`);
