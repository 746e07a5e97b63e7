/**
 * Charts drawn on the server as SVG (Vega-Lite compiled to Vega, rendered headless with `toSVG`): the
 * printed report needs no script and no CDN, and the numbers are in the page as the server computed
 * them. Each mark carries an aria-label ("Level: HIGH; Exposures: 3"), which screen readers read and the
 * browser test counts.
 */
import * as vega from 'vega';
import { compile, TopLevelSpec } from 'vega-lite';
import { ExposureLevel } from '../exposure/exposure.entity';

const LEVEL_COLOURS: Record<ExposureLevel, string> = {
  CRITICAL: '#8b0000',
  HIGH: '#d9480f',
  MEDIUM: '#e8a800',
  LOW: '#5c7c8a',
};

async function toSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** One bar per level, every level shown (a zero is a figure too), most severe first. */
export function exposuresByLevelChart(
  byLevel: { level: ExposureLevel; exposures: number }[],
): Promise<string> {
  return toSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: 360,
    height: 180,
    data: { values: byLevel.map((b) => ({ Level: b.level, Exposures: b.exposures })) },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'Level', type: 'nominal', sort: byLevel.map((b) => b.level), axis: { labelAngle: 0 } },
      y: { field: 'Exposures', type: 'quantitative', axis: { tickMinStep: 1 } },
      color: {
        field: 'Level',
        type: 'nominal',
        scale: { domain: byLevel.map((b) => b.level), range: byLevel.map((b) => LEVEL_COLOURS[b.level]) },
        legend: null,
      },
    },
    config: { font: 'sans-serif', view: { stroke: null } },
  });
}

export interface TimelineEvent {
  /** "Incident" or "Obligations": the row the point sits on. */
  lane: string;
  what: string;
  at: Date;
}

/** One point per event on a UTC time axis, the incident's moments on one row and obligations due on the other. */
export function timelineChart(events: TimelineEvent[]): Promise<string> {
  return toSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: 640,
    height: 90,
    data: { values: events.map((e) => ({ Lane: e.lane, Event: e.what, When: e.at.toISOString() })) },
    mark: { type: 'point', filled: true, size: 90 },
    encoding: {
      x: {
        field: 'When',
        type: 'temporal',
        // Padding keeps the first and last points clear of the plot's edges.
        scale: { type: 'utc', padding: 16 },
        // A utc scale formats its labels in UTC (the register's times are UTC instants).
        axis: { format: '%d %b %Y', labelAngle: 0, title: null },
      },
      y: { field: 'Lane', type: 'nominal', sort: ['Incident', 'Obligations'], title: null },
      color: {
        field: 'Lane',
        type: 'nominal',
        scale: { domain: ['Incident', 'Obligations'], range: ['#1f4e79', '#d9480f'] },
        legend: null,
      },
      tooltip: [
        { field: 'Event' },
        {
          field: 'When',
          type: 'temporal',
          timeUnit: 'utcyearmonthdatehoursminutes',
          format: '%Y-%m-%d %H:%M',
        },
      ],
    },
    config: { font: 'sans-serif', view: { stroke: null } },
  });
}
