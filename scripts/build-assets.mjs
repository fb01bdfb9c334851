// Builds static/build/: the service's CSS (GOV.UK Frontend compiled with the service's settings),
// GOV.UK Frontend's JavaScript, and the images and fonts it refers to. Run with `npm run build`.
import { copyFileSync, cpSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as sass from "sass";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const govuk = join(root, "node_modules", "govuk-frontend", "dist", "govuk");
const out = join(root, "static", "build");

mkdirSync(out, { recursive: true });
const result = sass.compile(join(root, "static", "src", "app.scss"), {
  loadPaths: [join(root, "node_modules")],
  style: "compressed",
  quietDeps: true,
  silenceDeprecations: ["import"],
});
writeFileSync(join(out, "app.css"), result.css);
copyFileSync(join(govuk, "govuk-frontend.min.js"), join(out, "govuk-frontend.min.js"));
mkdirSync(join(out, "assets"), { recursive: true });
cpSync(join(govuk, "assets", "images"), join(out, "assets", "images"), { recursive: true });
console.log(`Built ${out}`);
