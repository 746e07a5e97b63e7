// elkjs's bundled build runs the layout in this process (no worker thread, no browser): what a server needs.
import ELK from 'elkjs/lib/elk.bundled.js';
import type { ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api';

/**
 * A picture's content before layout: nodes (suppliers and clients, by global id) and labelled links. The
 * services build one from what the viewer may see; this file only draws it, so nothing here decides
 * visibility.
 */
export type PictureNodeKind = 'supplier' | 'client';

export interface PictureNode {
  /** The node's global id (Supplier:… or Client:…), written on the drawing as data-node-id. */
  id: string;
  kind: PictureNodeKind;
  label: string;
  /** A second line under the label (a tier, a score). */
  detail?: string;
  /** The supplier the picture is about (the chain's supplier, the incident's supplier). */
  focus?: boolean;
  /** An exposed client's exposure level: its fill colour. */
  level?: 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';
}

export interface PictureEdge {
  from: string;
  to: string;
  label: string;
}

export interface PictureGraph {
  title: string;
  /** One line under the title: what is drawn and what is left out (never another client's figures). */
  caption: string;
  nodes: PictureNode[];
  edges: PictureEdge[];
}

const FONT_SIZE = 12;
/** Width of a character at FONT_SIZE in the sans-serif fonts browsers pick: an estimate, so boxes are padded. */
const CHAR_WIDTH = 7.6;
const NODE_HEIGHT = 42;
const PADDING = 16;
const TITLE_HEIGHT = 52;
const LEGEND_HEIGHT = 34;

export const LEVEL_COLOURS: Record<NonNullable<PictureNode['level']>, string> = {
  CRITICAL: '#b91c1c',
  HIGH: '#ea580c',
  MEDIUM: '#ca8a04',
  LOW: '#4d7c0f',
};
const SUPPLIER_FILL = '#e0e7ff';
const CLIENT_FILL = '#f1f5f9';

export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!,
  );
}

/** Long names are cut, so one supplier called by its full legal name does not stretch the whole picture. */
function shorten(text: string, max = 40): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function textWidth(text: string): number {
  return text.length * CHAR_WIDTH;
}

const elk = new ELK();

/**
 * Lays the graph out (elkjs, layered, left to right: clients, then the suppliers they contract with,
 * then those suppliers' sub-processors) and draws it as a standalone SVG. Every node is a
 * `<g class="node" data-node-id="…" data-node-kind="…">`, every link a `<g class="edge" data-from data-to>`
 * with its label as text, so tests (and people with a screen reader) can read the drawing.
 */
export async function renderSvg(graph: PictureGraph): Promise<string> {
  const known = new Set(graph.nodes.map((n) => n.id));
  const edges = graph.edges.filter((e) => known.has(e.from) && known.has(e.to));
  const input: ElkNode = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.edgeLabels.inline': 'false',
      'elk.layered.spacing.nodeNodeBetweenLayers': '70',
      'elk.spacing.nodeNode': '18',
      'elk.spacing.edgeLabel': '4',
      'elk.padding': `[top=${PADDING},left=${PADDING},bottom=${PADDING},right=${PADDING}]`,
    },
    children: graph.nodes.map((node) => ({
      id: node.id,
      width: Math.max(textWidth(shorten(node.label)), textWidth(node.detail ?? ''), 80) + 2 * PADDING,
      height: NODE_HEIGHT,
    })),
    edges: edges.map((edge, i): ElkExtendedEdge => ({
      id: `e${i}`,
      sources: [edge.from],
      targets: [edge.to],
      labels: [{ text: edge.label, width: textWidth(edge.label) + 8, height: FONT_SIZE + 4 }],
    })),
  };
  const layout = await elk.layout(input);
  const byId = new Map((layout.children ?? []).map((child) => [child.id, child]));
  const width = Math.max(layout.width ?? 0, 420);
  const height = (layout.height ?? 0) + TITLE_HEIGHT + LEGEND_HEIGHT;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="${FONT_SIZE}" role="img" aria-labelledby="picture-title">`,
    `<title id="picture-title">${escapeXml(graph.title)}</title>`,
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#475569"/></marker></defs>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${PADDING}" y="22" font-size="16" font-weight="600">${escapeXml(graph.title)}</text>`,
    `<text x="${PADDING}" y="42" fill="#475569">${escapeXml(graph.caption)}</text>`,
    `<g transform="translate(0 ${TITLE_HEIGHT})">`,
  );
  for (const [i, edge] of (layout.edges ?? []).entries()) parts.push(drawEdge(edge, edges[i]));
  for (const node of graph.nodes) parts.push(drawNode(node, byId.get(node.id)!));
  parts.push('</g>', drawLegend(height - LEGEND_HEIGHT + 8), '</svg>');
  return parts.join('\n');
}

