// Builds static/vendor/uppy/ (the upload widget) and static/vendor/autocomplete/ (the country
// search) from src/: each bundle, its CSS and the licence notices of everything bundled.
// Run with `npm ci && npm run build` in frontend/; commit the output.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

import * as esbuild from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..");
const out = path.resolve(root, "../static/vendor/uppy");

const common = { bundle: true, minify: true, legalComments: "none", logLevel: "info", absWorkingDir: root };

// One bundle per widget: its script, its CSS and the licence notices of everything in them.
async function widget({ dir, js, css, jsOut, cssOut }) {
  const out = path.resolve(root, "../static/vendor", dir);
  const script = await esbuild.build({
    ...common,
    entryPoints: [js],
    outfile: path.join(out, jsOut),
    format: "iife",
    target: "es2022",
    metafile: true,
  });
  const style = await esbuild.build({ ...common, entryPoints: [css], outfile: path.join(out, cssOut), metafile: true });

  // One notice per package that ended up in the output (MIT and ISC licences ask for it).
  const packages = new Map();
  for (const input of [...Object.keys(script.metafile.inputs), ...Object.keys(style.metafile.inputs)]) {
    const match = input.match(/^(.*node_modules\/((?:@[^/]+\/)?[^/]+))\//);
    if (match) packages.set(match[2], path.join(root, match[1]));
  }
  const notices = [`Third-party software in ${jsOut} and ${cssOut} (built by frontend/scripts/build.mjs).`, ""];
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
  console.log(`${dir}/LICENSES.txt: ${packages.size} packages`);
}

await widget({ dir: "uppy", js: "src/upload.js", css: "src/upload.css", jsOut: "upload.bundle.js", cssOut: "uppy.min.css" });
await widget({
  dir: "autocomplete",
  js: "src/autocomplete.js",
  css: "src/autocomplete.css",
  jsOut: "autocomplete.bundle.js",
  cssOut: "autocomplete.min.css",
});
