// Copies the parts of the French State design system (npm @gouvfr/dsfr) that
// Vigie serves into internal/web/static/dsfr, where go:embed picks them up.
// Run by `npm ci` (postinstall). Nothing is fetched at run time.
import { cpSync, rmSync, mkdirSync, existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

const src = join("node_modules", "@gouvfr", "dsfr", "dist");
const dst = join("internal", "web", "static", "dsfr");
if (!existsSync(src)) {
  console.error(`copy-dsfr: ${src} is missing; run npm ci`);
  process.exit(1);
}
rmSync(dst, { recursive: true, force: true });
mkdirSync(dst, { recursive: true });
for (const f of ["dsfr.min.css", "dsfr.module.min.js", "dsfr.nomodule.min.js"]) {
  cpSync(join(src, f), join(dst, f));
}
// Icons (referenced by utility/icons/icons.min.css as ../../icons/...),
// the favicon set, and the Marianne fonts in woff2 only (every browser that
// runs the DSFR module reads woff2).
for (const d of ["icons", "favicon"]) {
  cpSync(join(src, d), join(dst, d), { recursive: true });
}
mkdirSync(join(dst, "fonts"), { recursive: true });
for (const f of readdirSync(join(src, "fonts")).filter((f) => f.endsWith(".woff2"))) {
  cpSync(join(src, "fonts", f), join(dst, "fonts", f));
}
mkdirSync(join(dst, "utility", "icons"), { recursive: true });
cpSync(join(src, "utility", "icons", "icons.min.css"), join(dst, "utility", "icons", "icons.min.css"));
console.log(`copy-dsfr: DSFR copied to ${dst}`);
