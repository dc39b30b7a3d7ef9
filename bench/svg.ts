// A small hand-rolled line chart: enough for two figures, no chart library.

export interface Point {
  x: number;
  y: number;
  label?: string;
}
export interface Series {
  name: string;
  color: string;
  points: Point[];
}
export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  xLog?: boolean;
  /** Dashed reference lines, e.g. a goal or a threshold. */
  xMarks?: { at: number; label: string }[];
  yMarks?: { at: number; label: string }[];
  width?: number;
  height?: number;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (v: number) =>
  Math.abs(v) >= 1000 ? `${Math.round(v / 100) / 10}k` : `${Math.round(v * 1000) / 1000}`;

/** Ticks at 1-2-5 steps (linear) or powers of ten (log). */
function ticks(min: number, max: number, log: boolean): number[] {
  if (log) {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
      for (const m of [1, 3]) {
        const v = m * 10 ** e;
        if (v >= min && v <= max) out.push(v);
      }
    }
    return out;
  }
  const span = max - min || 1;
  const raw = span / 8;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step)
    out.push(Number(v.toPrecision(12)));
  return out;
}

/** An SVG document (a string) plotting every series as a line with labelled points. */
export function lineChart(spec: ChartSpec): string {
  const W = spec.width ?? 640;
  const H = spec.height ?? 400;
  const m = { left: 64, right: 24, top: 40, bottom: 72 };
  const pts = spec.series
    .flatMap((s) => s.points)
    .filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const xs = [...pts.map((p) => p.x), ...(spec.xMarks ?? []).map((k) => k.at)];
  const ys = [...pts.map((p) => p.y), ...(spec.yMarks ?? []).map((k) => k.at)];
  const log = spec.xLog ?? false;
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  if (log) [x0, x1] = [x0 / 1.5, x1 * 1.5];
  else {
    const pad = (x1 - x0 || Math.abs(x1) || 1) * 0.08;
    [x0, x1] = [x0 - pad, x1 + pad];
  }
  const y0 = Math.min(0, ...ys);
  const y1 = Math.max(...ys) * 1.1 || 1;
  const fx = (x: number) =>
    m.left +
    ((log ? Math.log10(x) - Math.log10(x0) : x - x0) / (log ? Math.log10(x1 / x0) : x1 - x0)) *
      (W - m.left - m.right);
  const fy = (y: number) => H - m.bottom - ((y - y0) / (y1 - y0)) * (H - m.top - m.bottom);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(spec.title)}</text>`,
  ];
  for (const t of ticks(x0, x1, log)) {
    const x = fx(t).toFixed(1);
    out.push(
      `<line x1="${x}" y1="${m.top}" x2="${x}" y2="${H - m.bottom}" stroke="#eee"/>`,
      `<text x="${x}" y="${H - m.bottom + 16}" text-anchor="middle">${fmt(t)}</text>`,
    );
  }
  for (const t of ticks(y0, y1, false)) {
    const y = fy(t).toFixed(1);
    out.push(
      `<line x1="${m.left}" y1="${y}" x2="${W - m.right}" y2="${y}" stroke="#eee"/>`,
      `<text x="${m.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${fmt(t)}</text>`,
    );
  }
  out.push(
    `<line x1="${m.left}" y1="${H - m.bottom}" x2="${W - m.right}" y2="${H - m.bottom}" stroke="black"/>`,
    `<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${H - m.bottom}" stroke="black"/>`,
    `<text x="${(m.left + W - m.right) / 2}" y="${H - m.bottom + 36}" text-anchor="middle">${esc(spec.xLabel)}</text>`,
    `<text transform="translate(16 ${(m.top + H - m.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(spec.yLabel)}</text>`,
  );
  for (const k of spec.xMarks ?? []) {
    const x = fx(k.at).toFixed(1);
    out.push(
      `<line x1="${x}" y1="${m.top}" x2="${x}" y2="${H - m.bottom}" stroke="#999" stroke-dasharray="5 4"/>`,
      `<text x="${x}" y="${m.top - 4}" text-anchor="middle" fill="#666">${esc(k.label)}</text>`,
    );
  }
  for (const k of spec.yMarks ?? []) {
    const y = fy(k.at).toFixed(1);
    out.push(
      `<line x1="${m.left}" y1="${y}" x2="${W - m.right}" y2="${y}" stroke="#999" stroke-dasharray="5 4"/>`,
      `<text x="${W - m.right - 4}" y="${Number(y) - 4}" text-anchor="end" fill="#666">${esc(k.label)}</text>`,
    );
  }
  spec.series.forEach((s, i) => {
    const ps = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
    const path = ps.map((p) => `${fx(p.x).toFixed(1)},${fy(p.y).toFixed(1)}`).join(' ');
    out.push(`<polyline points="${path}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    ps.forEach((p, k) => {
      const [x, y] = [fx(p.x).toFixed(1), fy(p.y).toFixed(1)];
      out.push(`<circle cx="${x}" cy="${y}" r="3.5" fill="${s.color}"/>`);
      // Alternate above and below, so neighbours that nearly coincide stay readable.
      const ty = Number(y) + (k % 2 === 0 ? -8 : 16);
      if (p.label)
        out.push(`<text x="${x}" y="${ty}" text-anchor="middle" fill="${s.color}">${esc(p.label)}</text>`);
    });
    const ly = H - 18;
    const lx = m.left + (i * (W - m.left - m.right)) / spec.series.length;
    out.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" stroke="${s.color}" stroke-width="2"/>`,
      `<text x="${lx + 30}" y="${ly}" dominant-baseline="middle">${esc(s.name)}</text>`,
    );
  });
  out.push('</svg>', '');
  return out.join('\n');
}
