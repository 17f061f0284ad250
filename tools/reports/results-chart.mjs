// results-chart.mjs OUT.svg DATASET... - test NDCG@10 per model (mean, whisker = sample std over
// seeds) for each dataset's results/DATASET/results.json, one panel per dataset, as a plain SVG.
// Rows that were not run are left out of the chart (results.md lists them as "not run").
import fs from 'node:fs';
import path from 'node:path';

const [out, ...datasets] = process.argv.slice(2);
if (!out || !datasets.length) {
  console.error('usage: node results-chart.mjs OUT.svg DATASET...');
  process.exit(2);
}
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const panels = [];
for (const ds of datasets) {
  const f = path.join(root, 'results', ds, 'results.json');
  if (!fs.existsSync(f)) continue;
  const j = JSON.parse(fs.readFileSync(f, 'utf8'));
  const rows = j.rows.filter((r) => r.n > 0).map((r) => ({
    name: r.row, mean: r.test.mean['NDCG@10'], std: r.test.std['NDCG@10'], n: r.n,
    det: r.seeds && r.seeds[0] === 'deterministic',
  }));
  if (rows.length) panels.push({ ds, rows });
}
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');
const colour = (name) => name === 'mdsrec' ? '#c2410c' : name === 'sasrec' || name === 'sasrecf' ? '#1d4ed8'
  : name === 'pop' || name === 'itemknn' ? '#6b7280' : '#f59e0b';
// the label column fits the longest row name (about 7 px a character at the chart's font size)
const longest = Math.max(0, ...panels.flatMap((p) => p.rows.map((r) => String(r.name).length)));
const W = 720, label = Math.max(110, 7 * longest + 12), right = 130, barH = 14, gap = 4, head = 26;
const plotW = W - label - right;
let y = 40;
const parts = [];
for (const p of panels) {
  const max = Math.max(...p.rows.map((r) => r.mean + r.std)) * 1.1;
  const x = (v) => label + (v / max) * plotW;
  parts.push(`<text x="10" y="${y + 14}" font-weight="bold">${esc(p.ds)}</text>`);
  y += head;
  const top = y;
  for (const r of p.rows) {
    parts.push(`<text x="${label - 6}" y="${y + barH - 3}" text-anchor="end">${esc(r.name)}</text>`);
    parts.push(`<rect x="${label}" y="${y}" width="${(x(r.mean) - label).toFixed(1)}" height="${barH}" fill="${colour(r.name)}"/>`);
    if (r.n > 1) {
      const a = x(Math.max(0, r.mean - r.std)), b = x(r.mean + r.std), m = y + barH / 2;
      parts.push(`<path d="M${a.toFixed(1)} ${m}H${b.toFixed(1)}M${a.toFixed(1)} ${m - 4}V${m + 4}M${b.toFixed(1)} ${m - 4}V${m + 4}" stroke="#111" fill="none"/>`);
    }
    parts.push(`<text x="${(x(r.mean + r.std) + 6).toFixed(1)}" y="${y + barH - 3}">${r.mean.toFixed(4)}${r.n > 1 ? ` ± ${r.std.toFixed(4)}` : ''} (${r.det ? 'deterministic' : r.n === 1 ? '1 seed' : r.n + ' seeds'})</text>`);
    y += barH + gap;
  }
  parts.push(`<line x1="${label}" y1="${top - 2}" x2="${label}" y2="${y}" stroke="#111"/>`);
  y += 14;
}
const H = y + 10;
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">
<rect width="${W}" height="${H}" fill="#fff"/>
<text x="10" y="20" font-size="13" font-weight="bold">Test NDCG@10 (full ranking, leave-one-out; whisker: std over seeds)</text>
${parts.join('\n')}
</svg>
`;
fs.writeFileSync(out, svg);
console.log(`${out}: ${panels.length} panels`);
