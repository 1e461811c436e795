// Builds ../dist/graphiql.js and ../dist/graphiql.css (one minified file each)
// plus ../dist/THIRD_PARTY_LICENSES.txt. Run with `npm run build`.
import * as esbuild from 'esbuild';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const outdir = join(here, '..', 'dist');

rmSync(outdir, { recursive: true, force: true });

const result = await esbuild.build({
  absWorkingDir: here,
  entryPoints: { graphiql: 'src/main.jsx' },
  outdir,
  bundle: true,
  minify: true,
  format: 'iife',
  platform: 'browser',
  target: ['chrome109', 'edge109', 'firefox115', 'safari15.6'],
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"' },
  // Fonts and images referenced from CSS are inlined (the CSP allows data:).
  loader: { '.woff': 'dataurl', '.woff2': 'dataurl', '.ttf': 'dataurl', '.svg': 'dataurl', '.png': 'dataurl' },
  legalComments: 'none', // collected in THIRD_PARTY_LICENSES.txt instead
  charset: 'utf8',
  metafile: true,
  logLevel: 'warning',
});

// GraphiQL's CSS inlines Roboto and Fira Code for seven Unicode subsets
// (about 350 kB of base64). Keep only the Latin and Latin Extended faces: text
// in other scripts falls back to the system fonts, as GraphiQL's own font
// stacks intend.
const cssFile = join(outdir, 'graphiql.css');
const css = readFileSync(cssFile, 'utf8').replace(/@font-face\{[^}]*\}/g, (face) => {
  const range = face.match(/unicode-range:([^;}]*)/);
  return !range || covers(range[1], 0x41) || covers(range[1], 0x141) ? face : '';
});
writeFileSync(cssFile, css);

// covers reports whether a CSS unicode-range value includes code point cp.
function covers(unicodeRange, cp) {
  return unicodeRange.split(',').some((part) => {
    const [lo, hi = lo] = part.trim().replace(/^U\+/i, '').split('-');
    if (lo.includes('?')) {
      return parseInt(lo.replace(/\?/g, '0'), 16) <= cp && cp <= parseInt(lo.replace(/\?/g, 'F'), 16);
    }
    return parseInt(lo, 16) <= cp && cp <= parseInt(hi, 16);
  });
}

// Collect the license of every npm package that ended up in the bundle.
const packages = new Map();
for (const input of Object.keys(result.metafile.inputs)) {
  const m = input.match(/^(.*node_modules\/((?:@[^/]+\/)?[^/]+))\//);
  if (m && !packages.has(m[2])) packages.set(m[2], join(here, m[1]));
}
const notices = [...packages.keys()].sort().map((name) => {
  const dir = packages.get(name);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const file = readdirSync(dir).find((f) => /^(licen[sc]e|copying)(\..*)?$/i.test(f));
  const text = file ? readFileSync(join(dir, file), 'utf8').trim() : `License: ${pkg.license ?? 'unknown'}`;
  return `${name}@${pkg.version} (${pkg.license ?? 'unknown'})\n\n${text}\n`;
});
writeFileSync(
  join(outdir, 'THIRD_PARTY_LICENSES.txt'),
  'Third-party software bundled into graphiql.js and graphiql.css.\n\n' +
    "graphiql.css also embeds, through GraphiQL's stylesheet, the fonts Roboto\n" +
    '(Apache License 2.0) and Fira Code (SIL Open Font License 1.1).\n\n' +
    notices.join('\n' + '-'.repeat(72) + '\n\n'),
);

for (const f of ['graphiql.js', 'graphiql.css']) {
  const data = readFileSync(join(outdir, f));
  const kB = (n) => `${(n / 1000).toFixed(0)} kB`;
  console.log(`dist/${f}: ${kB(data.length)}, ${kB(gzipSync(data, { level: 9 }).length)} gzipped`);
}