function drawEdge(laid: ElkExtendedEdge, edge: PictureEdge): string {
  const points = (laid.sections ?? []).flatMap((section) => [
    section.startPoint,
    ...(section.bendPoints ?? []),
    section.endPoint,
  ]);
  const d = points.map((p, i) => `${i ? 'L' : 'M'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
  const label = laid.labels?.[0];
  const labelSvg =
    label && label.x !== undefined && label.y !== undefined
      ? `<rect x="${label.x}" y="${label.y}" width="${label.width}" height="${label.height}" fill="#ffffff" opacity="0.85"/>` +
        `<text class="edge-label" x="${label.x + 4}" y="${label.y + FONT_SIZE}" fill="#334155">${escapeXml(edge.label)}</text>`
      : '';
  return `<g class="edge" data-from="${escapeXml(edge.from)}" data-to="${escapeXml(edge.to)}"><path d="${d}" fill="none" stroke="#475569" stroke-width="1.3" marker-end="url(#arrow)"/>${labelSvg}</g>`;
}

function drawNode(node: PictureNode, laid: ElkNode): string {
  const x = laid.x ?? 0;
  const y = laid.y ?? 0;
  const w = laid.width ?? 0;
  const h = laid.height ?? 0;
  const fill = node.level ? LEVEL_COLOURS[node.level] : node.kind === 'client' ? CLIENT_FILL : SUPPLIER_FILL;
  const ink = node.level ? '#ffffff' : '#0f172a';
  const stroke = node.focus ? '#b91c1c' : '#64748b';
  const rx = node.kind === 'client' ? 4 : 14;
  const attributes = [
    `class="node ${node.kind}${node.focus ? ' focus' : ''}"`,
    `data-node-id="${escapeXml(node.id)}"`,
    `data-node-kind="${node.kind}"`,
    node.level ? `data-level="${node.level}"` : '',
  ]
    .filter(Boolean)
    .join(' ');
  const label = shorten(node.label);
  const lines = node.detail
    ? `<text x="${x + w / 2}" y="${y + 18}" text-anchor="middle" fill="${ink}" font-weight="600">${escapeXml(label)}</text>` +
      `<text x="${x + w / 2}" y="${y + 33}" text-anchor="middle" fill="${ink}" font-size="11">${escapeXml(node.detail)}</text>`
    : `<text x="${x + w / 2}" y="${y + h / 2 + 4}" text-anchor="middle" fill="${ink}" font-weight="600">${escapeXml(label)}</text>`;
  return `<g ${attributes}><title>${escapeXml(node.label)}</title><rect x="${x}" y="${y}" width="${w}" height="${h}" rx="${rx}" fill="${fill}" stroke="${stroke}" stroke-width="${node.focus ? 3 : 1.2}"/>${lines}</g>`;
}

function drawLegend(y: number): string {
  const items: string[] = [];
  let x = PADDING;
  const swatch = (fill: string, text: string, rx: number) => {
    items.push(
      `<rect x="${x}" y="${y}" width="14" height="14" rx="${rx}" fill="${fill}" stroke="#64748b"/>`,
      `<text x="${x + 19}" y="${y + 11}" fill="#334155">${escapeXml(text)}</text>`,
    );
    x += 19 + textWidth(text) + 14;
  };
  swatch(SUPPLIER_FILL, 'supplier', 7);
  swatch(CLIENT_FILL, 'client', 2);
  for (const [level, colour] of Object.entries(LEVEL_COLOURS)) swatch(colour, level.toLowerCase(), 2);
  return `<g class="legend">${items.join('')}</g>`;
}

/**
 * The small HTML page around a picture (the SVG carries its own title and caption, scaled to the window): the SVG inline (no script, no request of its own, so it shows the
 * same from a `blob:` URL GraphiQL opens) and the caption.
 */
export function pictureHtml(graph: PictureGraph, svg: string): string {
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="referrer" content="no-referrer" />
    <title>${escapeXml(graph.title)} · Supplier risk register</title>
    <style>body { margin: 1rem; } svg { max-width: 100%; height: auto; }</style>
  </head>
  <body>
    <main>
${svg}
    </main>
  </body>
</html>
`;
}
