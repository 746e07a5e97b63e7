import type { IncidentEntity } from '../incident/incident.entity';

/**
 * The board report's exposure map slot. No picture module exists yet (the SVG exposure map is being built
 * beside this one), so the section is left out; once one lands, this returns its SVG for the incident,
 * drawn for the same viewer.
 */
export async function exposureMapSlot(_context: unknown, _incident: IncidentEntity): Promise<string | null> {
  return null;
}
